// The proof-of-GPU v1 matrix generator; mirrors packages/protocol/src/proof/generator.ts bit for bit.
#pragma once
#include <cstdint>

#include "sha256.cuh"

static const uint32_t kBMatrixIndex = 0xffffffffu;

struct Lanes {
  uint32_t lo, hi;
};

POGPU_HD uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

POGPU_HD uint32_t absorb(uint32_t h, uint32_t w) { return fmix32((h ^ w) + 0x9e3779b9u); }

inline Lanes seed_state(const uint8_t seed[32]) {
  Lanes s{0x243f6a88u, 0xb7e15162u};
  for (int t = 0; t < 8; ++t) {
    uint32_t w = (uint32_t)seed[4 * t] | ((uint32_t)seed[4 * t + 1] << 8) | ((uint32_t)seed[4 * t + 2] << 16) |
                 ((uint32_t)seed[4 * t + 3] << 24);
    s.lo = absorb(s.lo, w);
    s.hi = absorb(s.hi, w);
  }
  return s;
}

POGPU_HD Lanes row_key(Lanes s, uint32_t matrix, uint32_t row) {
  return Lanes{absorb(absorb(s.lo, matrix), row), absorb(absorb(s.hi, matrix), row)};
}

// Holds entries 4g .. 4g+3 of a row: entry 4g+b is bits 3..7 of byte b, minus 16.
POGPU_HD uint32_t group_word(Lanes key, uint32_t g) { return fmix32(fmix32(g ^ key.lo) + key.hi); }

POGPU_HD int entry_of(uint32_t word, uint32_t b) { return (int)((word >> (8 * b + 3)) & 31u) - 16; }

// SHA-256 for the proof-of-GPU prover, usable on the host and the device.
// Digests are kept as 8 big-endian state words; digest byte 4k+b is (h[k] >> (24 - 8b)) & 0xff.
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#define POGPU_HD __host__ __device__ __forceinline__
#else
#define POGPU_HD inline
#endif

__constant__ uint32_t kSha256K_dev[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t kSha256K_host[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

POGPU_HD uint32_t rotr32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

POGPU_HD void sha256_init(uint32_t h[8]) {
  h[0] = 0x6a09e667; h[1] = 0xbb67ae85; h[2] = 0x3c6ef372; h[3] = 0xa54ff53a;
  h[4] = 0x510e527f; h[5] = 0x9b05688c; h[6] = 0x1f83d9ab; h[7] = 0x5be0cd19;
}

// One compression of a 16-word big-endian block; w is clobbered (used as the rolling schedule).
POGPU_HD void sha256_compress(uint32_t h[8], uint32_t w[16]) {
#ifdef __CUDA_ARCH__
  const uint32_t* K = kSha256K_dev;
#else
  const uint32_t* K = kSha256K_host;
#endif
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
  for (int t = 0; t < 64; ++t) {
    uint32_t wt;
    if (t < 16) {
      wt = w[t];
    } else {
      uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
      uint32_t s0 = rotr32(w15, 7) ^ rotr32(w15, 18) ^ (w15 >> 3);
      uint32_t s1 = rotr32(w2, 17) ^ rotr32(w2, 19) ^ (w2 >> 10);
      wt = w[t & 15] = w[t & 15] + s0 + w[(t - 7) & 15] + s1;
    }
    uint32_t S1 = rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = hh + S1 + ch + K[t] + wt;
    uint32_t S0 = rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22);
    uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = S0 + mj;
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

POGPU_HD uint32_t bswap32(uint32_t x) {
#ifdef __CUDA_ARCH__
  return __byte_perm(x, 0, 0x0123);
#else
  return (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) | (x << 24);
#endif
}

// Inner node: SHA-256(0x01 || left || right). With V = [1, left words, right words], the 65-byte message is
// the word stream shifted right by one byte: W[t] = V[t] << 24 | V[t+1] >> 8.
POGPU_HD void sha256_node(const uint32_t* left, const uint32_t* right, uint32_t* out) {
  uint32_t v[17];
  v[0] = 1;
  for (int k = 0; k < 8; ++k) { v[1 + k] = left[k]; v[9 + k] = right[k]; }
  uint32_t h[8], w[16];
  sha256_init(h);
  for (int t = 0; t < 16; ++t) w[t] = (v[t] << 24) | (v[t + 1] >> 8);
  sha256_compress(h, w);
  w[0] = (v[16] << 24) | 0x00800000u;
  for (int t = 1; t < 15; ++t) w[t] = 0;
  w[15] = 65 * 8;
  sha256_compress(h, w);
  for (int k = 0; k < 8; ++k) out[k] = h[k];
}

// Leaf: SHA-256(0x00 || int32-LE row). The byte stream after the prefix is the big-endian words
// bswap(c[t]); the one-byte prefix shifts it right by a byte. n must be a multiple of 16, so the data fills
// n/16 whole blocks and one final block holds the last byte, the 0x80 pad and the bit length 8·(4n+1).
POGPU_HD void sha256_leaf_host_order(const int32_t* row, uint32_t n, uint32_t* out) {
  uint32_t h[8], w[16];
  sha256_init(h);
  uint32_t prev = 0;
  for (uint32_t t0 = 0; t0 < n; t0 += 16) {
    for (int t = 0; t < 16; ++t) {
      uint32_t cur = bswap32((uint32_t)row[t0 + t]);
      w[t] = (prev << 24) | (cur >> 8);
      prev = cur;
    }
    sha256_compress(h, w);
  }
  w[0] = (prev << 24) | 0x00800000u;
  for (int t = 1; t < 15; ++t) w[t] = 0;
  w[15] = (4u * n + 1u) * 8u;
  sha256_compress(h, w);
  for (int k = 0; k < 8; ++k) out[k] = h[k];
}

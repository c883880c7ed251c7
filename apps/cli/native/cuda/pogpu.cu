// Ignis proof-of-GPU prover for NVIDIA GPUs (specification: docs/proof-of-gpu.md).
//
//   pogpu serve                       line protocol on stdin/stdout (used by apps/cli/src/prover/cuda-prover.ts)
//   pogpu selftest FIXTURE.json       checks roots, rows and proofs against the shared test vectors
//   pogpu bench --n N --inner K --batch B [--precision int8|fp16] [--reps R] [--no-overlap]
//   pogpu info
//
// Pipeline of one commit: fill B^T once per (bSeed, n, inner); then per chunk of matrices fill A on the GPU,
// multiply with cuBLAS (int8 x int8 -> int32, or fp16 x fp16 -> fp32, both exact here), hash every row with
// SHA-256 on the GPU while the next chunk multiplies (two streams), and build the Merkle tree level by level.
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "generator.cuh"
#include "json.h"
#include "sha256.cuh"

#define CUDA_CHECK(x)                                                                                   \
  do {                                                                                                  \
    cudaError_t err_ = (x);                                                                             \
    if (err_ != cudaSuccess) throw std::runtime_error(std::string("CUDA: ") + cudaGetErrorString(err_)); \
  } while (0)
#define CUBLAS_CHECK(x)                                                                         \
  do {                                                                                          \
    cublasStatus_t st_ = (x);                                                                   \
    if (st_ != CUBLAS_STATUS_SUCCESS) throw std::runtime_error("cuBLAS status " + std::to_string((int)st_)); \
  } while (0)

enum class Precision { Int8, Fp16 };

// ---------------------------------------------------------------- kernels

template <typename T>
__device__ __forceinline__ T from_int(int v);
template <>
__device__ __forceinline__ int8_t from_int<int8_t>(int v) { return (int8_t)v; }
template <>
__device__ __forceinline__ __half from_int<__half>(int v) { return __int2half_rn(v); }

// Writes the 16 entries of group words w[0..3] with 16-byte stores. For int8 the four entries of a word are
// its bytes' bits 3..7 minus 16, i.e. a per-byte subtraction on (w >> 3) & 0x1f1f1f1f.
__device__ __forceinline__ void store16(int8_t* dst, const uint32_t w[4]) {
  uint4 v;
  v.x = __vsub4((w[0] >> 3) & 0x1f1f1f1fu, 0x10101010u);
  v.y = __vsub4((w[1] >> 3) & 0x1f1f1f1fu, 0x10101010u);
  v.z = __vsub4((w[2] >> 3) & 0x1f1f1f1fu, 0x10101010u);
  v.w = __vsub4((w[3] >> 3) & 0x1f1f1f1fu, 0x10101010u);
  *reinterpret_cast<uint4*>(dst) = v;
}
__device__ __forceinline__ void store16(__half* dst, const uint32_t w[4]) {
  __half2 h[8];
#pragma unroll
  for (int q = 0; q < 4; ++q) {
    h[2 * q] = __halves2half2(__int2half_rn(entry_of(w[q], 0)), __int2half_rn(entry_of(w[q], 1)));
    h[2 * q + 1] = __halves2half2(__int2half_rn(entry_of(w[q], 2)), __int2half_rn(entry_of(w[q], 3)));
  }
  reinterpret_cast<uint4*>(dst)[0] = *reinterpret_cast<uint4*>(&h[0]);
  reinterpret_cast<uint4*>(dst)[1] = *reinterpret_cast<uint4*>(&h[4]);
}

// One block per row. Chunk row r is row (r mod n) of matrix m0 + r / n, or, with a list, the listed row.
// inner is a multiple of 16, so every row starts 16-byte aligned and holds inner/16 whole stores.
template <typename T>
__global__ void fill_a_rows(T* out, Lanes seed, uint32_t m0, uint32_t n, uint32_t inner, const uint32_t* list) {
  uint64_t r = blockIdx.x;
  __shared__ Lanes key;
  if (threadIdx.x == 0) {
    uint32_t matrix = list ? list[2 * r] : m0 + (uint32_t)(r / n);
    uint32_t row = list ? list[2 * r + 1] : (uint32_t)(r % n);
    key = row_key(seed, matrix, row);
  }
  __syncthreads();
  T* dst = out + r * inner;
  for (uint32_t q = threadIdx.x; q < inner / 16; q += blockDim.x) {
    uint32_t w[4];
#pragma unroll
    for (uint32_t b = 0; b < 4; ++b) w[b] = group_word(key, 4 * q + b);
    store16(dst + 16 * q, w);
  }
}

__global__ void b_row_keys(Lanes bseed, uint32_t inner, Lanes* keys) {
  uint32_t l = blockIdx.x * blockDim.x + threadIdx.x;
  if (l < inner) keys[l] = row_key(bseed, kBMatrixIndex, l);
}

// B^T (n x inner, row-major): bt[j][l] = B[l][j], so that cuBLAS can run the int8-friendly "TN" layout.
template <typename T>
__global__ void fill_b_transposed(T* bt, const Lanes* keys, uint32_t n, uint32_t inner) {
  uint64_t idx = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (uint64_t)n * inner) return;
  uint32_t j = (uint32_t)(idx / inner), l = (uint32_t)(idx % inner);
  bt[idx] = from_int<T>(entry_of(group_word(keys[l], j >> 2), j & 3));
}

// Loads four consecutive entries of a row (16-byte aligned: rows are 4n bytes long and n % 16 == 0).
__device__ __forceinline__ void load4(const int32_t* p, uint32_t out[4]) {
  int4 v = *reinterpret_cast<const int4*>(p);
  out[0] = (uint32_t)v.x; out[1] = (uint32_t)v.y; out[2] = (uint32_t)v.z; out[3] = (uint32_t)v.w;
}
__device__ __forceinline__ void load4(const float* p, uint32_t out[4]) {
  float4 v = *reinterpret_cast<const float4*>(p);
  out[0] = (uint32_t)__float2int_rn(v.x); out[1] = (uint32_t)__float2int_rn(v.y);
  out[2] = (uint32_t)__float2int_rn(v.z); out[3] = (uint32_t)__float2int_rn(v.w);
}

// One thread per row: leaf = SHA-256(0x00 || int32-LE row) (see sha256_leaf_host_order for the framing).
template <typename T>
__global__ void hash_rows(const T* c, uint32_t rows, uint32_t n, uint32_t* leaves) {
  uint32_t r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const T* row = c + (uint64_t)r * n;
  uint32_t h[8], w[16];
  sha256_init(h);
  uint32_t prev = 0;
  for (uint32_t t0 = 0; t0 < n; t0 += 16) {
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      uint32_t v[4];
      load4(row + t0 + 4 * q, v);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        uint32_t cur = bswap32(v[e]);
        w[4 * q + e] = (prev << 24) | (cur >> 8);
        prev = cur;
      }
    }
    sha256_compress(h, w);
  }
  w[0] = (prev << 24) | 0x00800000u;
#pragma unroll
  for (int t = 1; t < 15; ++t) w[t] = 0;
  w[15] = (4u * n + 1u) * 8u;
  sha256_compress(h, w);
#pragma unroll
  for (int k = 0; k < 8; ++k) leaves[(uint64_t)r * 8 + k] = h[k];
}

__global__ void merkle_level(const uint32_t* in, uint64_t count, uint32_t* out) {
  uint64_t t = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= (count + 1) / 2) return;
  if (2 * t + 1 < count) {
    sha256_node(in + 16 * t, in + 16 * t + 8, out + 8 * t);
  } else {
    for (int k = 0; k < 8; ++k) out[8 * t + k] = in[16 * t + k];
  }
}

__global__ void gather_nodes(const uint32_t* tree, const uint64_t* nodes, uint32_t count, uint32_t* out) {
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= count) return;
  for (int k = 0; k < 8; ++k) out[8 * t + k] = tree[nodes[t] * 8 + k];
}

// ---------------------------------------------------------------- host helpers

static std::vector<uint8_t> from_hex(const std::string& hex) {
  if (hex.size() % 2) throw std::runtime_error("odd-length hex");
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = (uint8_t)std::stoul(hex.substr(2 * i, 2), nullptr, 16);
  return out;
}

static std::string digest_hex(const uint32_t* h) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (int k = 0; k < 8; ++k)
    for (int sh = 28; sh >= 0; sh -= 4) s += digits[(h[k] >> sh) & 15];
  return s;
}

static double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t count = 0;
  void ensure(size_t want) {
    if (want <= count) return;
    if (ptr) cudaFree(ptr);
    ptr = nullptr;
    CUDA_CHECK(cudaMalloc(&ptr, want * sizeof(T)));
    count = want;
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
};

struct Shape {
  uint32_t n, inner, batch;
};

struct Timing {
  double total_ms = 0, b_ms = 0, compute_ms = 0, tree_ms = 0;
};

// ---------------------------------------------------------------- prover

class Prover {
 public:
  explicit Prover(Precision precision, bool overlap) : precision_(precision), overlap_(overlap) {
    CUBLAS_CHECK(cublasCreate(&handle_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&gemm_stream_, cudaStreamNonBlocking));
    CUDA_CHECK(cudaStreamCreateWithFlags(&hash_stream_, cudaStreamNonBlocking));
    for (int i = 0; i < 2; ++i) {
      CUDA_CHECK(cudaEventCreateWithFlags(&gemm_done_[i], cudaEventDisableTiming));
      CUDA_CHECK(cudaEventCreateWithFlags(&hash_done_[i], cudaEventDisableTiming));
    }
    CUBLAS_CHECK(cublasSetStream(handle_, gemm_stream_));
  }
  ~Prover() {
    cublasDestroy(handle_);
    cudaStreamDestroy(gemm_stream_);
    cudaStreamDestroy(hash_stream_);
  }

  // Commits to the rows of C_m = A_m · B, m < batch. Returns the root digest words.
  std::vector<uint32_t> commit(const std::string& id, const uint8_t seed[32], const uint8_t bseed[32], Shape shape,
                               Timing* timing) {
    double t0 = now_ms();
    challenge_id_.clear();
    shape_ = shape;
    seed_ = seed_state(seed);
    prepare_b(bseed, shape);
    CUDA_CHECK(cudaStreamSynchronize(gemm_stream_));
    double t1 = now_ms();
    compute_leaves();
    double t2 = now_ms();
    build_tree();
    std::vector<uint32_t> root(8);
    CUDA_CHECK(cudaMemcpy(root.data(), tree_.ptr + level_offset_.back() * 8, 32, cudaMemcpyDeviceToHost));
    double t3 = now_ms();
    if (timing) *timing = Timing{t3 - t0, t1 - t0, t2 - t1, t3 - t2};
    challenge_id_ = id;
    return root;
  }

  struct Opened {
    std::vector<int32_t> values;
    std::vector<std::vector<uint32_t>> proof;
  };

  // Recomputes the requested rows (one small GEMM) and gathers their Merkle siblings.
  std::vector<Opened> reveal(const std::string& id, const std::vector<std::pair<uint32_t, uint32_t>>& rows) {
    if (id != challenge_id_) throw std::runtime_error("no commitment for this challenge");
    const uint32_t n = shape_.n, inner = shape_.inner;
    for (const auto& mr : rows)
      if (mr.first >= shape_.batch || mr.second >= n) throw std::runtime_error("row out of range");
    uint32_t k = (uint32_t)rows.size();
    uint32_t padded = (k + 15) / 16 * 16;
    std::vector<uint32_t> list(2 * padded);
    for (uint32_t r = 0; r < padded; ++r) {
      const auto& mr = rows[std::min(r, k - 1)];
      list[2 * r] = mr.first;
      list[2 * r + 1] = mr.second;
    }
    DeviceBuffer<uint32_t> d_list;
    d_list.ensure(list.size());
    CUDA_CHECK(cudaMemcpy(d_list.ptr, list.data(), list.size() * 4, cudaMemcpyHostToDevice));
    std::vector<int32_t> values((size_t)padded * n);
    if (precision_ == Precision::Int8) {
      a8_[0].ensure((size_t)padded * inner);
      c32_[0].ensure((size_t)padded * n);
      fill_a_rows<int8_t><<<padded, 256, 0, gemm_stream_>>>(a8_[0].ptr, seed_, 0, n, inner, d_list.ptr);
      gemm(a8_[0].ptr, c32_[0].ptr, padded);
      CUDA_CHECK(cudaStreamSynchronize(gemm_stream_));
      CUDA_CHECK(cudaMemcpy(values.data(), c32_[0].ptr, values.size() * 4, cudaMemcpyDeviceToHost));
    } else {
      a16_[0].ensure((size_t)padded * inner);
      cf_[0].ensure((size_t)padded * n);
      fill_a_rows<__half><<<padded, 256, 0, gemm_stream_>>>(a16_[0].ptr, seed_, 0, n, inner, d_list.ptr);
      gemm(a16_[0].ptr, cf_[0].ptr, padded);
      CUDA_CHECK(cudaStreamSynchronize(gemm_stream_));
      std::vector<float> f(values.size());
      CUDA_CHECK(cudaMemcpy(f.data(), cf_[0].ptr, f.size() * 4, cudaMemcpyDeviceToHost));
      for (size_t i = 0; i < f.size(); ++i) values[i] = (int32_t)f[i];
    }
    // Sibling node indices in the flat tree buffer, leaf level first.
    std::vector<uint64_t> nodes;
    std::vector<size_t> first(k + 1);
    for (uint32_t r = 0; r < k; ++r) {
      first[r] = nodes.size();
      uint64_t idx = (uint64_t)rows[r].first * n + rows[r].second;
      for (size_t d = 0; d + 1 < level_count_.size(); ++d) {
        uint64_t sib = idx ^ 1;
        if (sib < level_count_[d]) nodes.push_back(level_offset_[d] + sib);
        idx >>= 1;
      }
    }
    first[k] = nodes.size();
    std::vector<uint32_t> gathered(nodes.size() * 8 + 8 * k);
    if (!nodes.empty()) {
      DeviceBuffer<uint64_t> d_nodes;
      DeviceBuffer<uint32_t> d_out;
      d_nodes.ensure(nodes.size());
      d_out.ensure(nodes.size() * 8);
      CUDA_CHECK(cudaMemcpy(d_nodes.ptr, nodes.data(), nodes.size() * 8, cudaMemcpyHostToDevice));
      gather_nodes<<<(unsigned)((nodes.size() + 255) / 256), 256>>>(tree_.ptr, d_nodes.ptr, (uint32_t)nodes.size(),
                                                                      d_out.ptr);
      CUDA_CHECK(cudaMemcpy(gathered.data(), d_out.ptr, nodes.size() * 32, cudaMemcpyDeviceToHost));
    }
    // Check each recomputed row against its committed leaf: a mismatch means the GPU is not deterministic.
    std::vector<uint64_t> leaf_nodes(k);
    for (uint32_t r = 0; r < k; ++r) leaf_nodes[r] = (uint64_t)rows[r].first * n + rows[r].second;
    std::vector<uint32_t> leaves(8 * k);
    {
      DeviceBuffer<uint64_t> d_nodes;
      DeviceBuffer<uint32_t> d_out;
      d_nodes.ensure(k);
      d_out.ensure(8 * k);
      CUDA_CHECK(cudaMemcpy(d_nodes.ptr, leaf_nodes.data(), k * 8, cudaMemcpyHostToDevice));
      gather_nodes<<<(k + 255) / 256, 256>>>(tree_.ptr, d_nodes.ptr, k, d_out.ptr);
      CUDA_CHECK(cudaMemcpy(leaves.data(), d_out.ptr, 32 * k, cudaMemcpyDeviceToHost));
    }
    std::vector<Opened> out(k);
    for (uint32_t r = 0; r < k; ++r) {
      out[r].values.assign(values.begin() + (size_t)r * n, values.begin() + (size_t)(r + 1) * n);
      uint32_t check[8];
      sha256_leaf_host_order(out[r].values.data(), n, check);
      if (std::memcmp(check, &leaves[8 * r], 32) != 0)
        throw std::runtime_error("recomputed row does not match its committed leaf");
      for (size_t q = first[r]; q < first[r + 1]; ++q)
        out[r].proof.emplace_back(gathered.begin() + 8 * q, gathered.begin() + 8 * q + 8);
    }
    return out;
  }

  // Times one chunk's phases separately (no overlap), for the calibration printout.
  void phase_breakdown(double* fill_ms, double* gemm_ms, double* hash_ms, uint32_t* chunk_matrices) {
    uint32_t cm = chunk_matrices_;
    uint32_t rows = cm * shape_.n;
    cudaEvent_t e[4];
    for (auto& x : e) CUDA_CHECK(cudaEventCreate(&x));
    CUDA_CHECK(cudaEventRecord(e[0], gemm_stream_));
    launch_fill(0, 0, rows);
    CUDA_CHECK(cudaEventRecord(e[1], gemm_stream_));
    launch_gemm(0, rows);
    CUDA_CHECK(cudaEventRecord(e[2], gemm_stream_));
    launch_hash(0, rows, gemm_stream_, leaves_scratch());
    CUDA_CHECK(cudaEventRecord(e[3], gemm_stream_));
    CUDA_CHECK(cudaEventSynchronize(e[3]));
    float a, b, c;
    cudaEventElapsedTime(&a, e[0], e[1]);
    cudaEventElapsedTime(&b, e[1], e[2]);
    cudaEventElapsedTime(&c, e[2], e[3]);
    *fill_ms = a;
    *gemm_ms = b;
    *hash_ms = c;
    *chunk_matrices = cm;
    for (auto& x : e) cudaEventDestroy(x);
  }

 private:
  Precision precision_;
  bool overlap_;
  cublasHandle_t handle_;
  cudaStream_t gemm_stream_, hash_stream_;
  cudaEvent_t gemm_done_[2], hash_done_[2];
  Shape shape_{0, 0, 0};
  Lanes seed_{0, 0};
  std::string challenge_id_;
  std::vector<uint8_t> b_key_;
  DeviceBuffer<int8_t> bt8_, a8_[2];
  DeviceBuffer<__half> bt16_, a16_[2];
  DeviceBuffer<int32_t> c32_[2];
  DeviceBuffer<float> cf_[2];
  DeviceBuffer<Lanes> bkeys_;
  DeviceBuffer<uint32_t> tree_;
  std::vector<uint64_t> level_offset_, level_count_;
  uint32_t chunk_matrices_ = 1;

  uint32_t* leaves_scratch() { return tree_.ptr; }

  void prepare_b(const uint8_t bseed[32], Shape shape) {
    std::vector<uint8_t> key(bseed, bseed + 32);
    key.push_back((uint8_t)precision_);
    for (uint32_t v : {shape.n, shape.inner})
      for (int s = 0; s < 32; s += 8) key.push_back((uint8_t)(v >> s));
    if (key == b_key_) return;
    b_key_.clear();
    Lanes bs = seed_state(bseed);
    bkeys_.ensure(shape.inner);
    b_row_keys<<<(shape.inner + 255) / 256, 256, 0, gemm_stream_>>>(bs, shape.inner, bkeys_.ptr);
    uint64_t cells = (uint64_t)shape.n * shape.inner;
    unsigned blocks = (unsigned)((cells + 255) / 256);
    if (precision_ == Precision::Int8) {
      bt8_.ensure(cells);
      fill_b_transposed<int8_t><<<blocks, 256, 0, gemm_stream_>>>(bt8_.ptr, bkeys_.ptr, shape.n, shape.inner);
    } else {
      bt16_.ensure(cells);
      fill_b_transposed<__half><<<blocks, 256, 0, gemm_stream_>>>(bt16_.ptr, bkeys_.ptr, shape.n, shape.inner);
    }
    CUDA_CHECK(cudaGetLastError());
    b_key_ = key;
  }

  template <typename TA, typename TC>
  void gemm(const TA* a, TC* c, uint32_t rows) {
    // Row-major C (rows x n) = A (rows x inner) · B (inner x n), as column-major C^T = (B^T)^T-op ... :
    // op(X) = X^T with X = B^T stored n x inner row-major (= inner x n column-major, lda = inner), and
    // op(Y) = Y with Y = A stored row-major (= inner x rows column-major, ldb = inner).
    const uint32_t n = shape_.n, inner = shape_.inner;
    if (precision_ == Precision::Int8) {
      const int32_t alpha = 1, beta = 0;
      CUBLAS_CHECK(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, n, rows, inner, &alpha, bt8_.ptr, CUDA_R_8I, inner,
                                a, CUDA_R_8I, inner, &beta, c, CUDA_R_32I, n, CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT));
    } else {
      const float alpha = 1, beta = 0;
      CUBLAS_CHECK(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, n, rows, inner, &alpha, bt16_.ptr, CUDA_R_16F,
                                inner, a, CUDA_R_16F, inner, &beta, c, CUDA_R_32F, n, CUBLAS_COMPUTE_32F,
                                CUBLAS_GEMM_DEFAULT));
    }
  }

  void launch_fill(int buf, uint32_t m0, uint32_t rows) {
    if (precision_ == Precision::Int8)
      fill_a_rows<int8_t><<<rows, 256, 0, gemm_stream_>>>(a8_[buf].ptr, seed_, m0, shape_.n, shape_.inner, nullptr);
    else
      fill_a_rows<__half><<<rows, 256, 0, gemm_stream_>>>(a16_[buf].ptr, seed_, m0, shape_.n, shape_.inner, nullptr);
    CUDA_CHECK(cudaGetLastError());
  }
  void launch_gemm(int buf, uint32_t rows) {
    if (precision_ == Precision::Int8)
      gemm(a8_[buf].ptr, c32_[buf].ptr, rows);
    else
      gemm(a16_[buf].ptr, cf_[buf].ptr, rows);
  }
  void launch_hash(int buf, uint32_t rows, cudaStream_t stream, uint32_t* leaves) {
    unsigned blocks = (rows + 127) / 128;
    if (precision_ == Precision::Int8)
      hash_rows<int32_t><<<blocks, 128, 0, stream>>>(c32_[buf].ptr, rows, shape_.n, leaves);
    else
      hash_rows<float><<<blocks, 128, 0, stream>>>(cf_[buf].ptr, rows, shape_.n, leaves);
    CUDA_CHECK(cudaGetLastError());
  }

  void plan_tree() {
    level_offset_.clear();
    level_count_.clear();
    uint64_t count = (uint64_t)shape_.batch * shape_.n, offset = 0;
    for (;;) {
      level_offset_.push_back(offset);
      level_count_.push_back(count);
      offset += count;
      if (count == 1) break;
      count = (count + 1) / 2;
    }
    tree_.ensure(offset * 8);
  }

  void compute_leaves() {
    const uint32_t n = shape_.n, inner = shape_.inner, batch = shape_.batch;
    plan_tree();
    size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    size_t elem = precision_ == Precision::Int8 ? 1 : 2;
    size_t per_matrix = (size_t)n * inner * elem + (size_t)n * n * 4;
    size_t budget = std::min<size_t>(free_bytes / 4, (size_t)6 << 30);
    uint32_t cm = (uint32_t)std::max<size_t>(1, std::min<size_t>(batch, budget / (2 * per_matrix)));
    // Stacked A rows must fit a grid dimension and 32-bit row counts.
    cm = std::min<uint32_t>(cm, (uint32_t)(((1u << 31) - 1) / n));
    chunk_matrices_ = cm;
    for (int b = 0; b < 2; ++b) {
      if (precision_ == Precision::Int8) {
        a8_[b].ensure((size_t)cm * n * inner);
        c32_[b].ensure((size_t)cm * n * n);
      } else {
        a16_[b].ensure((size_t)cm * n * inner);
        cf_[b].ensure((size_t)cm * n * n);
      }
    }
    uint32_t chunk = 0;
    for (uint32_t m0 = 0; m0 < batch; m0 += cm, ++chunk) {
      uint32_t mats = std::min(cm, batch - m0);
      uint32_t rows = mats * n;
      int buf = overlap_ ? (int)(chunk & 1) : 0;
      // The GEMM may overwrite C[buf] only after the hash of the chunk that last used it finished.
      if (chunk >= 2 || !overlap_) CUDA_CHECK(cudaStreamWaitEvent(gemm_stream_, hash_done_[buf], 0));
      launch_fill(buf, m0, rows);
      launch_gemm(buf, rows);
      CUDA_CHECK(cudaEventRecord(gemm_done_[buf], gemm_stream_));
      CUDA_CHECK(cudaStreamWaitEvent(hash_stream_, gemm_done_[buf], 0));
      launch_hash(buf, rows, hash_stream_, tree_.ptr + (uint64_t)m0 * n * 8);
      CUDA_CHECK(cudaEventRecord(hash_done_[buf], hash_stream_));
    }
    CUDA_CHECK(cudaStreamSynchronize(hash_stream_));
    CUDA_CHECK(cudaStreamSynchronize(gemm_stream_));
  }

  void build_tree() {
    for (size_t d = 0; d + 1 < level_count_.size(); ++d) {
      uint64_t next = (level_count_[d] + 1) / 2;
      merkle_level<<<(unsigned)((next + 255) / 256), 256, 0, hash_stream_>>>(
          tree_.ptr + level_offset_[d] * 8, level_count_[d], tree_.ptr + level_offset_[d + 1] * 8);
    }
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(hash_stream_));
  }
};

// ---------------------------------------------------------------- modes

static Shape shape_of(const JVal& m) {
  long long n = m.i("n"), inner = m.i("inner"), batch = m.i("batch");
  if (n < 16 || n > 16384 || n % 16 || inner < 16 || inner > 65536 || inner % 16 || batch < 1 || batch > (1 << 20))
    throw std::runtime_error("challenge dimensions out of range");
  return Shape{(uint32_t)n, (uint32_t)inner, (uint32_t)batch};
}

static void seeds_of(const JVal& m, uint8_t seed[32], uint8_t bseed[32]) {
  auto s = from_hex(m.s("seed")), b = from_hex(m.s("bSeed"));
  if (s.size() != 32 || b.size() != 32) throw std::runtime_error("seeds are 32 bytes");
  std::memcpy(seed, s.data(), 32);
  std::memcpy(bseed, b.data(), 32);
}

static std::vector<std::pair<uint32_t, uint32_t>> rows_of(const JVal& m) {
  std::vector<std::pair<uint32_t, uint32_t>> rows;
  for (const JVal& r : m.at("rows").arr) rows.emplace_back((uint32_t)r.i("matrix"), (uint32_t)r.i("row"));
  if (rows.empty() || rows.size() > 256) throw std::runtime_error("1 to 256 rows per reveal");
  return rows;
}

static std::string device_info_json(Precision precision) {
  int dev = 0;
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
  int count = 0;
  CUDA_CHECK(cudaGetDeviceCount(&count));
  std::ostringstream o;
  o << "{\"ok\":true,\"op\":\"info\",\"device\":" << json_quote(prop.name) << ",\"computeCapability\":\""
    << prop.major << "." << prop.minor << "\",\"memoryBytes\":" << prop.totalGlobalMem << ",\"gpuCount\":" << count
    << ",\"precision\":\"" << (precision == Precision::Int8 ? "int8" : "fp16") << "\"}";
  return o.str();
}

static int serve(Precision precision) {
  Prover prover(precision, true);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::string op = "?";
    std::ostringstream o;
    try {
      JVal m = JParser(line).parse();
      op = m.s("op");
      if (op == "info") {
        o << device_info_json(precision);
      } else if (op == "commit") {
        uint8_t seed[32], bseed[32];
        seeds_of(m, seed, bseed);
        Timing timing;
        auto root = prover.commit(m.s("challengeId"), seed, bseed, shape_of(m), &timing);
        char ms[32];
        snprintf(ms, sizeof ms, "%.3f", timing.total_ms);
        o << "{\"ok\":true,\"op\":\"commit\",\"challengeId\":" << json_quote(m.s("challengeId")) << ",\"root\":\""
          << digest_hex(root.data()) << "\",\"elapsedMs\":" << ms << "}";
      } else if (op == "reveal") {
        auto opened = prover.reveal(m.s("challengeId"), rows_of(m));
        auto rows = rows_of(m);
        o << "{\"ok\":true,\"op\":\"reveal\",\"challengeId\":" << json_quote(m.s("challengeId")) << ",\"rows\":[";
        for (size_t r = 0; r < opened.size(); ++r) {
          o << (r ? "," : "") << "{\"matrix\":" << rows[r].first << ",\"row\":" << rows[r].second << ",\"values\":[";
          for (size_t j = 0; j < opened[r].values.size(); ++j) o << (j ? "," : "") << opened[r].values[j];
          o << "],\"proof\":[";
          for (size_t q = 0; q < opened[r].proof.size(); ++q)
            o << (q ? "," : "") << "\"" << digest_hex(opened[r].proof[q].data()) << "\"";
          o << "]}";
        }
        o << "]}";
      } else {
        throw std::runtime_error("unknown op");
      }
    } catch (const std::exception& e) {
      o.str("");
      o << "{\"ok\":false,\"op\":" << json_quote(op) << ",\"error\":" << json_quote(e.what()) << "}";
    }
    std::cout << o.str() << "\n" << std::flush;
  }
  return 0;
}

static int selftest(const std::string& path, Precision precision) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  JVal fixture = JParser(ss.str()).parse();
  Prover prover(precision, true);
  int failures = 0, checks = 0;
  for (const JVal& c : fixture.at("cases").arr) {
    uint8_t seed[32], bseed[32];
    seeds_of(c, seed, bseed);
    Shape shape = shape_of(c);
    auto root = prover.commit(c.s("name"), seed, bseed, shape, nullptr);
    bool ok = digest_hex(root.data()) == c.s("root");
    ++checks;
    if (!ok) ++failures;
    printf("%s root %s (%s)\n", c.s("name").c_str(), ok ? "matches" : "DIFFERS", digest_hex(root.data()).c_str());
    std::vector<std::pair<uint32_t, uint32_t>> want;
    for (const JVal& r : c.at("rows").arr) want.emplace_back((uint32_t)r.i("matrix"), (uint32_t)r.i("row"));
    auto opened = prover.reveal(c.s("name"), want);
    for (size_t r = 0; r < want.size(); ++r) {
      const JVal& exp = c.at("rows").arr[r];
      bool same = exp.at("values").arr.size() == opened[r].values.size() &&
                  exp.at("proof").arr.size() == opened[r].proof.size();
      for (size_t j = 0; same && j < opened[r].values.size(); ++j)
        same = (long long)exp.at("values").arr[j].num == opened[r].values[j];
      for (size_t q = 0; same && q < opened[r].proof.size(); ++q)
        same = exp.at("proof").arr[q].str == digest_hex(opened[r].proof[q].data());
      ++checks;
      if (!same) ++failures;
      printf("  row (%u,%u) values+proof %s\n", want[r].first, want[r].second, same ? "match" : "DIFFER");
    }
  }
  printf("selftest (%s): %d checks, %d failures\n", precision == Precision::Int8 ? "int8" : "fp16", checks, failures);
  return failures == 0 ? 0 : 1;
}

static int bench(int argc, char** argv, Precision precision) {
  uint32_t n = 2048, inner = 32768, batch = 64, reps = 3, reveal_rows = 128;
  bool overlap = true;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() { return (uint32_t)std::stoul(argv[++i]); };
    if (a == "--n") n = next();
    else if (a == "--inner") inner = next();
    else if (a == "--batch") batch = next();
    else if (a == "--reps") reps = next();
    else if (a == "--reveal") reveal_rows = next();
    else if (a == "--no-overlap") overlap = false;
    else if (a == "--precision") ++i;
  }
  Prover prover(precision, overlap);
  uint8_t seed[32], bseed[32];
  for (int i = 0; i < 32; ++i) { seed[i] = (uint8_t)i; bseed[i] = (uint8_t)(0xa0 + i); }
  Shape shape{n, inner, batch};
  double best = 1e30, worst = 0, sum = 0;
  Timing t;
  for (uint32_t r = 0; r <= reps; ++r) {
    seed[0] = (uint8_t)r;  // a fresh challenge each repetition; repetition 0 is the warm-up
    prover.commit("bench", seed, bseed, shape, &t);
    if (r == 0) continue;
    best = std::min(best, t.total_ms);
    worst = std::max(worst, t.total_ms);
    sum += t.total_ms;
  }
  std::vector<std::pair<uint32_t, uint32_t>> rows;
  for (uint32_t k = 0; k < reveal_rows; ++k) rows.emplace_back((k * 7919u) % batch, (k * 104729u) % n);
  double reveal_start = now_ms();
  prover.reveal("bench", rows);
  double reveal_ms = now_ms() - reveal_start;
  double fill, gemm, hash;
  uint32_t cm;
  prover.phase_breakdown(&fill, &gemm, &hash, &cm);
  double ops = 2.0 * batch * n * (double)n * inner;
  double mean = sum / reps;
  printf(
      "{\"precision\":\"%s\",\"overlap\":%s,\"n\":%u,\"inner\":%u,\"batch\":%u,\"reps\":%u,\"meanMs\":%.2f,"
      "\"bestMs\":%.2f,\"worstMs\":%.2f,\"revealRows\":%u,\"revealMs\":%.2f,\"effectiveTops\":%.1f,\"lastTreeMs\":%.2f,\"chunkMatrices\":%u,\"chunkFillMs\":%.3f,"
      "\"chunkGemmMs\":%.3f,\"chunkHashMs\":%.3f,\"gemmTops\":%.1f}\n",
      precision == Precision::Int8 ? "int8" : "fp16", overlap ? "true" : "false", n, inner, batch, reps, mean, best,
      worst, reveal_rows, reveal_ms, ops / (mean * 1e-3) / 1e12, t.tree_ms, cm, fill, gemm, hash,
      2.0 * cm * n * (double)n * inner / (gemm * 1e-3) / 1e12);
  return 0;
}

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "serve";
  Precision precision = Precision::Int8;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--precision" && std::string(argv[i + 1]) == "fp16") precision = Precision::Fp16;
  try {
    if (mode == "serve") return serve(precision);
    if (mode == "info") {
      std::cout << device_info_json(precision) << "\n";
      return 0;
    }
    if (mode == "selftest" && argc > 2) return selftest(argv[2], precision);
    if (mode == "bench") return bench(argc, argv, precision);
    fprintf(stderr, "usage: pogpu serve | info | selftest FIXTURE.json | bench --n N --inner K --batch B\n");
    return 2;
  } catch (const std::exception& e) {
    fprintf(stderr, "pogpu: %s\n", e.what());
    return 1;
  }
}

// FCOS post-processing kernels (decode + per-level top-k + class-aware bitmask NMS) and their launcher
// fcos4j::enqueue. Compiled by nvcc into the CUDA flavour and by g++ (through the emulation layer) into
// the emulated flavour: no #ifdef in kernel bodies, launches via FCOS4J_LAUNCH, shared memory via
// FCOS4J_SHARED / FCOS4J_DYNAMIC_SHARED. All rules come from ../spec/spec.h.
//
// Pipeline per call (5 launches, no host sync):
//   initKernel    error keys := none, candidate counters := 0
//   scanKernel    one pass over every level's NCHW logits: prefilter on logits, exact rule, non-finite
//                 checks, compaction of candidates as 64-bit rank keys (warp-aggregated atomics)
//   selectKernel  per (image, level): radix select of the nms_pre largest keys (8-bit digits, block
//                 histogram), bitonic sort of the survivors, decode/clamp/rescale/size filter into the
//                 image's concatenation slots
//   nmsSortKernel per image: bitonic sort of all slots by (score desc, slot asc), gather boxes
//   maskKernel    per image: 64x64 tiles of the class-aware IoU > thr bitmask (upper triangle only)
//   reduceKernel  per image, one warp: greedy walk over the bitmask, stops at max_detections, writes
//                 the fixed-shape outputs (num_detections = -1 and zeros on non-finite input)
#include "fcos4j/cuda_compat.h"

#include <cstdio>
#include <cstring>

#include "../core/engine.h"
#include "../spec/spec.h"
#include "../spec/spec_host.h"
#include "workspace.h"

namespace fcos4j {
namespace {

constexpr int kScanThreads = 256;
constexpr int kScanItems = 8;  // elements per thread per scan block
constexpr int kScanChunk = kScanThreads * kScanItems;
constexpr int kSelectThreads = 256;
constexpr int kSortThreads = 512;
constexpr int kMaskThreads = 64;
constexpr int kMaskMaxBlocks = 256;

// Everything the kernels need, passed by value.
struct Plan {
  int convention, N, C, L, k, K, half;
  float thr, logitThr, iouThr, iouOff;
  const void* cls[kMaxLevels];
  const void* reg[kMaxLevels];
  const void* ctr[kMaxLevels];
  int H[kMaxLevels], W[kMaxLevels], stride[kMaxLevels];
  int blockBegin[kMaxLevels + 1];  // scan blocks of level l: [blockBegin[l], blockBegin[l+1])
  const float* info;
  int32_t* numDet;
  float* boxes;
  float* scores;
  int32_t* classes;
  Layout lay;
  unsigned char* ws;
};

template <typename T>
__device__ __forceinline__ T* wsPtr(const Plan& pl, size_t off) {
  return reinterpret_cast<T*>(pl.ws + off);
}

__device__ __forceinline__ float loadF(const float* p, size_t i) { return p[i]; }
__device__ __forceinline__ float loadF(const __half* p, size_t i) { return __half2float(p[i]); }

// Descending bitonic sort of n (a power of two) 64-bit keys in global memory by the whole block.
__device__ void bitonicSortDesc(unsigned long long* keys, int n) {
  for (int k = 2; k <= n; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const int ixj = i ^ j;
        if (ixj > i) {
          const unsigned long long a = keys[i], b = keys[ixj];
          const bool desc = (i & k) == 0;
          if (desc ? (a < b) : (a > b)) {
            keys[i] = b;
            keys[ixj] = a;
          }
        }
      }
      __syncthreads();
    }
  }
}

__device__ __forceinline__ int pow2AtLeast(int v) {
  int p = 1;
  while (p < v) p <<= 1;
  return v == 0 ? 0 : p;
}

__global__ void initKernel(Plan pl) {
  const int tid = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned long long* err = wsPtr<unsigned long long>(pl, pl.lay.errKeys);
  unsigned int* cnt = wsPtr<unsigned int>(pl, pl.lay.counts);
  if (tid < pl.N) err[tid] = spec::kNoError;
  if (tid < pl.N * pl.L) cnt[tid] = 0u;
}

template <typename T>
__global__ void scanKernel(Plan pl) {
  const int n = blockIdx.y;
  int l = 0;
  while (l + 1 < pl.L && (int)blockIdx.x >= pl.blockBegin[l + 1]) ++l;
  const int conv = pl.convention, C = pl.C;
  const size_t HW = (size_t)pl.H[l] * pl.W[l];
  const size_t total = (size_t)C * HW;
  const T* cls = static_cast<const T*>(pl.cls[l]) + (size_t)n * total;
  const T* reg = static_cast<const T*>(pl.reg[l]) + (size_t)n * 4 * HW;
  const T* ctr = static_cast<const T*>(pl.ctr[l]) + (size_t)n * HW;
  const int seg = n * pl.L + l;
  unsigned int* counter = wsPtr<unsigned int>(pl, pl.lay.counts) + seg;
  unsigned long long* out = wsPtr<unsigned long long>(pl, pl.lay.cand) + pl.lay.candImage * n + pl.lay.candLevel[l];
  unsigned long long* errKey = wsPtr<unsigned long long>(pl, pl.lay.errKeys) + n;
  const int lane = threadIdx.x & 31;
  unsigned long long myErr = spec::kNoError;
  const size_t start = (size_t)(blockIdx.x - pl.blockBegin[l]) * kScanChunk;
  for (int it = 0; it < kScanItems; ++it) {  // uniform trip count: every lane reaches the ballot
    const size_t i = start + (size_t)it * kScanThreads + threadIdx.x;
    bool isCand = false;
    unsigned long long key = 0;
    if (i < total) {
      const float x = loadF(cls, i);
      if (!(x <= pl.logitThr)) {
        const size_t c = i / HW, p = i - c * HW;
        if (spec::clsIsBad(x)) {
          myErr = min(myErr, (unsigned long long)spec::errorKey(l, spec::kErrCls, i));
        } else {
          const float prob = spec::sigmoid(x);
          if (spec::gateValue(conv, prob) > pl.thr) {
            bool ok = true;
            for (int q = 0; q < 4; ++q) {
              if (!spec::isFinite(loadF(reg, q * HW + p))) {
                myErr = min(myErr, (unsigned long long)spec::errorKey(l, spec::kErrReg, q * HW + p));
                break;
              }
            }
            const float ct = loadF(ctr, p);
            if (!spec::isFinite(ct)) {
              myErr = min(myErr, (unsigned long long)spec::errorKey(l, spec::kErrCtr, p));
              ok = false;
            }
            if (ok) {
              const float cp = spec::sigmoid(ct);
              if (spec::isCandidate(conv, prob, cp, pl.thr)) {
                isCand = true;
                key = spec::rankKey(spec::rankValue(conv, prob, cp), (uint32_t)(p * C + c));
              }
            }
          }
        }
      }
    }
    const unsigned int ballot = __ballot_sync(0xffffffffu, isCand);
    if (ballot != 0u) {
      const int leader = __ffs((int)ballot) - 1;
      unsigned int base = 0;
      if (lane == leader) base = atomicAdd(counter, (unsigned int)__popc(ballot));
      base = __shfl_sync(0xffffffffu, base, leader);
      if (isCand) out[base + __popc(ballot & ((1u << lane) - 1u))] = key;
    }
  }
  if (myErr != spec::kNoError) atomicMin(errKey, myErr);
}

__global__ void selectKernel(Plan pl) {
  const int l = blockIdx.x, n = blockIdx.y, seg = n * pl.L + l;
  const int conv = pl.convention, C = pl.C, W = pl.W[l], s = pl.stride[l];
  const size_t HW = (size_t)pl.H[l] * W;
  const unsigned int cnt = wsPtr<unsigned int>(pl, pl.lay.counts)[seg];
  const unsigned long long* cand =
      wsPtr<unsigned long long>(pl, pl.lay.cand) + pl.lay.candImage * n + pl.lay.candLevel[l];
  unsigned long long* sel = wsPtr<unsigned long long>(pl, pl.lay.sel) + pl.lay.selImage * n + pl.lay.selLevel[l];
  const int slotCap = pl.lay.slotCount[l];
  const int kk = (int)min(cnt, (unsigned int)pl.k);
  FCOS4J_SHARED(unsigned int, hist, 256);
  FCOS4J_SHARED(unsigned long long, sh64, 2);  // [0] prefix, [1] selected counter
  FCOS4J_SHARED(unsigned int, sh32, 2);        // [0] chosen digit, [1] count above it

  if (cnt > (unsigned int)pl.k) {
    // Radix select: the threshold key T with exactly k keys >= T (keys are unique).
    unsigned long long prefix = 0, prefixMask = 0;
    unsigned int remaining = (unsigned int)pl.k;
    for (int shift = 56; shift >= 0; shift -= 8) {
      for (int b = threadIdx.x; b < 256; b += blockDim.x) hist[b] = 0u;
      __syncthreads();
      for (unsigned int i = threadIdx.x; i < cnt; i += blockDim.x) {
        const unsigned long long key = cand[i];
        if ((key & prefixMask) == prefix) atomicAdd(&hist[(int)((key >> shift) & 255u)], 1u);
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        unsigned int above = 0;
        int d = 255;
        for (; d > 0; --d) {
          if (above + hist[d] >= remaining) break;
          above += hist[d];
        }
        sh32[0] = (unsigned int)d;
        sh32[1] = above;
      }
      __syncthreads();
      const unsigned int d = sh32[0], above = sh32[1], inBin = hist[(int)d];
      prefix |= (unsigned long long)d << shift;
      prefixMask |= 255ull << shift;
      remaining -= above;
      __syncthreads();  // hist is rewritten by the next pass
      if (inBin == remaining) break;  // the whole bin is selected
    }
    if (threadIdx.x == 0) sh64[1] = 0ull;
    __syncthreads();
    for (unsigned int i = threadIdx.x; i < cnt; i += blockDim.x) {
      const unsigned long long key = cand[i];
      if (key >= prefix) sel[atomicAdd(&sh64[1], 1ull)] = key;
    }
  } else {
    for (unsigned int i = threadIdx.x; i < cnt; i += blockDim.x) sel[i] = cand[i];
  }
  const int np = pow2AtLeast(kk);
  for (int i = kk + threadIdx.x; i < np; i += blockDim.x) sel[i] = 0ull;
  __syncthreads();
  bitonicSortDesc(sel, np);

  // Decode the ranked survivors into this level's concatenation slots.
  const float* info = pl.info + 4 * n;
  const int slotBase = pl.lay.slotBase[l];
  const size_t S = (size_t)pl.lay.S;
  float* sBox = wsPtr<float>(pl, pl.lay.slotBox) + 4 * S * n;
  float* sScore = wsPtr<float>(pl, pl.lay.slotScore) + S * n;
  int* sClass = wsPtr<int>(pl, pl.lay.slotClass) + S * n;
  unsigned long long* nk = wsPtr<unsigned long long>(pl, pl.lay.nmsKeys) + (size_t)pl.lay.Sp * n;
  for (int r = threadIdx.x; r < slotCap; r += blockDim.x) {
    const int slot = slotBase + r;
    unsigned long long key = 0;
    if (r < kk) {
      const uint32_t flat = spec::keyFlat(sel[r]);
      const size_t p = flat / (uint32_t)C;
      const int c = (int)(flat - p * C);
      const int y = (int)(p / W), x = (int)(p - (size_t)y * W);
      float prob, cp, l4[4];
      if (pl.half) {
        const __half* cl = static_cast<const __half*>(pl.cls[l]) + (size_t)n * C * HW;
        const __half* rg = static_cast<const __half*>(pl.reg[l]) + (size_t)n * 4 * HW;
        const __half* ce = static_cast<const __half*>(pl.ctr[l]) + (size_t)n * HW;
        prob = spec::sigmoid(loadF(cl, c * HW + p));
        cp = spec::sigmoid(loadF(ce, p));
        for (int q = 0; q < 4; ++q) l4[q] = loadF(rg, q * HW + p);
      } else {
        const float* cl = static_cast<const float*>(pl.cls[l]) + (size_t)n * C * HW;
        const float* rg = static_cast<const float*>(pl.reg[l]) + (size_t)n * 4 * HW;
        const float* ce = static_cast<const float*>(pl.ctr[l]) + (size_t)n * HW;
        prob = spec::sigmoid(loadF(cl, c * HW + p));
        cp = spec::sigmoid(loadF(ce, p));
        for (int q = 0; q < 4; ++q) l4[q] = loadF(rg, q * HW + p);
      }
      float box[4];
      const int sx = spec::pointSpacing(conv, s, pl.W[0], pl.stride[0], W);
      const int sy = spec::pointSpacing(conv, s, pl.H[0], pl.stride[0], pl.H[l]);
      spec::decodeBox(conv, spec::pointCoord(conv, x, sx), spec::pointCoord(conv, y, sy), l4[0], l4[1], l4[2],
                      l4[3], info, box);
      if (spec::keepBySize(conv, box)) {
        const float score = spec::finalScore(conv, prob, cp);
        for (int q = 0; q < 4; ++q) sBox[4 * slot + q] = box[q];
        sScore[slot] = score;
        sClass[slot] = c;
        key = spec::nmsKey(score, (uint32_t)slot);
      }
    }
    nk[slot] = key;
  }
}

__global__ void nmsSortKernel(Plan pl) {
  const int n = blockIdx.x;
  const int S = pl.lay.S, Sp = pl.lay.Sp;
  unsigned long long* nk = wsPtr<unsigned long long>(pl, pl.lay.nmsKeys) + (size_t)Sp * n;
  FCOS4J_SHARED(unsigned int, valid, 1);
  if (threadIdx.x == 0) valid[0] = 0u;
  for (int i = S + threadIdx.x; i < Sp; i += blockDim.x) nk[i] = 0ull;
  __syncthreads();
  unsigned int mine = 0;
  for (int i = threadIdx.x; i < S; i += blockDim.x) mine += nk[i] != 0ull ? 1u : 0u;
  if (mine) atomicAdd(&valid[0], mine);
  __syncthreads();
  bitonicSortDesc(nk, Sp);
  const int M = (int)valid[0];
  const float* sBox = wsPtr<float>(pl, pl.lay.slotBox) + 4 * (size_t)S * n;
  const float* sScore = wsPtr<float>(pl, pl.lay.slotScore) + (size_t)S * n;
  const int* sClass = wsPtr<int>(pl, pl.lay.slotClass) + (size_t)S * n;
  float* oBox = wsPtr<float>(pl, pl.lay.sortedBox) + 4 * (size_t)S * n;
  float* oScore = wsPtr<float>(pl, pl.lay.sortedScore) + (size_t)S * n;
  int* oClass = wsPtr<int>(pl, pl.lay.sortedClass) + (size_t)S * n;
  for (int i = threadIdx.x; i < M; i += blockDim.x) {
    const uint32_t slot = spec::keyFlat(nk[i]);
    for (int q = 0; q < 4; ++q) oBox[4 * i + q] = sBox[4 * slot + q];
    oScore[i] = sScore[slot];
    oClass[i] = sClass[slot];
  }
  if (threadIdx.x == 0) wsPtr<int>(pl, pl.lay.validCount)[n] = M;
}

__global__ void maskKernel(Plan pl) {
  const int n = blockIdx.y;
  const int S = pl.lay.S, Wd = pl.lay.Wd;
  const int M = wsPtr<int>(pl, pl.lay.validCount)[n];
  const int T = (M + 63) / 64;
  const float* box = wsPtr<float>(pl, pl.lay.sortedBox) + 4 * (size_t)S * n;
  const int* cls = wsPtr<int>(pl, pl.lay.sortedClass) + (size_t)S * n;
  unsigned long long* mask = wsPtr<unsigned long long>(pl, pl.lay.mask) + (size_t)S * Wd * n;
  FCOS4J_SHARED(float, colBox, 64 * 4);
  FCOS4J_SHARED(int, colCls, 64);
  for (long long t = blockIdx.x; t < (long long)T * T; t += gridDim.x) {
    const int rt = (int)(t / T), ct = (int)(t - (long long)rt * T);
    if (ct < rt) continue;  // only the upper triangle is ever read (block-uniform skip)
    const int j0 = ct * 64, cols = min(64, M - j0);
    if ((int)threadIdx.x < cols) {
      for (int q = 0; q < 4; ++q) colBox[threadIdx.x * 4 + q] = box[4 * (j0 + threadIdx.x) + q];
      colCls[threadIdx.x] = cls[j0 + threadIdx.x];
    }
    __syncthreads();
    const int i = rt * 64 + threadIdx.x;
    if (i < M) {
      float a[4];
      for (int q = 0; q < 4; ++q) a[q] = box[4 * i + q];
      const int ca = cls[i];
      unsigned long long bits = 0ull;
      for (int jj = 0; jj < cols; ++jj) {
        if (j0 + jj <= i || colCls[jj] != ca) continue;
        float b[4];
        for (int q = 0; q < 4; ++q) b[q] = colBox[jj * 4 + q];
        if (spec::iouAbove(a, b, pl.iouOff, pl.iouThr)) bits |= 1ull << jj;
      }
      mask[(size_t)i * Wd + ct] = bits;
    }
    __syncthreads();
  }
}

// One warp per image: greedy NMS over the bitmask, then the fixed-shape outputs.
__global__ void reduceKernel(Plan pl) {
  const int n = blockIdx.x, lane = threadIdx.x;
  const int S = pl.lay.S, Wd = pl.lay.Wd, K = pl.K;
  const int M = wsPtr<int>(pl, pl.lay.validCount)[n];
  const int Wm = (M + 63) / 64;
  const unsigned long long err = wsPtr<unsigned long long>(pl, pl.lay.errKeys)[n];
  const unsigned long long* mask = wsPtr<unsigned long long>(pl, pl.lay.mask) + (size_t)S * Wd * n;
  int* keptIdx = wsPtr<int>(pl, pl.lay.kept) + (size_t)K * n;
  FCOS4J_DYNAMIC_SHARED(unsigned long long, removed);
  int kept = 0;
  if (err == spec::kNoError) {
    for (int w = lane; w < Wm; w += 32) removed[w] = 0ull;
    __syncwarp();
    for (int i = 0; i < M; ++i) {  // i, kept and the removed bit are warp-uniform
      const bool isRemoved = ((removed[i >> 6] >> (i & 63)) & 1ull) != 0ull;
      if (!isRemoved) {
        if (lane == 0) keptIdx[kept] = i;
        ++kept;
        if (kept == K) break;
        for (int w = (i >> 6) + lane; w < Wm; w += 32) removed[w] |= mask[(size_t)i * Wd + w];
      }
      __syncwarp();
    }
    __syncwarp();
  }
  const float* box = wsPtr<float>(pl, pl.lay.sortedBox) + 4 * (size_t)S * n;
  const float* score = wsPtr<float>(pl, pl.lay.sortedScore) + (size_t)S * n;
  const int* cls = wsPtr<int>(pl, pl.lay.sortedClass) + (size_t)S * n;
  const float* info = pl.info + 4 * n;
  float* ob = pl.boxes + 4 * (size_t)K * n;
  float* os = pl.scores + (size_t)K * n;
  int32_t* oc = pl.classes + (size_t)K * n;
  for (int d = lane; d < K; d += 32) {
    if (d < kept) {
      const int i = keptIdx[d];
      float b[4];
      spec::finalBox(pl.convention, box + 4 * i, info, b);
      for (int q = 0; q < 4; ++q) ob[4 * d + q] = b[q];
      os[d] = score[i];
      oc[d] = cls[i];
    } else {
      for (int q = 0; q < 4; ++q) ob[4 * d + q] = 0.0f;
      os[d] = 0.0f;
      oc[d] = 0;
    }
  }
  if (lane == 0) pl.numDet[n] = err == spec::kNoError ? kept : -1;
}

Status makeStatus(int code, const char* fmt, const char* a = "", const char* b = "") {
  Status st;
  st.code = code;
  std::snprintf(st.message, sizeof st.message, fmt, a, b);
  return st;
}

Status checkLaunch(const char* kernel) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return makeStatus(kCudaError, "fcos4j: launch of %s failed: %s", kernel, cudaGetErrorString(e));
  return Status{kOk, {0}};
}

}  // namespace

Status enqueue(const Params& params, const Shape& shape, DataType dtype, const void* const cls[],
               const void* const reg[], const void* const ctr[], const float* imageInfo,
               int32_t* numDetections, float* boxes, float* scores, int32_t* classes, void* workspace,
               size_t workspaceBytes, cudaStream_t stream) {
  Status st = validate(params, shape);
  if (st.code != kOk) return st;
  if (dtype != DataType::kFloat32 && dtype != DataType::kFloat16)
    return makeStatus(kInvalidArgument, "fcos4j: unknown head data type");
  if (!cls || !reg || !ctr || !imageInfo || !numDetections || !boxes || !scores || !classes || !workspace)
    return makeStatus(kInvalidArgument, "fcos4j: null pointer argument to enqueue");
  for (int l = 0; l < shape.num_levels; ++l) {
    if (!cls[l] || !reg[l] || !ctr[l]) return makeStatus(kInvalidArgument, "fcos4j: null head tensor pointer");
  }
  if (reinterpret_cast<uintptr_t>(workspace) % kWorkspaceAlign != 0)
    return makeStatus(kInvalidArgument, "fcos4j: workspace is not 256-byte aligned");
  Plan pl;
  std::memset(&pl, 0, sizeof pl);
  pl.lay = computeLayout(params, shape);
  if (workspaceBytes < pl.lay.total) {
    char need[64];
    std::snprintf(need, sizeof need, "%zu", pl.lay.total);
    return makeStatus(kInvalidArgument, "fcos4j: workspace too small (%s bytes needed)", need);
  }
  const int conv = static_cast<int>(params.convention);
  pl.convention = conv;
  pl.N = shape.batch;
  pl.C = shape.num_classes;
  pl.L = shape.num_levels;
  pl.k = params.nms_pre;
  pl.K = params.max_detections;
  pl.half = dtype == DataType::kFloat16 ? 1 : 0;
  pl.thr = params.score_threshold;
  pl.logitThr = spec::logitPrefilter(conv, params.score_threshold);
  pl.iouThr = spec::nmsIouThreshold(conv, params.iou_threshold);
  pl.iouOff = spec::iouOffset(conv);
  int blocks = 0;
  for (int l = 0; l < pl.L; ++l) {
    pl.cls[l] = cls[l];
    pl.reg[l] = reg[l];
    pl.ctr[l] = ctr[l];
    pl.H[l] = shape.heights[l];
    pl.W[l] = shape.widths[l];
    pl.stride[l] = params.strides[l];
    pl.blockBegin[l] = blocks;
    const size_t total = (size_t)pl.C * pl.H[l] * pl.W[l];
    blocks += (int)((total + kScanChunk - 1) / kScanChunk);
  }
  pl.blockBegin[pl.L] = blocks;
  pl.info = imageInfo;
  pl.numDet = numDetections;
  pl.boxes = boxes;
  pl.scores = scores;
  pl.classes = classes;
  pl.ws = static_cast<unsigned char*>(workspace);

  // A stale error of an earlier, unrelated runtime call must not be reported as our launch failure.
  (void)cudaGetLastError();
  const int initN = pl.N * pl.L;
  FCOS4J_LAUNCH(initKernel, dim3((initN + 255) / 256), dim3(256), 0, stream, pl);
  if ((st = checkLaunch("initKernel")).code != kOk) return st;
  if (pl.half) {
    FCOS4J_LAUNCH(scanKernel<__half>, dim3(blocks, pl.N), dim3(kScanThreads), 0, stream, pl);
  } else {
    FCOS4J_LAUNCH(scanKernel<float>, dim3(blocks, pl.N), dim3(kScanThreads), 0, stream, pl);
  }
  if ((st = checkLaunch("scanKernel")).code != kOk) return st;
  FCOS4J_LAUNCH(selectKernel, dim3(pl.L, pl.N), dim3(kSelectThreads), 0, stream, pl);
  if ((st = checkLaunch("selectKernel")).code != kOk) return st;
  FCOS4J_LAUNCH(nmsSortKernel, dim3(pl.N), dim3(kSortThreads), 0, stream, pl);
  if ((st = checkLaunch("nmsSortKernel")).code != kOk) return st;
  const long long tiles = (long long)((pl.lay.S + 63) / 64) * ((pl.lay.S + 63) / 64);
  const int maskBlocks = (int)(tiles < kMaskMaxBlocks ? tiles : kMaskMaxBlocks);
  FCOS4J_LAUNCH(maskKernel, dim3(maskBlocks > 0 ? maskBlocks : 1, pl.N), dim3(kMaskThreads), 0, stream, pl);
  if ((st = checkLaunch("maskKernel")).code != kOk) return st;
  FCOS4J_LAUNCH(reduceKernel, dim3(pl.N), dim3(32), sizeof(unsigned long long) * (pl.lay.Wd > 0 ? pl.lay.Wd : 1),
                stream, pl);
  if ((st = checkLaunch("reduceKernel")).code != kOk) return st;
  return Status{kOk, {0}};
}

Status readErrorInfo(const Params& params, const Shape& shape, const void* workspace, int image, int32_t out[4]) {
  Status st = validate(params, shape);
  if (st.code != kOk) return st;
  if (image < 0 || image >= shape.batch || !workspace || !out)
    return makeStatus(kInvalidArgument, "fcos4j: readErrorInfo: bad image index or null pointer");
  unsigned long long key = 0;
  const cudaError_t e = cudaMemcpy(&key, static_cast<const unsigned char*>(workspace) + sizeof key * image,
                                   sizeof key, cudaMemcpyDeviceToHost);
  if (e != cudaSuccess) return makeStatus(kCudaError, "fcos4j: reading the error info failed: %s", cudaGetErrorString(e));
  out[0] = out[1] = out[2] = out[3] = 0;
  if (key != spec::kNoError) {
    out[0] = (int32_t)((key >> 48) & 0xff);
    out[1] = (int32_t)(key >> 56);
    out[2] = (int32_t)(key & 0xffffffffffffull);
  }
  return Status{kOk, {0}};
}

}  // namespace fcos4j

// The post-processing rules of engines/POSTPROCESS.md (COMMON.md decisions) as host+device inline
// functions: the single source of truth for the kernels (native/src/kernels) and the host reference
// (native/src/reference). Everything is float32 with no FMA contraction (nvcc --fmad=false, g++
// -ffp-contract=off) except the sigmoid, which goes through double as the spec says.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <math.h>

#if defined(__CUDACC__)
#define FCOS4J_HD __host__ __device__ __forceinline__
#else
#define FCOS4J_HD inline
#endif

namespace fcos4j {
namespace spec {

enum : int { kMmdet = 0, kFcos = 1, kTorchvision = 2 };

/** sigmoid(x) = (float)(1 / (1 + exp(-(double)x))). */
FCOS4J_HD float sigmoid(float x) { return (float)(1.0 / (1.0 + exp(-(double)x))); }

FCOS4J_HD bool isFinite(float v) { return v - v == 0.0f; }  // false for NaN and +-Inf

/** cls is NaN or +Inf: an error (COMMON.md); -Inf is probability 0. */
FCOS4J_HD bool clsIsBad(float x) { return x != x || x == INFINITY; }

/** The quantity the threshold is applied to, from the class probability alone: mmdet/fcos the
 *  probability itself; torchvision an upper bound of sqrt(p * sigmoid(ctr)) (ctr prob <= 1 and float
 *  rounding is monotone, so sqrtf(p * q) <= sqrtf(p)). "Gate": a point with gate <= thr is never a
 *  candidate, so its reg/ctr are never read. */
FCOS4J_HD float gateValue(int convention, float prob) {
  return convention == kTorchvision ? sqrtf(prob) : prob;
}

/** Final candidate rule given both probabilities. */
FCOS4J_HD bool isCandidate(int convention, float prob, float ctrProb, float thr) {
  if (convention == kTorchvision) return sqrtf(prob * ctrProb) > thr;
  return prob > thr;
}

/** The per-level ranking key (top nms_pre by it, descending). */
FCOS4J_HD float rankValue(int convention, float prob, float ctrProb) {
  switch (convention) {
    case kMmdet: return prob;
    case kFcos: return prob * ctrProb;
    default: return sqrtf(prob * ctrProb);
  }
}

/** The detection score. */
FCOS4J_HD float finalScore(int convention, float prob, float ctrProb) {
  switch (convention) {
    case kMmdet: return prob * ctrProb;
    default: return sqrtf(prob * ctrProb);
  }
}

/** 64-bit selection key: larger = ranked first. Scores are >= 0 so their bit patterns order like the
 *  values; the low half is ~flat so equal scores rank by ascending flat index (p*C + c). Never 0 for
 *  flat < 2^32 - 1 (validate() guarantees), so 0 can pad. */
FCOS4J_HD uint64_t rankKey(float value, uint32_t flat) {
  union { float f; uint32_t u; } b;
  b.f = value;
  return ((uint64_t)b.u << 32) | (uint64_t)(~flat);
}
FCOS4J_HD uint32_t keyFlat(uint64_t key) { return ~(uint32_t)(key & 0xffffffffu); }
FCOS4J_HD float keyValue(uint64_t key) {
  union { float f; uint32_t u; } b;
  b.u = (uint32_t)(key >> 32);
  return b.f;
}

/** Grid step of a level along one axis: the nominal stride, except for torchvision, whose AnchorGenerator
 *  steps by padded_size // level_size (integer division; the padded size is level 0's size times its
 *  stride, inputs being padded to a multiple of 32). P6/P7 differ from the nominal stride unless the
 *  padded size is a multiple of 64/128 (800 px: 61 and 114). engines/POSTPROCESS.md, point table. */
FCOS4J_HD int pointSpacing(int convention, int stride, int level0Size, int level0Stride, int levelSize) {
  return convention == kTorchvision ? (level0Size * level0Stride) / levelSize : stride;
}

/** Point coordinate of grid column/row `i` on a level whose grid step (pointSpacing) is `s`. */
FCOS4J_HD float pointCoord(int convention, int i, int s) {
  switch (convention) {
    case kMmdet: return ((float)i + 0.5f) * (float)s;
    case kFcos: return (float)(i * s + s / 2);
    default: return (float)(i * s);
  }
}

/** Clamp bound offset: fcos clamps to [0, size - 1] (maskrcnn_benchmark TO_REMOVE = 1), others [0, size]. */
FCOS4J_HD float clampHigh(int convention, float size) { return convention == kFcos ? size - 1.0f : size; }

/** max(lo=0, min(v, hi)) with -0 mapped to +0 (like Java's Math.max/min). */
FCOS4J_HD float clamp0(float v, float hi) {
  v = v > 0.0f ? v : 0.0f;
  return v < hi ? v : hi;
}

/** Rescale happens before NMS (mmdet) or after it (fcos, torchvision). */
FCOS4J_HD bool rescaleBeforeNms(int convention) { return convention == kMmdet; }
/** Only mmdet drops boxes with non-positive width or height (after rescale, before NMS). */
FCOS4J_HD bool hasSizeFilter(int convention) { return convention == kMmdet; }
/** fcos uses the +1 pixel convention in IoU. */
FCOS4J_HD float iouOffset(int convention) { return convention == kFcos ? 1.0f : 0.0f; }

/** Decodes one point: box (x1,y1,x2,y2) in resized-input pixels, clamped, rescaled when the convention
 *  rescales before NMS. info = {resizedH, resizedW, scaleY, scaleX}. */
FCOS4J_HD void decodeBox(int convention, float px, float py, float l, float t, float r, float b,
                         const float info[4], float out[4]) {
  float x1 = px - l, y1 = py - t, x2 = px + r, y2 = py + b;
  const float hx = clampHigh(convention, info[1]), hy = clampHigh(convention, info[0]);
  x1 = clamp0(x1, hx);
  x2 = clamp0(x2, hx);
  y1 = clamp0(y1, hy);
  y2 = clamp0(y2, hy);
  if (rescaleBeforeNms(convention)) {
    x1 *= info[3];
    x2 *= info[3];
    y1 *= info[2];
    y2 *= info[2];
  }
  out[0] = x1;
  out[1] = y1;
  out[2] = x2;
  out[3] = y2;
}

/** Box survives the size filter (always true when the convention has none). */
FCOS4J_HD bool keepBySize(int convention, const float box[4]) {
  return !hasSizeFilter(convention) || (box[2] - box[0] > 0.0f && box[3] - box[1] > 0.0f);
}

/** Box to output coordinates (identity when already rescaled before NMS). */
FCOS4J_HD void finalBox(int convention, const float box[4], const float info[4], float out[4]) {
  if (rescaleBeforeNms(convention)) {
    for (int i = 0; i < 4; ++i) out[i] = box[i];
  } else {
    out[0] = box[0] * info[3];
    out[1] = box[1] * info[2];
    out[2] = box[2] * info[3];
    out[3] = box[3] * info[2];
  }
}

/** IoU > threshold, computed as the spec says (symmetric in a and b). */
FCOS4J_HD bool iouAbove(const float a[4], const float b[4], float offset, float thr) {
  const float iw0 = fminf(a[2], b[2]) - fmaxf(a[0], b[0]) + offset;
  const float ih0 = fminf(a[3], b[3]) - fmaxf(a[1], b[1]) + offset;
  const float iw = iw0 > 0.0f ? iw0 : 0.0f;
  const float ih = ih0 > 0.0f ? ih0 : 0.0f;
  const float inter = iw * ih;
  const float areaA = (a[2] - a[0] + offset) * (a[3] - a[1] + offset);
  const float areaB = (b[2] - b[0] + offset) * (b[3] - b[1] + offset);
  return inter / (areaA + areaB - inter) > thr;
}

/** The float NMS compares the float IoU with (`iou > value`, iouAbove). mmdet and fcos: the threshold itself
 *  (they compare floats). torchvision compares with its threshold as a double, the decimal the user wrote:
 *  taken as the shortest decimal that rounds to `thr`; when `thr` lies above it (0.6f > 0.6), `iou > decimal`
 *  equals `iou >= thr`, i.e. `iou > nextafterf(thr, -inf)`. Host only; PostProcessConfig.nmsIouThreshold()
 *  in Java computes the same value. */
inline float nmsIouThreshold(int convention, float thr) {
  if (convention != kTorchvision) return thr;
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*e", digits - 1, (double)thr);
    const double decimal = std::strtod(text, nullptr);
    if ((float)decimal == thr) return (double)thr > decimal ? nextafterf(thr, -INFINITY) : thr;
  }
  return thr;  // unreachable: 9 significant digits always round-trip a float
}

/** NMS ordering key for the candidate in concatenation slot `slot` (level-major, rank-minor): score
 *  descending, ties by slot ascending. Scores >= 0; never 0 for slot < 2^32 - 1. */
FCOS4J_HD uint64_t nmsKey(float score, uint32_t slot) { return rankKey(score, slot); }

/** Error position key: the smallest over the image is the one reported (level, then tensor kind
 *  cls=1 < reg=2 < ctr=3, then flat NCHW index within the image's level tensor). */
enum : int { kErrNone = 0, kErrCls = 1, kErrReg = 2, kErrCtr = 3 };
FCOS4J_HD uint64_t errorKey(int level, int kind, uint64_t index) {
  return ((uint64_t)level << 56) | ((uint64_t)kind << 48) | (index & 0xffffffffffffull);
}
constexpr uint64_t kNoError = ~0ull;

}  // namespace spec
}  // namespace fcos4j

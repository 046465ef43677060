// Host-only parts of the spec: logit prefilter threshold, fp16 decoding, image info per convention.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "spec.h"

namespace fcos4j {
namespace spec {

inline int32_t orderedFromFloat(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i >= 0 ? i : (int32_t)(0x80000000u - (uint32_t)i) ;  // monotone map of floats to int32
}
inline float floatFromOrdered(int32_t o) {
  int32_t i = o >= 0 ? o : (int32_t)(0x80000000u - (uint32_t)o);
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}

/** A logit L such that x <= L implies gateValue(sigmoid(x)) <= thr, so only values above L (and NaN)
 *  need the exact rule. Conservative by a few ulps so a device exp() that differs from the host's in the
 *  last place cannot make the prefilter drop a candidate. */
inline float logitPrefilter(int convention, float thr) {
  auto gate = [&](float x) { return gateValue(convention, sigmoid(x)); };
  int32_t lo = orderedFromFloat(-std::numeric_limits<float>::max());
  int32_t hi = orderedFromFloat(std::numeric_limits<float>::max());
  if (gate(floatFromOrdered(lo)) > thr) return -INFINITY;
  if (gate(floatFromOrdered(hi)) <= thr) return std::numeric_limits<float>::max();
  while (hi - lo > 1) {  // invariant: gate(lo) <= thr < gate(hi)
    int32_t mid = lo + (hi - lo) / 2;
    if (gate(floatFromOrdered(mid)) <= thr) lo = mid; else hi = mid;
  }
  return floatFromOrdered(lo - 16);
}

/** IEEE binary16 bits to float (exact). */
inline float halfBitsToFloat(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal: value = man * 2^-24
      float f = (float)man * 5.9604644775390625e-8f;
      std::memcpy(&bits, &f, 4);
      bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

/** Float to IEEE binary16 bits, round to nearest even (for tests). */
inline uint16_t floatToHalfBits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  const uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u);
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520 -> inf
  if (ax < 0x38800000u) {                         // below the smallest normal half: subnormal or 0
    float a;
    std::memcpy(&a, &ax, 4);
    float scaled = a * 16777216.0f;  // exact: multiply by 2^24
    uint32_t m = (uint32_t)std::nearbyint(scaled);
    return sign | (uint16_t)m;
  }
  uint32_t e = (ax >> 23) - 112, man = ax & 0x7fffffu;
  uint32_t h = (e << 10) | (man >> 13);
  uint32_t rest = man & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return sign | (uint16_t)h;
}

/** One image_info row {resizedH, resizedW, scaleY, scaleX}: multipliers resized -> original pixels. */
inline void imageInfoRow(int convention, int originalH, int originalW, int resizedH, int resizedW,
                         float out[4]) {
  out[0] = (float)resizedH;
  out[1] = (float)resizedW;
  switch (convention) {
    case kMmdet:  // mmdet divides by scale_factor = resized / original (double), as float
      out[2] = (float)(1.0 / ((double)resizedH / originalH));
      out[3] = (float)(1.0 / ((double)resizedW / originalW));
      break;
    case kFcos:
      out[2] = (float)((double)originalH / resizedH);
      out[3] = (float)((double)originalW / resizedW);
      break;
    default:
      out[2] = (float)originalH / (float)resizedH;
      out[3] = (float)originalW / (float)resizedW;
      break;
  }
}

}  // namespace spec
}  // namespace fcos4j

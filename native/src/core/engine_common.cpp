// Host-side parts of the engine shared by both flavours: validation, workspace layout, image info.
#include <cmath>
#include <cstdio>

#include "../kernels/workspace.h"
#include "../spec/spec_host.h"
#include "engine.h"

namespace fcos4j {
namespace {

Status fail(const char* fmt, long long a = 0, long long b = 0) {
  Status st;
  st.code = kInvalidArgument;
  std::snprintf(st.message, sizeof st.message, fmt, a, b);
  return st;
}

size_t alignUp(size_t v) { return (v + kWorkspaceAlign - 1) / kWorkspaceAlign * kWorkspaceAlign; }

int pow2AtLeast(int v) {
  int p = 1;
  while (p < v) p <<= 1;
  return v == 0 ? 0 : p;
}

}  // namespace

Status validate(const Params& p, const Shape& s) {
  const int conv = static_cast<int>(p.convention);
  if (conv < 0 || conv > 2) return fail("fcos4j: unknown convention %lld (0 mmdet, 1 fcos, 2 torchvision)", conv);
  if (!(p.score_threshold >= 0.0f && p.score_threshold < 1.0f))
    return fail("fcos4j: score_threshold must be in [0, 1)");
  if (p.nms_pre < 1 || p.nms_pre > 10000) return fail("fcos4j: nms_pre must be in [1, 10000], got %lld", p.nms_pre);
  if (!(p.iou_threshold >= 0.0f && p.iou_threshold <= 1.0f)) return fail("fcos4j: iou_threshold must be in [0, 1]");
  if (p.max_detections < 1 || p.max_detections > 100000)
    return fail("fcos4j: max_detections must be in [1, 100000], got %lld", p.max_detections);
  if (p.num_levels < 1 || p.num_levels > kMaxLevels)
    return fail("fcos4j: num_levels must be in [1, %lld], got %lld", kMaxLevels, p.num_levels);
  if (s.num_levels != p.num_levels)
    return fail("fcos4j: shape has %lld levels but params have %lld", s.num_levels, p.num_levels);
  if (s.batch < 1 || s.batch > 65535) return fail("fcos4j: batch must be in [1, 65535], got %lld", s.batch);
  if (s.num_classes < 1 || s.num_classes > 100000)
    return fail("fcos4j: num_classes must be in [1, 100000], got %lld", s.num_classes);
  for (int l = 0; l < p.num_levels; ++l) {
    if (p.strides[l] < 1 || p.strides[l] > 4096) return fail("fcos4j: stride of level %lld must be in [1, 4096], got %lld", l, p.strides[l]);
    if (s.heights[l] < 1 || s.heights[l] > 16384 || s.widths[l] < 1 || s.widths[l] > 16384)
      return fail("fcos4j: level %lld has a bad size (height and width must be in [1, 16384]); height %lld", l, s.heights[l]);
    const long long n = (long long)s.num_classes * s.heights[l] * s.widths[l];
    if (n >= (1ll << 31) - 1) return fail("fcos4j: level %lld has %lld class scores per image (limit 2^31 - 2)", l, n);
  }
  return Status{kOk, {0}};
}

Layout computeLayout(const Params& p, const Shape& s) {
  Layout lay{};
  const size_t N = (size_t)s.batch, L = (size_t)s.num_levels, C = (size_t)s.num_classes;
  size_t off = 0;
  auto take = [&](size_t bytes) {
    const size_t at = off;
    off = alignUp(off + bytes);
    return at;
  };
  lay.errKeys = take(8 * N);
  lay.counts = take(4 * N * L);
  size_t candImage = 0, selImage = 0;
  int S = 0;
  for (size_t l = 0; l < L; ++l) {
    const size_t cap = C * s.heights[l] * s.widths[l];
    lay.candLevel[l] = candImage;
    candImage += cap;
    const int slots = (int)(cap < (size_t)p.nms_pre ? cap : (size_t)p.nms_pre);
    lay.selLevel[l] = selImage;
    selImage += (size_t)pow2AtLeast(slots);
    lay.slotCount[l] = slots;
    lay.slotBase[l] = S;
    S += slots;
  }
  lay.candImage = candImage;
  lay.selImage = selImage;
  lay.S = S;
  lay.Sp = pow2AtLeast(S);
  lay.Wd = (S + 63) / 64;
  lay.cand = take(8 * N * candImage);
  lay.sel = take(8 * N * selImage);
  lay.slotBox = take(16 * N * S);
  lay.slotScore = take(4 * N * S);
  lay.slotClass = take(4 * N * S);
  lay.nmsKeys = take(8 * N * lay.Sp);
  lay.sortedBox = take(16 * N * S);
  lay.sortedScore = take(4 * N * S);
  lay.sortedClass = take(4 * N * S);
  lay.validCount = take(4 * N);
  lay.mask = take(8 * N * (size_t)S * lay.Wd);
  lay.kept = take(4 * N * (size_t)p.max_detections);
  lay.total = off;
  return lay;
}

size_t workspaceSize(const Params& params, const Shape& maxShape) {
  if (validate(params, maxShape).code != kOk) return 0;
  return computeLayout(params, maxShape).total;
}

void imageInfoFor(Convention convention, int originalH, int originalW, int resizedH, int resizedW, float out[4]) {
  spec::imageInfoRow(static_cast<int>(convention), originalH, originalW, resizedH, resizedW, out);
}

}  // namespace fcos4j

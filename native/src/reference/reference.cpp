#include "reference.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "../spec/spec.h"
#include "../spec/spec_host.h"

namespace fcos4j {
namespace {

struct Loader {
  DataType dtype;
  const void* base;
  float operator()(size_t i) const {
    if (dtype == DataType::kFloat16) return spec::halfBitsToFloat(static_cast<const uint16_t*>(base)[i]);
    return static_cast<const float*>(base)[i];
  }
};

struct Cand {
  float box[4];
  float score;
  int cls;
};

}  // namespace

Status referenceRun(const Params& params, const Shape& shape, DataType dtype, const void* const cls[],
                    const void* const reg[], const void* const ctr[], const float* imageInfo,
                    int32_t* numDetections, float* boxes, float* scores, int32_t* classes,
                    int32_t* errorInfo) {
  Status st = validate(params, shape);
  if (st.code != kOk) return st;
  const int conv = static_cast<int>(params.convention);
  const int N = shape.batch, C = shape.num_classes, L = shape.num_levels, K = params.max_detections;
  const float thr = params.score_threshold;
  const float logitThr = spec::logitPrefilter(conv, thr);
  const float off = spec::iouOffset(conv);
  const float iouThr = spec::nmsIouThreshold(conv, params.iou_threshold);

  for (int n = 0; n < N; ++n) {
    const float* info = imageInfo + 4 * n;
    uint64_t err = spec::kNoError;
    std::vector<Cand> all;  // concatenation order: level-major, rank-minor
    for (int l = 0; l < L && err == spec::kNoError; ++l) {
      const int H = shape.heights[l], W = shape.widths[l], s = params.strides[l];
      const size_t HW = (size_t)H * W;
      Loader lc{dtype, cls[l]}, lr{dtype, reg[l]}, lt{dtype, ctr[l]};
      const size_t clsBase = (size_t)n * C * HW, regBase = (size_t)n * 4 * HW, ctrBase = (size_t)n * HW;
      // One pass in NCHW order over the logits; reg/ctr are read only at gated points.
      std::vector<uint64_t> keys;
      for (int c = 0; c < C; ++c) {
        for (size_t p = 0; p < HW; ++p) {
          const float x = lc(clsBase + (size_t)c * HW + p);
          if (x <= logitThr) continue;
          if (spec::clsIsBad(x)) {
            err = std::min(err, spec::errorKey(l, spec::kErrCls, (uint64_t)c * HW + p));
            continue;
          }
          const float prob = spec::sigmoid(x);
          if (!(spec::gateValue(conv, prob) > thr)) continue;
          for (int k = 0; k < 4; ++k) {
            if (!spec::isFinite(lr(regBase + k * HW + p))) {
              err = std::min(err, spec::errorKey(l, spec::kErrReg, (uint64_t)k * HW + p));
              break;
            }
          }
          const float ct = lt(ctrBase + p);
          if (!spec::isFinite(ct)) {
            err = std::min(err, spec::errorKey(l, spec::kErrCtr, p));
            continue;
          }
          const float cp = spec::sigmoid(ct);
          if (!spec::isCandidate(conv, prob, cp, thr)) continue;
          keys.push_back(spec::rankKey(spec::rankValue(conv, prob, cp), (uint32_t)(p * C + c)));
        }
      }
      if (err != spec::kNoError) break;
      const size_t k = std::min(keys.size(), (size_t)params.nms_pre);
      std::partial_sort(keys.begin(), keys.begin() + k, keys.end(), std::greater<uint64_t>());
      for (size_t r = 0; r < k; ++r) {
        const uint32_t flat = spec::keyFlat(keys[r]);
        const size_t p = flat / C;
        const int c = (int)(flat % C);
        const int y = (int)(p / W), xg = (int)(p % W);
        const float prob = spec::sigmoid(lc(clsBase + (size_t)c * HW + p));
        const float cp = spec::sigmoid(lt(ctrBase + p));
        Cand cd;
        const int sx = spec::pointSpacing(conv, s, shape.widths[0], params.strides[0], W);
        const int sy = spec::pointSpacing(conv, s, shape.heights[0], params.strides[0], H);
        spec::decodeBox(conv, spec::pointCoord(conv, xg, sx), spec::pointCoord(conv, y, sy),
                        lr(regBase + 0 * HW + p), lr(regBase + 1 * HW + p), lr(regBase + 2 * HW + p),
                        lr(regBase + 3 * HW + p), info, cd.box);
        if (!spec::keepBySize(conv, cd.box)) continue;
        cd.score = spec::finalScore(conv, prob, cp);
        cd.cls = c;
        all.push_back(cd);
      }
    }
    int32_t* ei = errorInfo ? errorInfo + 4 * n : nullptr;
    float* ob = boxes + (size_t)n * K * 4;
    float* os = scores + (size_t)n * K;
    int32_t* oc = classes + (size_t)n * K;
    std::fill(ob, ob + (size_t)K * 4, 0.0f);
    std::fill(os, os + K, 0.0f);
    std::fill(oc, oc + K, 0);
    if (ei) std::fill(ei, ei + 4, 0);
    if (err != spec::kNoError) {
      numDetections[n] = -1;
      if (ei) {
        ei[0] = (int32_t)((err >> 48) & 0xff);
        ei[1] = (int32_t)(err >> 56);
        ei[2] = (int32_t)(err & 0xffffffffffffull);
      }
      continue;
    }
    std::stable_sort(all.begin(), all.end(), [](const Cand& a, const Cand& b) { return a.score > b.score; });
    std::vector<int> kept;
    for (size_t i = 0; i < all.size() && (int)kept.size() < K; ++i) {
      bool keep = true;
      for (int j : kept) {
        if (all[j].cls == all[i].cls && spec::iouAbove(all[j].box, all[i].box, off, iouThr)) {
          keep = false;
          break;
        }
      }
      if (keep) kept.push_back((int)i);
    }
    numDetections[n] = (int32_t)kept.size();
    for (size_t d = 0; d < kept.size(); ++d) {
      const Cand& cd = all[kept[d]];
      spec::finalBox(conv, cd.box, info, ob + 4 * d);
      os[d] = cd.score;
      oc[d] = cd.cls;
    }
  }
  return Status{kOk, {0}};
}

}  // namespace fcos4j

// The C API of libfcos4j_emu.so: handle lifecycle, argument errors with messages, run_host / run_sync
// results equal to the host reference, non-finite input reported with image, tensor and position.
#include "fcos4j/fcos4j.h"

#include <string>

#include "test_util.h"

using namespace fcos4j;
using namespace fcos4j::test;

namespace {

fcos4j_params toC(const Params& p) {
  fcos4j_params c{};
  c.convention = (int32_t)p.convention;
  c.score_threshold = p.score_threshold;
  c.nms_pre = p.nms_pre;
  c.iou_threshold = p.iou_threshold;
  c.max_detections = p.max_detections;
  c.num_levels = p.num_levels;
  for (int l = 0; l < FCOS4J_MAX_LEVELS; ++l) c.strides[l] = p.strides[l];
  return c;
}

fcos4j_shape toC(const Shape& s) {
  fcos4j_shape c{};
  c.batch = s.batch;
  c.num_classes = s.num_classes;
  c.num_levels = s.num_levels;
  for (int l = 0; l < FCOS4J_MAX_LEVELS; ++l) {
    c.heights[l] = s.heights[l];
    c.widths[l] = s.widths[l];
  }
  return c;
}

Case smallCase(int conv, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  Case cs;
  cs.name = "capi";
  cs.params = defaultParams(conv);
  cs.params.num_levels = 3;
  cs.shape.batch = 2;
  cs.shape.num_classes = 3;
  cs.shape.num_levels = 3;
  const int hs[] = {10, 5, 3}, ws[] = {12, 6, 3};
  for (int l = 0; l < 3; ++l) {
    cs.shape.heights[l] = hs[l];
    cs.shape.widths[l] = ws[l];
    const size_t HW = (size_t)hs[l] * ws[l];
    std::vector<float> c(2 * 3 * HW), r(2 * 4 * HW), t(2 * HW);
    for (auto& v : c) v = -5.f + 7.f * u(rng);
    for (auto& v : r) v = 40.f * u(rng);
    for (auto& v : t) v = -2.f + 4.f * u(rng);
    cs.cls.push_back(c);
    cs.reg.push_back(r);
    cs.ctr.push_back(t);
  }
  cs.info.resize(8);
  spec::imageInfoRow(conv, 60, 90, 80, 96, &cs.info[0]);
  spec::imageInfoRow(conv, 200, 100, 77, 90, &cs.info[4]);
  return cs;
}

// torchvision's NMS compares the float IoU with its threshold as a double: A = [8,8,18,18] and
// B = [8,8,18,14] (one class, one 4x4 level of stride 8, points at x*8, y*8) overlap with IoU exactly 0.6f,
// which torchvision suppresses at 0.6 (0.6f > 0.6) and keeps at 0.61.
Case iouTieCase(float iouThreshold) {
  Case cs;
  cs.name = "iou_tie";
  cs.params = defaultParams(spec::kTorchvision);
  cs.params.iou_threshold = iouThreshold;
  cs.params.num_levels = 1;
  cs.shape.batch = 1;
  cs.shape.num_classes = 1;
  cs.shape.num_levels = 1;
  cs.shape.heights[0] = 4;
  cs.shape.widths[0] = 4;
  std::vector<float> c(16, -30.f), r(4 * 16, 1.f), t(16, 0.f);
  auto put = [&](int x, int y, float logit, float l, float tp, float rr, float b) {
    const int p = y * 4 + x;
    c[p] = logit;
    r[0 * 16 + p] = l;
    r[1 * 16 + p] = tp;
    r[2 * 16 + p] = rr;
    r[3 * 16 + p] = b;
  };
  put(1, 1, 3.f, 0.f, 0.f, 10.f, 10.f);  // A at (8, 8)
  put(2, 1, 2.f, 8.f, 0.f, 2.f, 6.f);    // B at (16, 8)
  cs.cls.push_back(c);
  cs.reg.push_back(r);
  cs.ctr.push_back(t);
  cs.info.resize(4);
  spec::imageInfoRow(spec::kTorchvision, 32, 32, 32, 32, &cs.info[0]);
  return cs;
}

bool contains(const char* text, const char* part) { return std::string(text).find(part) != std::string::npos; }

}  // namespace

int main() {
  CHECK(std::string(fcos4j_version()) == "0.1.0", "version %s", fcos4j_version());
  CHECK(fcos4j_is_emulated() == 1, "emulated flag");
  int32_t devices = -1;
  CHECK(fcos4j_device_count(&devices) == FCOS4J_OK && devices >= 1, "device count %d: %s", devices, fcos4j_last_error());
  CHECK(fcos4j_device_count(nullptr) == FCOS4J_ERR_INVALID_ARGUMENT, "null count accepted");

  // image_info: mmdet's reciprocal of the double scale factor, rounded once to float.
  float info[4];
  CHECK(fcos4j_image_info(FCOS4J_MMDET, 480, 640, 800, 1067, info) == FCOS4J_OK, "image_info");
  CHECK(info[0] == 800.f && info[1] == 1067.f && info[2] == (float)(1.0 / (800.0 / 480.0)) &&
            info[3] == (float)(1.0 / (1067.0 / 640.0)), "image_info values");
  CHECK(fcos4j_image_info(7, 1, 1, 1, 1, info) == FCOS4J_ERR_INVALID_ARGUMENT && contains(fcos4j_last_error(), "convention"),
        "bad convention: %s", fcos4j_last_error());

  // The NMS threshold as the conventions compare it (engines/POSTPROCESS.md section 4).
  CHECK(spec::nmsIouThreshold(spec::kTorchvision, 0.6f) == nextafterf(0.6f, -INFINITY), "torchvision 0.6f > 0.6");
  CHECK(spec::nmsIouThreshold(spec::kTorchvision, 0.5f) == 0.5f, "0.5 is exact");
  CHECK(spec::nmsIouThreshold(spec::kTorchvision, 0.7f) == 0.7f, "0.7f < 0.7: strict compare unchanged");
  CHECK(spec::nmsIouThreshold(spec::kMmdet, 0.6f) == 0.6f && spec::nmsIouThreshold(spec::kFcos, 0.6f) == 0.6f,
        "mmdet and fcos compare floats");
  for (float iouThr : {0.6f, 0.61f}) {
    const Case tie = iouTieCase(iouThr);
    const Result ref = runReference(tie);
    const int want = iouThr == 0.6f ? 1 : 2;
    CHECK(ref.num[0] == want, "IoU exactly 0.6f at threshold %g: %d detections, torchvision keeps %d", iouThr,
          ref.num[0], want);
    fcos4j_postprocessor* h = nullptr;
    const fcos4j_params p = toC(tie.params);
    const fcos4j_shape shape = toC(tie.shape);
    CHECK(fcos4j_postprocessor_create(&p, &shape, FCOS4J_FLOAT32, &h) == FCOS4J_OK, "create: %s", fcos4j_last_error());
    HostTensors ht = hostTensors(tie);
    Result got;
    got.num.assign(1, 0);
    got.boxes.assign((size_t)tie.params.max_detections * 4, 0.f);
    got.scores.assign((size_t)tie.params.max_detections, 0.f);
    got.classes.assign((size_t)tie.params.max_detections, 0);
    got.errorInfo.assign(4, 0);
    CHECK(fcos4j_postprocessor_run_host(h, &shape, ht.c, ht.r, ht.t, tie.info.data(), got.num.data(), got.boxes.data(),
                                        got.scores.data(), got.classes.data()) == FCOS4J_OK,
          "run_host: %s", fcos4j_last_error());
    const std::string diff = compare(tie, ref, got);
    CHECK(diff.empty(), "IoU tie, kernels vs reference: %s", diff.c_str());
    fcos4j_postprocessor_destroy(h);
  }

  for (int conv = 0; conv < 3; ++conv) {
    Case cs = smallCase(conv, 99 + conv);
    const fcos4j_params p = toC(cs.params);
    fcos4j_shape maxShape = toC(cs.shape);
    maxShape.batch = 3;
    fcos4j_postprocessor* h = nullptr;

    // Argument errors name the option at fault and leave no handle.
    fcos4j_params bad = p;
    bad.nms_pre = 0;
    CHECK(fcos4j_postprocessor_create(&bad, &maxShape, FCOS4J_FLOAT32, &h) == FCOS4J_ERR_INVALID_ARGUMENT && !h &&
              contains(fcos4j_last_error(), "nms_pre"), "nms_pre 0: %s", fcos4j_last_error());
    bad = p;
    bad.score_threshold = 1.5f;
    CHECK(fcos4j_postprocessor_create(&bad, &maxShape, FCOS4J_FLOAT32, &h) == FCOS4J_ERR_INVALID_ARGUMENT &&
              contains(fcos4j_last_error(), "score_threshold"), "threshold: %s", fcos4j_last_error());
    CHECK(fcos4j_postprocessor_create(&p, &maxShape, 9, &h) == FCOS4J_ERR_INVALID_ARGUMENT, "dtype");

    CHECK(fcos4j_postprocessor_create(&p, &maxShape, FCOS4J_FLOAT32, &h) == FCOS4J_OK && h, "create: %s", fcos4j_last_error());
    size_t ws = 0;
    CHECK(fcos4j_postprocessor_workspace_size(h, &ws) == FCOS4J_OK && ws == workspaceSize(cs.params, Shape{3, cs.shape.num_classes, 3, {10, 5, 3}, {12, 6, 3}}),
          "workspace size %zu", ws);

    // run_host == reference.
    const Result ref = runReference(cs);
    HostTensors ht = hostTensors(cs);
    const int N = cs.shape.batch, K = cs.params.max_detections;
    Result got;
    got.num.assign(N, 5);
    got.boxes.assign((size_t)N * K * 4, 9.f);
    got.scores.assign((size_t)N * K, 9.f);
    got.classes.assign((size_t)N * K, 9);
    got.errorInfo.assign((size_t)N * 4, 0);
    const fcos4j_shape shape = toC(cs.shape);
    CHECK(fcos4j_postprocessor_run_host(h, &shape, ht.c, ht.r, ht.t, cs.info.data(), got.num.data(), got.boxes.data(),
                                        got.scores.data(), got.classes.data()) == FCOS4J_OK,
          "run_host: %s", fcos4j_last_error());
    std::string diff = compare(cs, ref, got);
    CHECK(diff.empty(), "conv %d run_host vs reference: %s", conv, diff.c_str());
    CHECK(ref.num[0] > 0 && ref.num[1] > 0, "degenerate case");

    // A shape beyond the maximum is refused.
    fcos4j_shape big = shape;
    big.heights[0] = 11;
    CHECK(fcos4j_postprocessor_run_host(h, &big, ht.c, ht.r, ht.t, cs.info.data(), got.num.data(), got.boxes.data(),
                                        got.scores.data(), got.classes.data()) == FCOS4J_ERR_INVALID_ARGUMENT &&
              contains(fcos4j_last_error(), "exceeds"), "big shape: %s", fcos4j_last_error());

    // NaN in cls_1 of image 1 at channel 2, y 3, x 4 -> error naming all of it; image 0 unaffected.
    Case nanCase = cs;
    nanCase.cls[1][(size_t)(1 * 3 + 2) * 30 + 3 * 6 + 4] = NAN;
    HostTensors hn = hostTensors(nanCase);
    CHECK(fcos4j_postprocessor_run_host(h, &shape, hn.c, hn.r, hn.t, cs.info.data(), got.num.data(), got.boxes.data(),
                                        got.scores.data(), got.classes.data()) == FCOS4J_ERR_NON_FINITE_INPUT,
          "NaN not reported");
    CHECK(contains(fcos4j_last_error(), "cls_1") && contains(fcos4j_last_error(), "image 1") &&
              contains(fcos4j_last_error(), "channel 2, y 3, x 4"), "NaN message: %s", fcos4j_last_error());
    CHECK(got.num[1] == -1 && got.num[0] == ref.num[0] && got.scores[(size_t)K] == 0.f, "NaN outputs");

    // run_sync on device buffers of our own, on a stream.
    void* stream = nullptr;
    CHECK(fcos4j_stream_create(&stream) == FCOS4J_OK, "stream");
    const void* dc[3];
    const void* dr[3];
    const void* dt[3];
    std::vector<void*> owned;
    for (int l = 0; l < 3; ++l) {
      void* a;
      void* b;
      void* c;
      CHECK(fcos4j_device_alloc(ht.cls[l].size(), &a) == FCOS4J_OK, "alloc");
      CHECK(fcos4j_device_alloc(ht.reg[l].size(), &b) == FCOS4J_OK, "alloc");
      CHECK(fcos4j_device_alloc(ht.ctr[l].size(), &c) == FCOS4J_OK, "alloc");
      fcos4j_copy_to_device(a, ht.cls[l].data(), ht.cls[l].size(), stream);
      fcos4j_copy_to_device(b, ht.reg[l].data(), ht.reg[l].size(), stream);
      fcos4j_copy_to_device(c, ht.ctr[l].data(), ht.ctr[l].size(), stream);
      dc[l] = a;
      dr[l] = b;
      dt[l] = c;
      owned.insert(owned.end(), {a, b, c});
    }
    void *dInfo, *dNum, *dBoxes, *dScores, *dClasses;
    fcos4j_device_alloc(cs.info.size() * 4, &dInfo);
    fcos4j_device_alloc((size_t)N * 4, &dNum);
    fcos4j_device_alloc((size_t)N * K * 16, &dBoxes);
    fcos4j_device_alloc((size_t)N * K * 4, &dScores);
    fcos4j_device_alloc((size_t)N * K * 4, &dClasses);
    fcos4j_copy_to_device(dInfo, cs.info.data(), cs.info.size() * 4, stream);
    CHECK(fcos4j_postprocessor_run_sync(h, &shape, dc, dr, dt, static_cast<float*>(dInfo), static_cast<int32_t*>(dNum),
                                        static_cast<float*>(dBoxes), static_cast<float*>(dScores),
                                        static_cast<int32_t*>(dClasses), stream) == FCOS4J_OK,
          "run_sync: %s", fcos4j_last_error());
    fcos4j_copy_to_host(got.num.data(), dNum, (size_t)N * 4, stream);
    fcos4j_copy_to_host(got.boxes.data(), dBoxes, (size_t)N * K * 16, stream);
    fcos4j_copy_to_host(got.scores.data(), dScores, (size_t)N * K * 4, stream);
    fcos4j_copy_to_host(got.classes.data(), dClasses, (size_t)N * K * 4, stream);
    CHECK(fcos4j_stream_synchronize(stream) == FCOS4J_OK, "sync");
    diff = compare(cs, ref, got);
    CHECK(diff.empty(), "conv %d run_sync vs reference: %s", conv, diff.c_str());
    CHECK(fcos4j_postprocessor_run(nullptr, &shape, dc, dr, dt, nullptr, nullptr, nullptr, nullptr, nullptr, stream) ==
              FCOS4J_ERR_INVALID_ARGUMENT, "null handle");
    for (void* q : owned) fcos4j_device_free(q);
    for (void* q : {dInfo, dNum, dBoxes, dScores, dClasses}) fcos4j_device_free(q);
    fcos4j_stream_destroy(stream);
    fcos4j_postprocessor_destroy(h);
  }
  fcos4j_postprocessor_destroy(nullptr);
  std::printf("C API checks passed\n");
  return 0;
}

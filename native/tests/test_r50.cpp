// Emulated kernels vs host reference at the real R-50 FCOS head shape (input 800x1344: levels 100x168,
// 50x84, 25x42, 13x21, 7x11; 80 classes), batch 1-4, trained-like (few candidates), medium and dense
// logits, all three conventions, fp32 and fp16; on a device (the CUDA build) also batches 8, 16 and 32.
// Prints the kernels' time of every case (target for the emulated batch-1 case: <= 10 s on 2 cores).
// Argument "base": the batch 1-4 cases only.
#include <cstdio>

#include "test_util.h"

using namespace fcos4j;
using namespace fcos4j::test;

namespace {

Case r50Case(int convention, int batch, int mode, DataType dtype, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u01(0.f, 1.f);
  Case cs;
  const char* modes[] = {"few", "medium", "dense"};
  cs.name = std::string("r50 conv") + std::to_string(convention) + " batch " + std::to_string(batch) + " " +
            modes[mode] + (dtype == DataType::kFloat16 ? " fp16" : " fp32");
  cs.params = defaultParams(convention);
  cs.dtype = dtype;
  cs.shape.batch = batch;
  cs.shape.num_classes = 80;
  cs.shape.num_levels = 5;
  const int hs[] = {100, 50, 25, 13, 7}, ws[] = {168, 84, 42, 21, 11};
  for (int l = 0; l < 5; ++l) {
    cs.shape.heights[l] = hs[l];
    cs.shape.widths[l] = ws[l];
  }
  for (int l = 0; l < 5; ++l) {
    const size_t HW = (size_t)hs[l] * ws[l];
    const float s = (float)cs.params.strides[l];
    std::vector<float> c((size_t)batch * 80 * HW), r((size_t)batch * 4 * HW), t((size_t)batch * HW);
    for (auto& v : c) {
      const float x = u01(rng);
      if (mode == 0) v = x < 0.0015f ? -2.5f + 6.f * u01(rng) : -9.f + 5.f * x;  // a few hundred above 0.05
      else if (mode == 1) v = -6.f + 7.f * x;
      else v = -1.f + 6.f * x;  // every score above every threshold
    }
    for (auto& v : r) v = s * (0.25f + 6.f * u01(rng));
    for (auto& v : t) v = -3.f + 6.f * u01(rng);
    cs.cls.push_back(std::move(c));
    cs.reg.push_back(std::move(r));
    cs.ctr.push_back(std::move(t));
  }
  cs.info.resize((size_t)batch * 4);
  for (int n = 0; n < batch; ++n) spec::imageInfoRow(convention, 480 + 7 * n, 640 + 3 * n, 800 - n, 1067 + n, &cs.info[4 * n]);
  return cs;
}

}  // namespace

int main(int argc, char** argv) {
  // "base": only the batch 1-4 cases (compute-sanitizer runs, which slow kernels down a hundredfold).
  const bool baseOnly = argc > 1 && std::string(argv[1]) == "base";
  (void)baseOnly;  // the emulated build has no large cases
#if !FCOS4J_EMULATED
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: skipped\n");
    return 77;
  }
#endif
  struct Spec { int conv, batch, mode; DataType dt; };
  const Spec specs[] = {
      {0, 1, 0, DataType::kFloat32}, {0, 1, 2, DataType::kFloat32}, {1, 1, 1, DataType::kFloat32},
      {2, 1, 1, DataType::kFloat32}, {0, 2, 1, DataType::kFloat16}, {1, 2, 0, DataType::kFloat32},
      {2, 3, 0, DataType::kFloat16}, {0, 4, 0, DataType::kFloat32}, {1, 1, 2, DataType::kFloat16},
      {2, 1, 2, DataType::kFloat32}, {0, 3, 1, DataType::kFloat32},
  };
  std::vector<Spec> all(std::begin(specs), std::end(specs));
#if !FCOS4J_EMULATED
  // On a device, the large batches too (the emulated flavour would take minutes for each).
  const Spec large[] = {
      {0, 8, 0, DataType::kFloat32}, {1, 8, 2, DataType::kFloat16}, {2, 16, 1, DataType::kFloat32},
      {0, 16, 2, DataType::kFloat16}, {0, 32, 0, DataType::kFloat16}, {1, 32, 1, DataType::kFloat32},
      {2, 32, 2, DataType::kFloat32},
  };
  if (!baseOnly) all.insert(all.end(), std::begin(large), std::end(large));
#endif
  int i = 0;
  for (const Spec& sp : all) {
    Case cs = r50Case(sp.conv, sp.batch, sp.mode, sp.dt, 777 + i++);
    auto t0 = std::chrono::steady_clock::now();
    const Result ref = runReference(cs);
    const double refSec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double sec = 0;
    const Result got = runEngine(cs, &sec);
    const std::string diff = compare(cs, ref, got);
    if (!diff.empty()) {
      std::fprintf(stderr, "MISMATCH %s: %s\n", cs.name.c_str(), diff.c_str());
      return 1;
    }
    int dets = 0;
    for (int n : ref.num) dets += n;
    CHECK(dets > 0, "%s: no detections (degenerate case)", cs.name.c_str());
    std::printf("%-32s identical, %4d detections; kernels %.3f s, host reference %.3f s\n", cs.name.c_str(),
                dets, sec, refSec);
    std::fflush(stdout);
  }
  return 0;
}

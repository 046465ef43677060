// Shared helpers of the native tests: seeded random cases, device buffers (emulated), comparison.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/engine.h"
#include "reference/reference.h"
#include "spec/spec_host.h"

namespace fcos4j {
namespace test {

#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      std::fprintf(stderr, "CHECK failed %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                        \
      std::fprintf(stderr, "\n");                               \
      std::exit(1);                                             \
    }                                                           \
  } while (0)

/** One post-processing problem on the host, float values (converted to fp16 bits when dtype is half). */
struct Case {
  std::string name;
  Params params{};
  Shape shape{};
  DataType dtype = DataType::kFloat32;
  std::vector<std::vector<float>> cls, reg, ctr;  // per level, NCHW
  std::vector<float> info;                        // [N][4]
};

struct Result {
  std::vector<int32_t> num;
  std::vector<float> boxes, scores;
  std::vector<int32_t> classes;
  std::vector<int32_t> errorInfo;  // [N][4]
};

/** Host buffers of a case in its dtype (fp16: raw half bits; the float values are rounded first). */
struct HostTensors {
  std::vector<std::vector<unsigned char>> cls, reg, ctr;
  const void* c[kMaxLevels];
  const void* r[kMaxLevels];
  const void* t[kMaxLevels];
};

inline std::vector<unsigned char> encode(const std::vector<float>& v, DataType dt) {
  std::vector<unsigned char> out;
  if (dt == DataType::kFloat16) {
    out.resize(v.size() * 2);
    for (size_t i = 0; i < v.size(); ++i) {
      const uint16_t h = spec::floatToHalfBits(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  } else {
    out.resize(v.size() * 4);
    std::memcpy(out.data(), v.data(), out.size());
  }
  return out;
}

inline HostTensors hostTensors(const Case& cs) {
  HostTensors h;
  for (int l = 0; l < cs.shape.num_levels; ++l) {
    h.cls.push_back(encode(cs.cls[l], cs.dtype));
    h.reg.push_back(encode(cs.reg[l], cs.dtype));
    h.ctr.push_back(encode(cs.ctr[l], cs.dtype));
  }
  for (int l = 0; l < cs.shape.num_levels; ++l) {
    h.c[l] = h.cls[l].data();
    h.r[l] = h.reg[l].data();
    h.t[l] = h.ctr[l].data();
  }
  return h;
}

inline Result runReference(const Case& cs) {
  const int N = cs.shape.batch, K = cs.params.max_detections;
  Result r;
  r.num.assign(N, 0);
  r.boxes.assign((size_t)N * K * 4, 0.f);
  r.scores.assign((size_t)N * K, 0.f);
  r.classes.assign((size_t)N * K, 0);
  r.errorInfo.assign((size_t)N * 4, 0);
  HostTensors h = hostTensors(cs);
  Status st = referenceRun(cs.params, cs.shape, cs.dtype, h.c, h.r, h.t, cs.info.data(), r.num.data(),
                           r.boxes.data(), r.scores.data(), r.classes.data(), r.errorInfo.data());
  CHECK(st.code == kOk, "%s: reference failed: %s", cs.name.c_str(), st.message);
  return r;
}

template <typename T>
T* deviceCopy(const void* src, size_t bytes) {
  void* p = nullptr;
  CHECK(cudaMalloc(&p, bytes ? bytes : 1) == cudaSuccess, "cudaMalloc %zu", bytes);
  if (bytes) CHECK(cudaMemcpy(p, src, bytes, cudaMemcpyHostToDevice) == cudaSuccess, "memcpy");
  return static_cast<T*>(p);
}

/** Runs the engine (this test binary's flavour) on device copies of the case. */
inline Result runEngine(const Case& cs, double* seconds = nullptr) {
  const int N = cs.shape.batch, K = cs.params.max_detections, L = cs.shape.num_levels;
  HostTensors h = hostTensors(cs);
  std::vector<void*> owned;
  const void* dc[kMaxLevels];
  const void* dr[kMaxLevels];
  const void* dt[kMaxLevels];
  for (int l = 0; l < L; ++l) {
    dc[l] = deviceCopy<void>(h.cls[l].data(), h.cls[l].size());
    dr[l] = deviceCopy<void>(h.reg[l].data(), h.reg[l].size());
    dt[l] = deviceCopy<void>(h.ctr[l].data(), h.ctr[l].size());
    owned.push_back(const_cast<void*>(dc[l]));
    owned.push_back(const_cast<void*>(dr[l]));
    owned.push_back(const_cast<void*>(dt[l]));
  }
  float* dInfo = deviceCopy<float>(cs.info.data(), cs.info.size() * 4);
  std::vector<int32_t> junkI((size_t)N * K * 4, 0x7b7b7b7b);  // outputs start dirty: zeroing is tested
  std::vector<float> junkF((size_t)N * K * 4, 123.0f);
  int32_t* dNum = deviceCopy<int32_t>(junkI.data(), (size_t)N * 4);
  float* dBoxes = deviceCopy<float>(junkF.data(), (size_t)N * K * 16);
  float* dScores = deviceCopy<float>(junkF.data(), (size_t)N * K * 4);
  int32_t* dClasses = deviceCopy<int32_t>(junkI.data(), (size_t)N * K * 4);
  const size_t wsBytes = workspaceSize(cs.params, cs.shape);
  CHECK(wsBytes > 0, "%s: workspaceSize 0", cs.name.c_str());
  void* ws = nullptr;
  CHECK(cudaMalloc(&ws, wsBytes) == cudaSuccess, "cudaMalloc workspace");
  cudaMemset(ws, 0xA5, wsBytes);  // stale workspace content must not matter
  cudaStream_t stream;
  CHECK(cudaStreamCreate(&stream) == cudaSuccess, "stream");
  auto t0 = std::chrono::steady_clock::now();
  Status st = enqueue(cs.params, cs.shape, cs.dtype, dc, dr, dt, dInfo, dNum, dBoxes, dScores, dClasses, ws, wsBytes,
                      stream);
  CHECK(st.code == kOk, "%s: enqueue failed: %s", cs.name.c_str(), st.message);
  const cudaError_t se = cudaStreamSynchronize(stream);
  auto t1 = std::chrono::steady_clock::now();
  CHECK(se == cudaSuccess, "%s: kernel error: %s", cs.name.c_str(), cudaGetErrorString(se));
  if (seconds) *seconds = std::chrono::duration<double>(t1 - t0).count();
  Result r;
  r.num.resize(N);
  r.boxes.resize((size_t)N * K * 4);
  r.scores.resize((size_t)N * K);
  r.classes.resize((size_t)N * K);
  r.errorInfo.assign((size_t)N * 4, 0);
  cudaMemcpy(r.num.data(), dNum, N * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(r.boxes.data(), dBoxes, r.boxes.size() * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(r.scores.data(), dScores, r.scores.size() * 4, cudaMemcpyDeviceToHost);
  cudaMemcpy(r.classes.data(), dClasses, r.classes.size() * 4, cudaMemcpyDeviceToHost);
  for (int n = 0; n < N; ++n) {
    if (r.num[n] == -1) {
      st = readErrorInfo(cs.params, cs.shape, ws, n, &r.errorInfo[4 * n]);
      CHECK(st.code == kOk, "readErrorInfo: %s", st.message);
    }
  }
  cudaStreamDestroy(stream);
  cudaFree(ws);
  for (void* p : owned) cudaFree(p);
  cudaFree(dInfo);
  cudaFree(dNum);
  cudaFree(dBoxes);
  cudaFree(dScores);
  cudaFree(dClasses);
  return r;
}

inline uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/** Bit-exact comparison of two results; returns "" when equal, else a description. */
inline std::string compare(const Case& cs, const Result& a, const Result& b) {
  char buf[512];
  const int N = cs.shape.batch, K = cs.params.max_detections;
  for (int n = 0; n < N; ++n) {
    if (a.num[n] != b.num[n]) {
      std::snprintf(buf, sizeof buf, "image %d: num_detections %d vs %d", n, a.num[n], b.num[n]);
      return buf;
    }
    if (a.num[n] == -1) {
      for (int q = 0; q < 3; ++q) {
        if (a.errorInfo[4 * n + q] != b.errorInfo[4 * n + q]) {
          std::snprintf(buf, sizeof buf, "image %d: error info (%d,%d,%d) vs (%d,%d,%d)", n, a.errorInfo[4 * n],
                        a.errorInfo[4 * n + 1], a.errorInfo[4 * n + 2], b.errorInfo[4 * n], b.errorInfo[4 * n + 1],
                        b.errorInfo[4 * n + 2]);
          return buf;
        }
      }
    }
    for (int d = 0; d < K; ++d) {
      const size_t i = (size_t)n * K + d;
      bool same = bits(a.scores[i]) == bits(b.scores[i]) && a.classes[i] == b.classes[i];
      for (int q = 0; q < 4; ++q) same = same && bits(a.boxes[4 * i + q]) == bits(b.boxes[4 * i + q]);
      if (!same) {
        std::snprintf(buf, sizeof buf,
                      "image %d slot %d: (%.9g %.9g %.9g %.9g s %.9g c %d) vs (%.9g %.9g %.9g %.9g s %.9g c %d)", n, d,
                      a.boxes[4 * i], a.boxes[4 * i + 1], a.boxes[4 * i + 2], a.boxes[4 * i + 3], a.scores[i],
                      a.classes[i], b.boxes[4 * i], b.boxes[4 * i + 1], b.boxes[4 * i + 2], b.boxes[4 * i + 3],
                      b.scores[i], b.classes[i]);
        return buf;
      }
    }
  }
  return "";
}

inline Params defaultParams(int convention) {
  Params p{};
  p.convention = static_cast<Convention>(convention);
  p.score_threshold = convention == 2 ? 0.2f : 0.05f;
  p.nms_pre = 1000;
  p.iou_threshold = convention == 0 ? 0.5f : 0.6f;
  p.max_detections = 100;
  p.num_levels = 5;
  for (int l = 0; l < kMaxLevels; ++l) p.strides[l] = 8 << l;
  return p;
}

}  // namespace test
}  // namespace fcos4j

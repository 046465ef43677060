// cuda_compat.h first, then the standard library: its macros (__global__, __device__, min/max overloads,
// threadIdx, ...) must not break libstdc++ headers (G2's report: __noinline__ did).
#include "fcos4j/cuda_compat.h"
// clang-format off
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>
// clang-format on
#include "harness.h"

namespace {
__global__ void uses_std_kernel(int* out) {
  const int v = std::max(static_cast<int>(threadIdx.x), 3);
  out[threadIdx.x] = min(v, 10) + max(1u, threadIdx.x);
}

EMU_CASE(std_headers_after_compat) {
  std::deque<int> d{1, 2, 3};
  auto p = std::make_shared<int>(4);
  std::function<int(int)> f = [](int x) { return x + 1; };
  CHECK_EQ(std::accumulate(d.begin(), d.end(), 0) + *p + f(0), 11);
  std::vector<int> out(16);
  FCOS4J_LAUNCH(uses_std_kernel, 1, 16, 0, nullptr, out.data());
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  for (int t = 0; t < 16; ++t) CHECK_EQ(out[t], std::min(std::max(t, 3), 10) + std::max(1, t));
}
}  // namespace

// 100,000-element block reduction (256 threads per block, warp shuffles + __syncthreads): checks the
// result and prints the emulation's time next to what the same number of fiber switches would cost with
// glibc's swapcontext (the design this layer replaces). Timings are printed, never asserted.
#include <ucontext.h>

#include <boost/context/fiber.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "fcos4j/cuda_compat.h"
#include "harness.h"

namespace {

__global__ void reduce_kernel(const float* in, float* blockSums, unsigned long long* total, int n) {
  FCOS4J_SHARED(float, warpSums, 32);
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  float v = i < n ? in[i] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
  if (lane == 0) warpSums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < blockDim.x / 32 ? warpSums[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if (lane == 0) {
      blockSums[blockIdx.x] = v;
      atomicAdd(total, static_cast<unsigned long long>(v));
    }
  }
}

ucontext_t g_main, g_other;
volatile uint64_t g_remaining = 0;

void pingpong() {
  while (g_remaining > 0) {
    --g_remaining;
    swapcontext(&g_other, &g_main);
  }
}

// Seconds per swapcontext switch, measured with `switches` switches.
double swapcontext_cost(uint64_t switches) {
  std::vector<char> stack(64 * 1024);
  getcontext(&g_other);
  g_other.uc_stack.ss_sp = stack.data();
  g_other.uc_stack.ss_size = stack.size();
  g_other.uc_link = &g_main;
  makecontext(&g_other, pingpong, 0);
  g_remaining = switches / 2;
  const auto t0 = std::chrono::steady_clock::now();
  while (g_remaining > 0) swapcontext(&g_main, &g_other);
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(t1 - t0).count() / static_cast<double>(switches);
}

// Seconds per Boost.Context (fcontext) fiber switch, the primitive the emulation uses.
double fcontext_cost(uint64_t switches) {
  namespace ctx = boost::context;
  uint64_t left = switches / 2;
  ctx::fiber f([&left](ctx::fiber&& main) {
    while (left > 0) {
      --left;
      main = std::move(main).resume();
    }
    return std::move(main);
  });
  const auto t0 = std::chrono::steady_clock::now();
  while (f) f = std::move(f).resume();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(t1 - t0).count() / static_cast<double>(switches);
}

EMU_CASE(perf_block_reduction_100k) {
  {
    const double sc = swapcontext_cost(2000000), fc = fcontext_cost(2000000);
    std::printf("switch primitive: swapcontext %.1f ns, fcontext %.1f ns -> %.1fx\n", sc * 1e9, fc * 1e9, sc / fc);
  }
  const int n = 100000, threads = 256, blocks = (n + threads - 1) / threads;
  std::vector<float> in(n), sums(blocks);
  for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i % 7);  // small integers: every order sums exactly
  std::vector<float> expect(blocks, 0.0f);
  unsigned long long expectTotal = 0;
  for (int i = 0; i < n; ++i) {
    expect[i / threads] += in[i];
    expectTotal += static_cast<unsigned long long>(i % 7);
  }
  unsigned long long total = 0;
  const int prevThreads = fcos4j_emu_get_threads();
  for (int poolThreads : {1, prevThreads}) {
    fcos4j_emu_set_threads(poolThreads);
    double best = 1e9;
    uint64_t switches = 0;
    for (int rep = 0; rep < 5; ++rep) {
      total = 0;
      fcos4j_emu_stats s0{}, s1{};
      fcos4j_emu_get_stats(&s0);
      const auto t0 = std::chrono::steady_clock::now();
      FCOS4J_LAUNCH(reduce_kernel, blocks, threads, 0, nullptr, in.data(), sums.data(), &total, n);
      const auto t1 = std::chrono::steady_clock::now();
      fcos4j_emu_get_stats(&s1);
      CHECK_EQ(cudaGetLastError(), cudaSuccess);
      CHECK_EQ(total, expectTotal);
      for (int b = 0; b < blocks; ++b) CHECK(sums[b] == expect[b]);
      best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
      switches = s1.context_switches - s0.context_switches;
    }
    const double swap = swapcontext_cost(switches) * static_cast<double>(switches);
    std::printf(
        "reduction of %d floats, %d blocks x %d threads, %d worker thread(s): best of 5 = %.2f ms "
        "(%llu fiber switches, %.1f ns per switch incl. scheduling); the same switches with swapcontext: "
        "%.2f ms -> %.1fx\n",
        n, blocks, threads, poolThreads, best * 1e3, static_cast<unsigned long long>(switches),
        best * 1e9 / static_cast<double>(switches) * poolThreads, swap * 1e3, swap / best);
  }
  fcos4j_emu_set_threads(prevThreads);
}

}  // namespace

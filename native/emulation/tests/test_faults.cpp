// Deliberately broken kernels: every detectable fault must be reported (error code + a message naming
// kernel, block, thread and call site), never crash or hang the process.
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <vector>

#include "fcos4j/cuda_compat.h"
#include "harness.h"

namespace {

std::string msg() { return fcos4j_emu_last_error_message(); }
std::string at(int line) { return "test_faults.cpp:" + std::to_string(line); }

// Runs `launch` and checks the sticky fault it must leave, then clears it.
template <class F>
void expect_fault(F launch, cudaError_t code, std::initializer_list<std::string> needles) {
  launch();
  CHECK_EQ(cudaGetLastError(), code);
  CHECK_EQ(cudaDeviceSynchronize(), code);  // sticky
  const std::string m = msg();
  if (std::getenv("EMU_TEST_VERBOSE")) std::printf("%s\n", m.c_str());
  for (const std::string& n : needles) CHECK_HAS(m, n);
  CHECK_EQ(cudaDeviceReset(), cudaSuccess);
  CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);
}

// ---------------------------------------------------------------------------------------------
constexpr int kDivergentLine = __LINE__;
__global__ void divergent_kernel(int* out) {
  if (threadIdx.x < 32) {
    __syncthreads();  // kDivergentLine + 3
  } else {
    __syncthreads();  // kDivergentLine + 5
  }
  out[threadIdx.x] = 1;
}

EMU_CASE(fault_divergent_syncthreads) {
  std::vector<int> out(64, 0);
  for (uint64_t seed : {0ull, 3ull}) {
    const uint64_t old = fcos4j_emu_get_schedule_seed();
    fcos4j_emu_set_schedule_seed(seed);
    expect_fault([&] { FCOS4J_LAUNCH(divergent_kernel, 2, 64, 0, nullptr, out.data()); }, cudaErrorLaunchFailure,
                 {"kernel 'divergent_kernel'", "block (0,0,0)", "divergent barrier",
                  "threads 0-31 wait at __syncthreads at " + at(kDivergentLine + 3),
                  "threads 32-63 wait at __syncthreads at " + at(kDivergentLine + 5)});
    fcos4j_emu_set_schedule_seed(old);
  }
  for (int v : out) CHECK_EQ(v, 0);  // nobody got past the barrier
}

// ---------------------------------------------------------------------------------------------
constexpr int kOobLine = __LINE__;
__global__ void shared_oob_kernel(float* out, int shift) {
  FCOS4J_SHARED(float, tile, 64);  // kOobLine + 2
  const int i = static_cast<int>(threadIdx.x) + shift;
  tile[i] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = tile[threadIdx.x % 64];
}

EMU_CASE(fault_shared_oob) {
  std::vector<float> out(65);
  const int prev = fcos4j_emu_get_threads();
  fcos4j_emu_set_threads(3);
  expect_fault([&] { FCOS4J_LAUNCH(shared_oob_kernel, 4, 65, 0, nullptr, out.data(), 0); }, cudaErrorIllegalAddress,
               {"kernel 'shared_oob_kernel'", "block (0,0,0)", "thread (64,0,0)", "static shared array 'tile'",
                "declared at " + at(kOobLine + 2), "index 64, size 64 elements"});
  expect_fault([&] { FCOS4J_LAUNCH(shared_oob_kernel, 1, 64, 0, nullptr, out.data(), -1); }, cudaErrorIllegalAddress,
               {"thread (0,0,0)", "'tile'", "index -1, size 64"});
  fcos4j_emu_set_threads(prev);
  // the same kernel in bounds works
  FCOS4J_LAUNCH(shared_oob_kernel, 1, 64, 0, nullptr, out.data(), 0);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK(out[5] == 1.0f);
}

__global__ void dyn_oob_kernel(unsigned n) {
  FCOS4J_DYNAMIC_SHARED(float, dyn);
  dyn[n] = 0.0f;
}

EMU_CASE(fault_dynamic_shared_oob) {
  FCOS4J_LAUNCH(dyn_oob_kernel, 1, 8, 100, nullptr, 24u);  // 100 bytes = 25 floats
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  expect_fault([&] { FCOS4J_LAUNCH(dyn_oob_kernel, 1, 8, 100, nullptr, 25u); }, cudaErrorIllegalAddress,
               {"dynamic shared array 'dyn'", "index 25, size 25 elements", "kernel 'dyn_oob_kernel'"});
  expect_fault([&] { FCOS4J_LAUNCH(dyn_oob_kernel, 1, 8, 0, nullptr, 0u); }, cudaErrorIllegalAddress,
               {"'dyn'", "index 0, size 0 elements"});
}

// ---------------------------------------------------------------------------------------------
// A missing __syncthreads between writing and reading shared memory: the result depends on the schedule.
__global__ void racy_kernel(int* out) {
  FCOS4J_SHARED(int, s, 128);
  const unsigned t = threadIdx.x;
  s[t] = static_cast<int>(t) + 1;
  // BUG (deliberate): __syncthreads() missing here
  out[t] = s[(t + 1) % blockDim.x];
}

__global__ void fixed_kernel(int* out) {
  FCOS4J_SHARED(int, s, 128);
  const unsigned t = threadIdx.x;
  s[t] = static_cast<int>(t) + 1;
  __syncthreads();
  out[t] = s[(t + 1) % blockDim.x];
}

EMU_CASE(fault_race_detected_by_seeds) {
  const uint64_t old = fcos4j_emu_get_schedule_seed();
  std::set<std::vector<int>> racy, fixed;
  std::vector<int> seed0;
  for (uint64_t seed = 0; seed < 8; ++seed) {
    fcos4j_emu_set_schedule_seed(seed);
    std::vector<int> out(128, 0);
    FCOS4J_LAUNCH(racy_kernel, 1, 128, 0, nullptr, out.data());
    CHECK_EQ(cudaGetLastError(), cudaSuccess);  // a race is not a fault: it shows as differing results
    racy.insert(out);
    if (seed == 0) seed0 = out;
    FCOS4J_LAUNCH(fixed_kernel, 1, 128, 0, nullptr, out.data());
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    fixed.insert(out);
  }
  CHECK(racy.size() >= 3);  // different seeds expose different interleavings
  CHECK_EQ(fixed.size(), 1u);
  std::vector<int> expect(128);
  for (int t = 0; t < 128; ++t) expect[t] = (t + 1) % 128 + 1;
  CHECK(*fixed.begin() == expect);
  // seed 0 is deterministic round robin: every thread runs to its end in order, so it reads unwritten
  // (0xffffffff-filled) shared memory except the last one
  fcos4j_emu_set_schedule_seed(0);
  std::vector<int> again(128, 0);
  FCOS4J_LAUNCH(racy_kernel, 1, 128, 0, nullptr, again.data());
  CHECK(again == seed0);
  CHECK_EQ(seed0[0], -1);
  CHECK_EQ(seed0[127], 1);
  fcos4j_emu_set_schedule_seed(old);
}

// ---------------------------------------------------------------------------------------------
constexpr int kMaskLine = __LINE__;
__global__ void mask_missing_caller_kernel(int* out) {
  const unsigned lane = threadIdx.x & 31;
  const unsigned mask = lane < 16 ? 0xffff0000u : 0xffffffffu;
  out[threadIdx.x] = __shfl_sync(mask, static_cast<int>(lane), 0);  // kMaskLine + 4
}

EMU_CASE(fault_mask_missing_caller) {
  std::vector<int> out(32);
  expect_fault([&] { FCOS4J_LAUNCH(mask_missing_caller_kernel, 1, 32, 0, nullptr, out.data()); },
               cudaErrorIllegalInstruction,
               {"kernel 'mask_missing_caller_kernel'", "__shfl_sync at " + at(kMaskLine + 4),
                "mask 0xffff0000 does not contain the calling lane"});
  // under round robin the first lane to arrive is lane 0
  const uint64_t old = fcos4j_emu_get_schedule_seed();
  fcos4j_emu_set_schedule_seed(0);
  expect_fault([&] { FCOS4J_LAUNCH(mask_missing_caller_kernel, 1, 32, 0, nullptr, out.data()); },
               cudaErrorIllegalInstruction, {"thread (0,0,0)", "mask 0xffff0000 does not contain the calling lane 0"});
  fcos4j_emu_set_schedule_seed(old);
}

__global__ void exited_lane_kernel(int* out) {
  const unsigned lane = threadIdx.x & 31;
  if (lane >= 16) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, static_cast<int>(lane), 0);
}

__global__ void partial_warp_kernel(int* out) {
  out[threadIdx.x] = static_cast<int>(__ballot_sync(0xffffffffu, true));
}

EMU_CASE(fault_mask_names_exited_lane) {
  std::vector<int> out(64);
  const uint64_t old = fcos4j_emu_get_schedule_seed();
  for (uint64_t seed : {0ull, 1ull, 2ull}) {  // detected whether the lanes exit before or after the call
    fcos4j_emu_set_schedule_seed(seed);
    expect_fault([&] { FCOS4J_LAUNCH(exited_lane_kernel, 1, 32, 0, nullptr, out.data()); },
                 cudaErrorIllegalInstruction, {"kernel 'exited_lane_kernel'", "__shfl_sync", "exited"});
  }
  fcos4j_emu_set_schedule_seed(old);
  expect_fault([&] { FCOS4J_LAUNCH(partial_warp_kernel, 1, 48, 0, nullptr, out.data()); }, cudaErrorIllegalInstruction,
               {"warp 1", "mask 0xffffffff names lanes 0xffff0000 that do not exist (the block has 48 threads)"});
}

constexpr int kMismatchLine = __LINE__;
__global__ void mask_mismatch_kernel(int* out) {
  const unsigned lane = threadIdx.x & 31;
  const unsigned mask = lane == 5 ? 0x0000ffffu : 0xffffffffu;
  out[threadIdx.x] = __shfl_xor_sync(mask, static_cast<int>(lane), 1);  // kMismatchLine + 4
}

EMU_CASE(fault_mask_mismatch) {
  std::vector<int> out(32);
  expect_fault([&] { FCOS4J_LAUNCH(mask_mismatch_kernel, 1, 32, 0, nullptr, out.data()); }, cudaErrorIllegalInstruction,
               {"kernel 'mask_mismatch_kernel'", "collective mismatch", "mask 0xffffffff", "mask 0x0000ffff",
                "lane 5", "__shfl_xor_sync at " + at(kMismatchLine + 4)});
}

constexpr int kMixLine = __LINE__;
__global__ void barrier_vs_collective_kernel(int* out) {
  const unsigned lane = threadIdx.x & 31;
  int v = static_cast<int>(threadIdx.x);
  if (threadIdx.x < 32 && lane != 3) v = __shfl_down_sync(0xffffffffu, v, 1);  // kMixLine + 4
  __syncthreads();                                                               // kMixLine + 5
  out[threadIdx.x] = v;
}

EMU_CASE(fault_barrier_vs_collective) {
  std::vector<int> out(64);
  expect_fault([&] { FCOS4J_LAUNCH(barrier_vs_collective_kernel, 1, 64, 0, nullptr, out.data()); },
               cudaErrorLaunchFailure,
               {"deadlock", "__shfl_down_sync at " + at(kMixLine + 4), "lane 3 named in the mask is waiting at a barrier",
                "__syncthreads at " + at(kMixLine + 5)});
}

// ---------------------------------------------------------------------------------------------
constexpr int kTrapLine = __LINE__;
__global__ void trap_kernel(int* out) {
  if (threadIdx.x == 7 && blockIdx.x == 1) __trap();  // kTrapLine + 2
  out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

__global__ void throwing_kernel(int n) {
  std::vector<int> v(4);
  if (threadIdx.x == 2) v.at(static_cast<size_t>(n)) = 1;
}

EMU_CASE(fault_trap_and_exception) {
  std::vector<int> out(64, 0);
  const int prev = fcos4j_emu_get_threads();
  fcos4j_emu_set_threads(1);
  expect_fault([&] { FCOS4J_LAUNCH(trap_kernel, 2, 32, 0, nullptr, out.data()); }, cudaErrorLaunchFailure,
               {"kernel 'trap_kernel'", "block (1,0,0)", "thread (7,0,0)", "__trap at " + at(kTrapLine + 2)});
  fcos4j_emu_set_threads(prev);
  expect_fault([&] { FCOS4J_LAUNCH(throwing_kernel, 1, 8, 0, nullptr, 10); }, cudaErrorLaunchFailure,
               {"kernel 'throwing_kernel'", "thread (2,0,0)", "C++ exception"});
}

__global__ void fill_kernel(int* out, int v) { out[threadIdx.x] = v; }

EMU_CASE(fault_sticky_until_cleared) {
  std::vector<int> out(32, 0);
  FCOS4J_LAUNCH(mask_missing_caller_kernel, 1, 32, 0, nullptr, out.data());
  CHECK_EQ(cudaGetLastError(), cudaErrorIllegalInstruction);
  CHECK_EQ(cudaGetLastError(), cudaErrorIllegalInstruction);  // sticky: not cleared by reading it
  void* p = nullptr;
  CHECK_EQ(cudaMalloc(&p, 16), cudaErrorIllegalInstruction);
  int host[4] = {0, 0, 0, 0};
  CHECK_EQ(cudaMemcpy(host, host + 2, 8, cudaMemcpyHostToHost), cudaErrorIllegalInstruction);
  CHECK_EQ(cudaStreamSynchronize(nullptr), cudaErrorIllegalInstruction);
  FCOS4J_LAUNCH(fill_kernel, 1, 32, 0, nullptr, out.data(), 7);  // not run
  CHECK_EQ(out[0], 0);
  CHECK_HAS(msg(), "sticky");
  fcos4j_emu_clear_error();
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  FCOS4J_LAUNCH(fill_kernel, 1, 32, 0, nullptr, out.data(), 7);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK_EQ(out[31], 7);
}

// ---------------------------------------------------------------------------------------------
EMU_CASE(fault_bad_launch_configs) {
  std::vector<int> out(2048, 0);
  struct Cfg {
    dim3 grid, block;
    size_t smem;
    cudaError_t code;
    const char* needle;
  };
  const Cfg cfgs[] = {
      {dim3(1), dim3(1025), 0, cudaErrorInvalidConfiguration, "invalid block dimensions (1025,1,1)"},
      {dim3(1), dim3(32, 33), 0, cudaErrorInvalidConfiguration, "invalid block dimensions (32,33,1)"},
      {dim3(1), dim3(1, 1, 65), 0, cudaErrorInvalidConfiguration, "invalid block dimensions (1,1,65)"},
      {dim3(1), dim3(0), 0, cudaErrorInvalidConfiguration, "invalid block dimensions (0,1,1)"},
      {dim3(0), dim3(32), 0, cudaErrorInvalidConfiguration, "invalid grid dimensions (0,1,1)"},
      {dim3(1, 65536), dim3(32), 0, cudaErrorInvalidConfiguration, "invalid grid dimensions (1,65536,1)"},
      {dim3(1), dim3(32), 48 * 1024 + 1, cudaErrorInvalidValue, "49153 bytes of dynamic shared memory"},
  };
  for (const Cfg& c : cfgs) {
    FCOS4J_LAUNCH(fill_kernel, c.grid, c.block, c.smem, nullptr, out.data(), 5);
    CHECK_EQ(cudaGetLastError(), c.code);
    CHECK_HAS(msg(), c.needle);
    CHECK_HAS(msg(), "kernel 'fill_kernel'");
    CHECK_EQ(cudaGetLastError(), cudaSuccess);  // configuration errors are not sticky
    CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
  for (int v : out) CHECK_EQ(v, 0);  // nothing ran
  cudaStream_t s = nullptr;
  CHECK_EQ(cudaStreamCreate(&s), cudaSuccess);
  CHECK_EQ(cudaStreamDestroy(s), cudaSuccess);
  FCOS4J_LAUNCH(fill_kernel, 1, 32, 0, s, out.data(), 5);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  FCOS4J_LAUNCH(fill_kernel, 1, 1024, 48 * 1024, cudaStreamPerThread, out.data(), 5);  // the limits themselves
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK_EQ(out[1023], 5);
}

__global__ void big_static_kernel(int* out) {
  FCOS4J_SHARED(char, big, 50000);
  big[threadIdx.x] = 1;
  out[0] = big[0];
}

__global__ void static_40k_kernel(int* out) {
  FCOS4J_SHARED(char, buf, 40 * 1024);
  FCOS4J_DYNAMIC_SHARED(char, dyn);
  buf[threadIdx.x] = 1;
  out[0] = buf[0] + (dyn.size() > 0 ? 1 : 0);
}

EMU_CASE(fault_smem_limits) {
  int out[1] = {0};
  FCOS4J_LAUNCH(big_static_kernel, 1, 32, 0, nullptr, out);
  CHECK_EQ(cudaGetLastError(), cudaErrorLaunchOutOfResources);
  CHECK_HAS(msg(), "static shared memory exceeds 49152 bytes with array 'big'");
  CHECK_EQ(cudaDeviceSynchronize(), cudaSuccess);  // not sticky
  // 40 KiB static + 10 KiB dynamic > 48 KiB: found while running the first time, at launch afterwards
  FCOS4J_LAUNCH(static_40k_kernel, 1, 32, 10 * 1024, nullptr, out);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  CHECK_HAS(msg(), "exceeds the kernel's limit of 49152 bytes");
  FCOS4J_LAUNCH(static_40k_kernel, 1, 32, 10 * 1024, nullptr, out);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  CHECK_HAS(msg(), "10240 bytes of dynamic shared memory requested, the kernel allows 8192");
  FCOS4J_LAUNCH(static_40k_kernel, 1, 32, 8 * 1024, nullptr, out);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK_EQ(out[0], 2);
  CHECK_EQ(cudaFuncSetAttribute(static_40k_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 20 * 1024),
           cudaSuccess);
  FCOS4J_LAUNCH(static_40k_kernel, 1, 32, 20 * 1024, nullptr, out);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
}

}  // namespace

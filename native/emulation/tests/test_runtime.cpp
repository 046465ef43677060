// The emulated CUDA runtime API: memory, copies, streams, events, errors and attributes.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "fcos4j/cuda_compat.h"
#include "harness.h"

namespace {

__global__ void add_one_kernel(int* p, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) p[i] += 1;
}

EMU_CASE(runtime_memory) {
  int* d = nullptr;
  CHECK_EQ(cudaMalloc(&d, 1000 * sizeof(int)), cudaSuccess);
  CHECK(d != nullptr);
  CHECK_EQ(reinterpret_cast<uintptr_t>(d) % 256, 0u);  // cudaMalloc alignment
  CHECK_EQ(d[999], -1);                                 // uninitialised memory is 0xff-filled
  std::vector<int> h(1000), back(1000, 0);
  for (int i = 0; i < 1000; ++i) h[i] = i * i;
  CHECK_EQ(cudaMemcpy(d, h.data(), 1000 * sizeof(int), cudaMemcpyHostToDevice), cudaSuccess);
  FCOS4J_LAUNCH(add_one_kernel, 4, 256, 0, nullptr, d, 1000);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK_EQ(cudaMemcpy(back.data(), d, 1000 * sizeof(int), cudaMemcpyDeviceToHost), cudaSuccess);
  for (int i = 0; i < 1000; ++i) CHECK_EQ(back[i], i * i + 1);
  CHECK_EQ(cudaMemcpy(d + 500, d, 100 * sizeof(int), cudaMemcpyDeviceToDevice), cudaSuccess);
  CHECK_EQ(d[599], 99 * 99 + 1);
  CHECK_EQ(cudaMemcpy(d, d, 4, cudaMemcpyDefault), cudaSuccess);
  CHECK_EQ(cudaMemcpy(d, h.data(), 4, static_cast<cudaMemcpyKind>(7)), cudaErrorInvalidMemcpyDirection);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidMemcpyDirection);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);  // non-sticky errors are cleared by reading them
  CHECK_EQ(cudaMemset(d, 0, 1000 * sizeof(int)), cudaSuccess);
  CHECK_EQ(d[0], 0);
  CHECK_EQ(d[999], 0);
  CHECK_EQ(cudaMemset(d, 0x01, 4), cudaSuccess);
  CHECK_EQ(d[0], 0x01010101);
  CHECK_EQ(cudaMemcpy(nullptr, h.data(), 4, cudaMemcpyHostToDevice), cudaErrorInvalidValue);
  CHECK_EQ(cudaMemcpy(nullptr, nullptr, 0, cudaMemcpyHostToDevice), cudaSuccess);
  CHECK_EQ(cudaFree(d), cudaSuccess);
  CHECK_EQ(cudaFree(d), cudaErrorInvalidValue);  // double free is detected
  CHECK_HAS(fcos4j_emu_last_error_message(), "cudaFree");
  int local = 0;
  CHECK_EQ(cudaFree(&local), cudaErrorInvalidValue);
  CHECK_EQ(cudaFree(nullptr), cudaSuccess);
  CHECK_EQ(cudaMalloc(static_cast<void**>(nullptr), 4), cudaErrorInvalidValue);
  float* pinned = nullptr;
  CHECK_EQ(cudaMallocHost(&pinned, 64), cudaSuccess);
  pinned[15] = 2.5f;
  CHECK_EQ(cudaFree(pinned), cudaErrorInvalidValue);  // wrong deallocator
  CHECK_EQ(cudaFreeHost(pinned), cudaSuccess);
  size_t free = 0, total = 0;
  CHECK_EQ(cudaMemGetInfo(&free, &total), cudaSuccess);
  CHECK(total > 0 && free <= total);
  cudaGetLastError();
}

EMU_CASE(runtime_streams_events) {
  cudaStream_t s = nullptr;
  CHECK_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  cudaEvent_t a = nullptr, b = nullptr, untimed = nullptr;
  CHECK_EQ(cudaEventCreate(&a), cudaSuccess);
  CHECK_EQ(cudaEventCreate(&b), cudaSuccess);
  CHECK_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
  float ms = -1;
  CHECK_EQ(cudaEventElapsedTime(&ms, a, b), cudaErrorInvalidResourceHandle);  // not recorded yet
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidResourceHandle);
  std::vector<int> h(64, 1);
  int* d = nullptr;
  CHECK_EQ(cudaMalloc(&d, 64 * sizeof(int)), cudaSuccess);
  CHECK_EQ(cudaEventRecord(a, s), cudaSuccess);
  CHECK_EQ(cudaMemcpyAsync(d, h.data(), 64 * sizeof(int), cudaMemcpyHostToDevice, s), cudaSuccess);
  FCOS4J_LAUNCH(add_one_kernel, 1, 64, 0, s, d, 64);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK_EQ(cudaMemsetAsync(d, 0, 4, s), cudaSuccess);
  CHECK_EQ(cudaMemcpyAsync(h.data(), d, 64 * sizeof(int), cudaMemcpyDeviceToHost, s), cudaSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK_EQ(cudaEventRecord(b, s), cudaSuccess);
  CHECK_EQ(cudaStreamWaitEvent(nullptr, b, 0), cudaSuccess);
  CHECK_EQ(cudaStreamSynchronize(s), cudaSuccess);
  CHECK_EQ(cudaStreamQuery(s), cudaSuccess);
  CHECK_EQ(cudaEventSynchronize(b), cudaSuccess);
  CHECK_EQ(cudaEventQuery(b), cudaSuccess);
  CHECK_EQ(h[0], 0);  // stream order: copy, kernel, memset, copy back
  CHECK_EQ(h[63], 2);
  CHECK_EQ(cudaEventElapsedTime(&ms, a, b), cudaSuccess);
  CHECK(ms >= 29.0f && ms < 5000.0f);
  CHECK_EQ(cudaEventRecord(untimed, s), cudaSuccess);
  CHECK_EQ(cudaEventElapsedTime(&ms, a, untimed), cudaErrorInvalidResourceHandle);
  CHECK_EQ(cudaEventDestroy(untimed), cudaSuccess);
  CHECK_EQ(cudaEventDestroy(untimed), cudaErrorInvalidResourceHandle);
  CHECK_EQ(cudaEventDestroy(a), cudaSuccess);
  CHECK_EQ(cudaEventDestroy(b), cudaSuccess);
  CHECK_EQ(cudaStreamDestroy(s), cudaSuccess);
  CHECK_EQ(cudaStreamDestroy(s), cudaErrorInvalidResourceHandle);
  CHECK_EQ(cudaStreamSynchronize(s), cudaErrorInvalidResourceHandle);
  CHECK_EQ(cudaMemcpyAsync(d, h.data(), 4, cudaMemcpyHostToDevice, s), cudaErrorInvalidResourceHandle);
  CHECK_EQ(cudaStreamSynchronize(cudaStreamPerThread), cudaSuccess);
  CHECK_EQ(cudaStreamSynchronize(cudaStreamLegacy), cudaSuccess);
  CHECK_EQ(cudaFree(d), cudaSuccess);
  cudaGetLastError();
}

EMU_CASE(runtime_errors_and_attributes) {
  CHECK_EQ(static_cast<int>(cudaErrorInvalidConfiguration), 9);  // CUDA's values
  CHECK_EQ(static_cast<int>(cudaErrorIllegalAddress), 700);
  CHECK_EQ(static_cast<int>(cudaErrorLaunchFailure), 719);
  CHECK_HAS(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument");
  CHECK_HAS(cudaGetErrorName(cudaErrorIllegalInstruction), "cudaErrorIllegalInstruction");
  CHECK_HAS(cudaGetErrorString(cudaSuccess), "no error");
  int n = 0, dev = -1, v = 0;
  CHECK_EQ(cudaGetDeviceCount(&n), cudaSuccess);
  CHECK_EQ(n, 1);
  CHECK_EQ(cudaSetDevice(0), cudaSuccess);
  CHECK_EQ(cudaSetDevice(1), cudaErrorInvalidDevice);
  CHECK_EQ(cudaPeekAtLastError(), cudaErrorInvalidDevice);  // peek keeps it
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK_EQ(cudaGetDevice(&dev), cudaSuccess);
  CHECK_EQ(dev, 0);
  CHECK_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrWarpSize, 0), cudaSuccess);
  CHECK_EQ(v, 32);
  CHECK_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrMaxThreadsPerBlock, 0), cudaSuccess);
  CHECK_EQ(v, 1024);
  CHECK_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlock, 0), cudaSuccess);
  CHECK_EQ(v, 48 * 1024);
  CHECK_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
  CHECK_EQ(v, 9);
  CHECK_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 0), cudaSuccess);
  CHECK_EQ(v, fcos4j_emu_get_threads());
  CHECK_EQ(cudaDeviceGetAttribute(&v, cudaDevAttrWarpSize, 1), cudaErrorInvalidDevice);
  CHECK_EQ(cudaDriverGetVersion(&v), cudaSuccess);
  CHECK(v >= 12000);
  cudaGetLastError();
  CHECK(FCOS4J_EMULATED == 1);
}

}  // namespace

namespace {
__global__ void scale_kernel(const int* in, int* out, int k, int n) {
  FCOS4J_SHARED(int, s, 128);
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  s[threadIdx.x] = i < n ? in[i] * k : 0;
  __syncthreads();
  if (i < n) out[i] = s[threadIdx.x] + s[(threadIdx.x + 1) % blockDim.x] * 0;
}

// Several short-lived host threads launch at once (as JVM threads may): launches are serialised, each
// thread's scheduler state is freed when it ends, results are right.
EMU_CASE(concurrent_host_threads) {
  const int n = 3000;
  std::vector<int> in(n);
  for (int i = 0; i < n; ++i) in[i] = i - 1000;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<int>> outs(6, std::vector<int>(n, 0));
    std::vector<std::thread> threads;
    std::vector<int> errors(6, -1);
    for (int t = 0; t < 6; ++t)
      threads.emplace_back([&, t] {
        FCOS4J_LAUNCH(scale_kernel, (n + 127) / 128, 128, 0, nullptr, in.data(), outs[t].data(), t + 1, n);
        errors[t] = static_cast<int>(cudaGetLastError());  // the last error is per host thread
      });
    for (auto& th : threads) th.join();
    for (int t = 0; t < 6; ++t) {
      CHECK_EQ(errors[t], 0);
      for (int i = 0; i < n; i += 97) CHECK_EQ(outs[t][i], in[i] * (t + 1));
    }
  }
}
}  // namespace

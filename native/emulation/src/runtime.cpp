// Emulated CUDA runtime API on host memory: allocations, copies, streams, events, errors, attributes.
// Work is executed synchronously at enqueue time, which trivially satisfies CUDA's stream ordering.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "internal.h"

struct CUstream_st {
  unsigned flags;
};
struct CUevent_st {
  unsigned flags;
  bool recorded;
  std::chrono::steady_clock::time_point when;
};

namespace fcos4j_emu {
namespace detail {
namespace {

std::mutex g_mu;  // guards everything below
cudaError_t g_sticky = cudaSuccess;
std::string g_last_message;
std::unordered_set<void*> g_device_allocs, g_host_allocs;
std::unordered_set<CUstream_st*> g_streams;
std::unordered_set<CUevent_st*> g_events;
std::unordered_map<const void*, int> g_max_dyn;          // cudaFuncSetAttribute values
std::unordered_map<const void*, size_t> g_static_smem;   // learnt from launches
int g_threads = 0;                                         // 0 = default
uint64_t g_seed = 0;
bool g_seed_init = false;

thread_local cudaError_t t_last = cudaSuccess;
thread_local std::string t_message_copy;

uint64_t env_seed() {
  const char* e = std::getenv("FCOS4J_EMU_SEED");
  if (!e || !*e) return 0;
  return std::strtoull(e, nullptr, 0);
}

int default_threads() {
  if (const char* e = std::getenv("FCOS4J_EMU_THREADS")) {
    const long v = std::strtol(e, nullptr, 10);
    if (v >= 1 && v <= 1024) return static_cast<int>(v);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Returns `code` after recording it as the thread's last error (as every CUDA runtime call does).
// Without `what` (re-reporting the sticky kernel fault) the fault's message is kept.
cudaError_t ret(cudaError_t code, const char* what = nullptr) {
  if (code != cudaSuccess) {
    t_last = code;
    if (what) {
      std::lock_guard<std::mutex> lk(g_mu);
      g_last_message = std::string("fcos4j-emu: ") + what;
    }
  }
  return code;
}

cudaError_t sticky() {
  std::lock_guard<std::mutex> lk(g_mu);
  return g_sticky;
}

bool is_special_stream(cudaStream_t s) { return s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread; }

bool stream_ok(cudaStream_t s) {
  if (is_special_stream(s)) return true;
  std::lock_guard<std::mutex> lk(g_mu);
  return g_streams.count(s) != 0;
}

void* aligned(size_t size) {
  void* p = nullptr;
  if (posix_memalign(&p, 256, size == 0 ? 1 : size) != 0) return nullptr;
  return p;
}

}  // namespace

void record_error(cudaError_t code, const std::string& message, bool is_sticky) {
  t_last = code;
  std::lock_guard<std::mutex> lk(g_mu);
  g_last_message = message;
  if (is_sticky && g_sticky == cudaSuccess) g_sticky = code;
}

cudaError_t sticky_error() { return sticky(); }

std::string last_message() {
  std::lock_guard<std::mutex> lk(g_mu);
  return g_last_message;
}

void clear_errors() {
  std::lock_guard<std::mutex> lk(g_mu);
  g_sticky = cudaSuccess;
  g_last_message.clear();
  t_last = cudaSuccess;
}

bool is_valid_stream(cudaStream_t s) { return stream_ok(s); }

KernelLimits kernel_limits(const void* key) {
  std::lock_guard<std::mutex> lk(g_mu);
  KernelLimits k{0, 0};
  auto st = g_static_smem.find(key);
  if (st != g_static_smem.end()) k.static_smem = st->second;
  auto it = g_max_dyn.find(key);
  if (it != g_max_dyn.end())
    k.max_dynamic_smem = static_cast<size_t>(it->second);
  else
    k.max_dynamic_smem = kStaticSmemLimit > k.static_smem ? kStaticSmemLimit - k.static_smem : 0;
  return k;
}

void note_static_smem(const void* key, size_t bytes) {
  std::lock_guard<std::mutex> lk(g_mu);
  size_t& v = g_static_smem[key];
  if (bytes > v) v = bytes;
}

int configured_threads() {
  std::lock_guard<std::mutex> lk(g_mu);
  if (g_threads <= 0) g_threads = default_threads();
  return g_threads;
}

uint64_t schedule_seed() {
  std::lock_guard<std::mutex> lk(g_mu);
  if (!g_seed_init) {
    g_seed = env_seed();
    g_seed_init = true;
  }
  return g_seed;
}

}  // namespace detail
}  // namespace fcos4j_emu

using namespace fcos4j_emu::detail;

// ------------------------------------------------------------------------------------------------
// Memory
// ------------------------------------------------------------------------------------------------
cudaError_t cudaMalloc(void** devPtr, size_t size) {
  if (!devPtr) return ret(cudaErrorInvalidValue, "cudaMalloc: devPtr is NULL");
  if (cudaError_t e = sticky()) return ret(e);
  void* p = aligned(size);
  if (!p) {
    *devPtr = nullptr;
    return ret(cudaErrorMemoryAllocation, "cudaMalloc: out of memory");
  }
  std::memset(p, 0xff, size);  // device memory is uninitialised: make stale reads visible (NaN / -1)
  std::lock_guard<std::mutex> lk(g_mu);
  g_device_allocs.insert(p);
  *devPtr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* devPtr) {
  if (!devPtr) return cudaSuccess;
  if (cudaError_t e = sticky()) return ret(e);
  {
    std::lock_guard<std::mutex> lk(g_mu);
    if (g_device_allocs.erase(devPtr) == 0) {
      g_last_message = "fcos4j-emu: cudaFree: pointer was not returned by cudaMalloc (or freed twice)";
      t_last = cudaErrorInvalidValue;
      return cudaErrorInvalidValue;
    }
  }
  std::free(devPtr);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int flags) {
  (void)flags;
  if (!ptr) return ret(cudaErrorInvalidValue, "cudaHostAlloc: ptr is NULL");
  if (cudaError_t e = sticky()) return ret(e);
  void* p = aligned(size);
  if (!p) {
    *ptr = nullptr;
    return ret(cudaErrorMemoryAllocation, "cudaMallocHost: out of memory");
  }
  std::lock_guard<std::mutex> lk(g_mu);
  g_host_allocs.insert(p);
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t size) { return cudaHostAlloc(ptr, size, 0); }

cudaError_t cudaFreeHost(void* ptr) {
  if (!ptr) return cudaSuccess;
  if (cudaError_t e = sticky()) return ret(e);
  {
    std::lock_guard<std::mutex> lk(g_mu);
    if (g_host_allocs.erase(ptr) == 0) {
      g_last_message = "fcos4j-emu: cudaFreeHost: pointer was not returned by cudaMallocHost (or freed twice)";
      t_last = cudaErrorInvalidValue;
      return cudaErrorInvalidValue;
    }
  }
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t stream) {
  if (static_cast<int>(kind) < 0 || static_cast<int>(kind) > 4)
    return ret(cudaErrorInvalidMemcpyDirection, "cudaMemcpy: invalid cudaMemcpyKind");
  if (!stream_ok(stream)) return ret(cudaErrorInvalidResourceHandle, "cudaMemcpyAsync: invalid stream");
  if (cudaError_t e = sticky()) return ret(e);
  if (count == 0) return cudaSuccess;
  if (!dst || !src) return ret(cudaErrorInvalidValue, "cudaMemcpy: NULL pointer");
  std::memmove(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return cudaMemcpyAsync(dst, src, count, kind, nullptr);
}

cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream) {
  if (!stream_ok(stream)) return ret(cudaErrorInvalidResourceHandle, "cudaMemsetAsync: invalid stream");
  if (cudaError_t e = sticky()) return ret(e);
  if (count == 0) return cudaSuccess;
  if (!devPtr) return ret(cudaErrorInvalidValue, "cudaMemset: NULL pointer");
  std::memset(devPtr, value, count);
  return cudaSuccess;
}

cudaError_t cudaMemset(void* devPtr, int value, size_t count) { return cudaMemsetAsync(devPtr, value, count, nullptr); }

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  if (!free || !total) return ret(cudaErrorInvalidValue, "cudaMemGetInfo: NULL pointer");
  const long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  *total = static_cast<size_t>(pages) * static_cast<size_t>(page);
  *free = static_cast<size_t>(avail) * static_cast<size_t>(page);
  return cudaSuccess;
}

// ------------------------------------------------------------------------------------------------
// Streams and events
// ------------------------------------------------------------------------------------------------
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  if (!stream) return ret(cudaErrorInvalidValue, "cudaStreamCreate: stream is NULL");
  if (cudaError_t e = sticky()) return ret(e);
  auto* s = new CUstream_st{flags};
  std::lock_guard<std::mutex> lk(g_mu);
  g_streams.insert(s);
  *stream = s;
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (is_special_stream(stream)) return ret(cudaErrorInvalidResourceHandle, "cudaStreamDestroy: built-in stream");
  {
    std::lock_guard<std::mutex> lk(g_mu);
    if (g_streams.erase(stream) == 0) {
      g_last_message = "fcos4j-emu: cudaStreamDestroy: unknown or destroyed stream";
      t_last = cudaErrorInvalidResourceHandle;
      return cudaErrorInvalidResourceHandle;
    }
  }
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!stream_ok(stream)) return ret(cudaErrorInvalidResourceHandle, "cudaStreamSynchronize: invalid stream");
  return ret(sticky());
}

cudaError_t cudaStreamQuery(cudaStream_t stream) { return cudaStreamSynchronize(stream); }

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  (void)flags;
  if (!stream_ok(stream)) return ret(cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent: invalid stream");
  {
    std::lock_guard<std::mutex> lk(g_mu);
    if (!g_events.count(event)) {
      g_last_message = "fcos4j-emu: cudaStreamWaitEvent: unknown event";
      t_last = cudaErrorInvalidResourceHandle;
      return cudaErrorInvalidResourceHandle;
    }
  }
  return ret(sticky());
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  if (!event) return ret(cudaErrorInvalidValue, "cudaEventCreate: event is NULL");
  if (cudaError_t e = sticky()) return ret(e);
  auto* ev = new CUevent_st{flags, false, {}};
  std::lock_guard<std::mutex> lk(g_mu);
  g_events.insert(ev);
  *event = ev;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!stream_ok(stream)) return ret(cudaErrorInvalidResourceHandle, "cudaEventRecord: invalid stream");
  std::lock_guard<std::mutex> lk(g_mu);
  if (!g_events.count(event)) {
    g_last_message = "fcos4j-emu: cudaEventRecord: unknown event";
    t_last = cudaErrorInvalidResourceHandle;
    return cudaErrorInvalidResourceHandle;
  }
  event->recorded = true;
  event->when = std::chrono::steady_clock::now();  // all earlier work of the stream has completed
  return g_sticky;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    if (!g_events.count(event)) {
      g_last_message = "fcos4j-emu: cudaEventSynchronize: unknown event";
      t_last = cudaErrorInvalidResourceHandle;
      return cudaErrorInvalidResourceHandle;
    }
  }
  return ret(sticky());
}

cudaError_t cudaEventQuery(cudaEvent_t event) { return cudaEventSynchronize(event); }

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms) return ret(cudaErrorInvalidValue, "cudaEventElapsedTime: ms is NULL");
  std::lock_guard<std::mutex> lk(g_mu);
  if (!g_events.count(start) || !g_events.count(end) || !start->recorded || !end->recorded ||
      (start->flags & cudaEventDisableTiming) || (end->flags & cudaEventDisableTiming)) {
    g_last_message = "fcos4j-emu: cudaEventElapsedTime: events unknown, not recorded or created without timing";
    t_last = cudaErrorInvalidResourceHandle;
    return cudaErrorInvalidResourceHandle;
  }
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  {
    std::lock_guard<std::mutex> lk(g_mu);
    if (g_events.erase(event) == 0) {
      g_last_message = "fcos4j-emu: cudaEventDestroy: unknown or destroyed event";
      t_last = cudaErrorInvalidResourceHandle;
      return cudaErrorInvalidResourceHandle;
    }
  }
  delete event;
  return cudaSuccess;
}

// ------------------------------------------------------------------------------------------------
// Device and errors
// ------------------------------------------------------------------------------------------------
cudaError_t cudaDeviceSynchronize() { return ret(sticky()); }

cudaError_t cudaDeviceReset() {
  clear_errors();
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  const cudaError_t s = sticky();
  const cudaError_t r = s != cudaSuccess ? s : t_last;
  t_last = cudaSuccess;
  return r;
}

cudaError_t cudaPeekAtLastError() {
  const cudaError_t s = sticky();
  return s != cudaSuccess ? s : t_last;
}

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
#define FCOS4J_EMU_NAME(e) \
  case e:                  \
    return #e;
    FCOS4J_EMU_NAME(cudaSuccess)
    FCOS4J_EMU_NAME(cudaErrorInvalidValue)
    FCOS4J_EMU_NAME(cudaErrorMemoryAllocation)
    FCOS4J_EMU_NAME(cudaErrorInitializationError)
    FCOS4J_EMU_NAME(cudaErrorCudartUnloading)
    FCOS4J_EMU_NAME(cudaErrorStubLibrary)
    FCOS4J_EMU_NAME(cudaErrorInsufficientDriver)
    FCOS4J_EMU_NAME(cudaErrorCallRequiresNewerDriver)
    FCOS4J_EMU_NAME(cudaErrorDevicesUnavailable)
    FCOS4J_EMU_NAME(cudaErrorInvalidKernelImage)
    FCOS4J_EMU_NAME(cudaErrorNoKernelImageForDevice)
    FCOS4J_EMU_NAME(cudaErrorInvalidPtx)
    FCOS4J_EMU_NAME(cudaErrorUnsupportedPtxVersion)
    FCOS4J_EMU_NAME(cudaErrorNotPermitted)
    FCOS4J_EMU_NAME(cudaErrorSystemNotReady)
    FCOS4J_EMU_NAME(cudaErrorSystemDriverMismatch)
    FCOS4J_EMU_NAME(cudaErrorInvalidConfiguration)
    FCOS4J_EMU_NAME(cudaErrorInvalidDevicePointer)
    FCOS4J_EMU_NAME(cudaErrorInvalidMemcpyDirection)
    FCOS4J_EMU_NAME(cudaErrorInvalidDeviceFunction)
    FCOS4J_EMU_NAME(cudaErrorNoDevice)
    FCOS4J_EMU_NAME(cudaErrorInvalidDevice)
    FCOS4J_EMU_NAME(cudaErrorInvalidResourceHandle)
    FCOS4J_EMU_NAME(cudaErrorNotReady)
    FCOS4J_EMU_NAME(cudaErrorIllegalAddress)
    FCOS4J_EMU_NAME(cudaErrorLaunchOutOfResources)
    FCOS4J_EMU_NAME(cudaErrorLaunchTimeout)
    FCOS4J_EMU_NAME(cudaErrorAssert)
    FCOS4J_EMU_NAME(cudaErrorIllegalInstruction)
    FCOS4J_EMU_NAME(cudaErrorMisalignedAddress)
    FCOS4J_EMU_NAME(cudaErrorLaunchFailure)
    FCOS4J_EMU_NAME(cudaErrorNotSupported)
    FCOS4J_EMU_NAME(cudaErrorUnknown)
#undef FCOS4J_EMU_NAME
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorCudartUnloading: return "driver shutting down";
    case cudaErrorStubLibrary: return "CUDA driver is a stub library";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorCallRequiresNewerDriver: return "API call is not supported in the installed CUDA driver";
    case cudaErrorDevicesUnavailable: return "CUDA-capable device(s) is/are busy or unavailable";
    case cudaErrorInvalidKernelImage: return "device kernel image is invalid";
    case cudaErrorNoKernelImageForDevice: return "no kernel image is available for execution on the device";
    case cudaErrorInvalidPtx: return "a PTX JIT compilation failed";
    case cudaErrorUnsupportedPtxVersion: return "the provided PTX was compiled with an unsupported toolchain.";
    case cudaErrorNotPermitted: return "operation not permitted";
    case cudaErrorSystemNotReady: return "system not yet initialized";
    case cudaErrorSystemDriverMismatch: return "system has unsupported display driver / cuda driver combination";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorLaunchTimeout: return "the launch timed out and was terminated";
    case cudaErrorAssert: return "device-side assert triggered";
    case cudaErrorIllegalInstruction: return "an illegal instruction was encountered";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorUnknown: return "unknown error";
  }
  return "unknown error";
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return ret(cudaErrorInvalidValue, "cudaGetDeviceCount: count is NULL");
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : ret(cudaErrorInvalidDevice, "cudaSetDevice: the emulation has device 0 only");
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return ret(cudaErrorInvalidValue, "cudaGetDevice: device is NULL");
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return ret(cudaErrorInvalidValue, "cudaDeviceGetAttribute: value is NULL");
  if (device != 0) return ret(cudaErrorInvalidDevice, "cudaDeviceGetAttribute: the emulation has device 0 only");
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
    case cudaDevAttrMaxBlockDimX: *value = 1024; break;
    case cudaDevAttrMaxBlockDimY: *value = 1024; break;
    case cudaDevAttrMaxBlockDimZ: *value = 64; break;
    case cudaDevAttrMaxGridDimX: *value = 2147483647; break;
    case cudaDevAttrMaxGridDimY: *value = 65535; break;
    case cudaDevAttrMaxGridDimZ: *value = 65535; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = static_cast<int>(kStaticSmemLimit); break;
    case cudaDevAttrTotalConstantMemory: *value = 65536; break;
    case cudaDevAttrWarpSize: *value = 32; break;
    case cudaDevAttrClockRate: *value = 1000000; break;
    case cudaDevAttrMultiProcessorCount: *value = configured_threads(); break;
    case cudaDevAttrL2CacheSize: *value = 50 * 1024 * 1024; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = 2048; break;
    case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = 228 * 1024; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = static_cast<int>(kOptinSmemLimit); break;
    default: return ret(cudaErrorInvalidValue, "cudaDeviceGetAttribute: attribute not emulated");
  }
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (!version) return ret(cudaErrorInvalidValue, "cudaDriverGetVersion: NULL");
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return ret(cudaErrorInvalidValue, "cudaRuntimeGetVersion: NULL");
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  if (!func) return ret(cudaErrorInvalidDeviceFunction, "cudaFuncSetAttribute: NULL function");
  switch (attr) {
    case cudaFuncAttributeMaxDynamicSharedMemorySize: {
      std::lock_guard<std::mutex> lk(g_mu);
      auto st = g_static_smem.find(func);
      const size_t stat = st == g_static_smem.end() ? 0 : st->second;
      if (value < 0 || static_cast<size_t>(value) + stat > kOptinSmemLimit) {
        g_last_message = "fcos4j-emu: cudaFuncSetAttribute(MaxDynamicSharedMemorySize): " + std::to_string(value) +
                         " bytes exceed the opt-in limit of " + std::to_string(kOptinSmemLimit) + " bytes minus " +
                         std::to_string(stat) + " static";
        t_last = cudaErrorInvalidValue;
        return cudaErrorInvalidValue;
      }
      g_max_dyn[func] = value;
      return cudaSuccess;
    }
    case cudaFuncAttributePreferredSharedMemoryCarveout:
      if (value < -1 || value > 100) return ret(cudaErrorInvalidValue, "cudaFuncSetAttribute: carveout not in [-1,100]");
      return cudaSuccess;
  }
  return ret(cudaErrorInvalidValue, "cudaFuncSetAttribute: attribute not emulated");
}

// ------------------------------------------------------------------------------------------------
// Controls (C linkage, exported)
// ------------------------------------------------------------------------------------------------
extern "C" {

void fcos4j_emu_set_schedule_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_seed = seed;
  g_seed_init = true;
}

uint64_t fcos4j_emu_get_schedule_seed(void) { return schedule_seed(); }

const char* fcos4j_emu_last_error_message(void) {
  t_message_copy = last_message();
  return t_message_copy.c_str();
}

void fcos4j_emu_clear_error(void) { clear_errors(); }

void fcos4j_emu_set_threads(int n) {
  std::lock_guard<std::mutex> lk(g_mu);
  g_threads = n > 0 ? (n > 1024 ? 1024 : n) : default_threads();
}

int fcos4j_emu_get_threads(void) { return configured_threads(); }

}  // extern "C"

// fcos4j/emu/cuda_emu.h - CPU emulation of the CUDA execution model and runtime API.
// Do not include directly: include "fcos4j/cuda_compat.h". Documentation: native/emulation/README.md.
//
// All emulated runtime symbols have hidden visibility and C++ linkage, so a process may load the emulated
// library next to one linked against the real CUDA runtime without symbol clashes.
#ifndef FCOS4J_EMU_CUDA_EMU_H
#define FCOS4J_EMU_CUDA_EMU_H

#if defined(__CUDACC__)
#error "fcos4j/emu/cuda_emu.h is the CPU emulation; nvcc must use the real CUDA headers"
#endif

#include <math.h>  // global float overloads (expf, sqrtf, fminf, ...) like CUDA's device math

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "fcos4j/emu/control.h"

#define FCOS4J_EMU_HIDDEN __attribute__((visibility("hidden")))

// ------------------------------------------------------------------------------------------------
// CUDA qualifiers
// ------------------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
// __noinline__ is deliberately not defined: libstdc++ 12 spells __attribute__((__noinline__)).
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
// __shared__ is deliberately NOT defined: use FCOS4J_SHARED / FCOS4J_DYNAMIC_SHARED.

// ------------------------------------------------------------------------------------------------
// Vector types (same layout and alignment as CUDA's vector_types.h)
// ------------------------------------------------------------------------------------------------
struct uint3 { unsigned int x, y, z; };
struct int3 { int x, y, z; };
struct float3 { float x, y, z; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct __attribute__((aligned(8))) uint2 { unsigned int x, y; };
struct __attribute__((aligned(8))) float2 { float x, y; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(16))) uint4 { unsigned int x, y, z, w; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(16))) double2 { double x, y; };
struct __attribute__((aligned(16))) longlong2 { long long x, y; };
struct __attribute__((aligned(16))) ulonglong2 { unsigned long long x, y; };

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

inline int2 make_int2(int x, int y) { return int2{x, y}; }
inline int3 make_int3(int x, int y, int z) { return int3{x, y, z}; }
inline int4 make_int4(int x, int y, int z, int w) { return int4{x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return uint2{x, y}; }
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return uint3{x, y, z}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline float3 make_float3(float x, float y, float z) { return float3{x, y, z}; }
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline double2 make_double2(double x, double y) { return double2{x, y}; }

// ------------------------------------------------------------------------------------------------
// Runtime API types (enum values identical to CUDA's driver_types.h)
// ------------------------------------------------------------------------------------------------
enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorCudartUnloading = 4,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorStubLibrary = 34,
  cudaErrorInsufficientDriver = 35,
  cudaErrorCallRequiresNewerDriver = 36,
  cudaErrorDevicesUnavailable = 46,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidKernelImage = 200,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorInvalidPtx = 218,
  cudaErrorUnsupportedPtxVersion = 222,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchTimeout = 702,
  cudaErrorAssert = 710,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotPermitted = 800,
  cudaErrorNotSupported = 801,
  cudaErrorSystemNotReady = 802,
  cudaErrorSystemDriverMismatch = 803,
  cudaErrorUnknown = 999
};
typedef enum cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};

enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9
};

enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxBlockDimX = 2,
  cudaDevAttrMaxBlockDimY = 3,
  cudaDevAttrMaxBlockDimZ = 4,
  cudaDevAttrMaxGridDimX = 5,
  cudaDevAttrMaxGridDimY = 6,
  cudaDevAttrMaxGridDimZ = 7,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrTotalConstantMemory = 9,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrClockRate = 13,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrL2CacheSize = 38,
  cudaDevAttrMaxThreadsPerMultiProcessor = 39,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97
};

typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;

#define cudaStreamLegacy ((cudaStream_t)0x1)
#define cudaStreamPerThread ((cudaStream_t)0x2)
#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaEventDefault 0x00
#define cudaEventBlockingSync 0x01
#define cudaEventDisableTiming 0x02
#define cudaHostAllocDefault 0x00

// ------------------------------------------------------------------------------------------------
// Runtime API (host memory; work is executed synchronously at enqueue time, which satisfies CUDA's
// stream ordering). Errors follow CUDA: a fault inside a kernel is sticky (every later call returns it
// until cudaDeviceReset()), launch-configuration errors are reported once by cudaGetLastError().
// ------------------------------------------------------------------------------------------------
FCOS4J_EMU_HIDDEN cudaError_t cudaMalloc(void** devPtr, size_t size);
FCOS4J_EMU_HIDDEN cudaError_t cudaFree(void* devPtr);
FCOS4J_EMU_HIDDEN cudaError_t cudaMallocHost(void** ptr, size_t size);
FCOS4J_EMU_HIDDEN cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int flags);
FCOS4J_EMU_HIDDEN cudaError_t cudaFreeHost(void* ptr);
FCOS4J_EMU_HIDDEN cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind);
FCOS4J_EMU_HIDDEN cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                                              cudaStream_t stream = 0);
FCOS4J_EMU_HIDDEN cudaError_t cudaMemset(void* devPtr, int value, size_t count);
FCOS4J_EMU_HIDDEN cudaError_t cudaMemsetAsync(void* devPtr, int value, size_t count, cudaStream_t stream = 0);
FCOS4J_EMU_HIDDEN cudaError_t cudaMemGetInfo(size_t* free, size_t* total);

FCOS4J_EMU_HIDDEN cudaError_t cudaStreamCreate(cudaStream_t* stream);
FCOS4J_EMU_HIDDEN cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags);
FCOS4J_EMU_HIDDEN cudaError_t cudaStreamDestroy(cudaStream_t stream);
FCOS4J_EMU_HIDDEN cudaError_t cudaStreamSynchronize(cudaStream_t stream);
FCOS4J_EMU_HIDDEN cudaError_t cudaStreamQuery(cudaStream_t stream);
FCOS4J_EMU_HIDDEN cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags = 0);

FCOS4J_EMU_HIDDEN cudaError_t cudaEventCreate(cudaEvent_t* event);
FCOS4J_EMU_HIDDEN cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags);
FCOS4J_EMU_HIDDEN cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = 0);
FCOS4J_EMU_HIDDEN cudaError_t cudaEventSynchronize(cudaEvent_t event);
FCOS4J_EMU_HIDDEN cudaError_t cudaEventQuery(cudaEvent_t event);
FCOS4J_EMU_HIDDEN cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);
FCOS4J_EMU_HIDDEN cudaError_t cudaEventDestroy(cudaEvent_t event);
inline cudaError_t cudaEventCreate(cudaEvent_t* event, unsigned int flags) {
  return cudaEventCreateWithFlags(event, flags);
}

FCOS4J_EMU_HIDDEN cudaError_t cudaDeviceSynchronize();
FCOS4J_EMU_HIDDEN cudaError_t cudaDeviceReset();
FCOS4J_EMU_HIDDEN cudaError_t cudaGetLastError();
FCOS4J_EMU_HIDDEN cudaError_t cudaPeekAtLastError();
FCOS4J_EMU_HIDDEN const char* cudaGetErrorString(cudaError_t error);
FCOS4J_EMU_HIDDEN const char* cudaGetErrorName(cudaError_t error);
FCOS4J_EMU_HIDDEN cudaError_t cudaGetDeviceCount(int* count);
FCOS4J_EMU_HIDDEN cudaError_t cudaSetDevice(int device);
FCOS4J_EMU_HIDDEN cudaError_t cudaGetDevice(int* device);
FCOS4J_EMU_HIDDEN cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
FCOS4J_EMU_HIDDEN cudaError_t cudaDriverGetVersion(int* version);
FCOS4J_EMU_HIDDEN cudaError_t cudaRuntimeGetVersion(int* version);
FCOS4J_EMU_HIDDEN cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value);

template <class T>
inline cudaError_t cudaMalloc(T** devPtr, size_t size) {
  return ::cudaMalloc(reinterpret_cast<void**>(devPtr), size);
}
template <class T>
inline cudaError_t cudaMallocHost(T** ptr, size_t size) {
  return ::cudaMallocHost(reinterpret_cast<void**>(ptr), size);
}
template <class T>
inline cudaError_t cudaHostAlloc(T** ptr, size_t size, unsigned int flags) {
  return ::cudaHostAlloc(reinterpret_cast<void**>(ptr), size, flags);
}
template <class R, class... P>
inline cudaError_t cudaFuncSetAttribute(R (*func)(P...), cudaFuncAttribute attr, int value) {
  return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(func), attr, value);
}

// ------------------------------------------------------------------------------------------------
// __half / __half2 with the hardware's conversions (round to nearest even, subnormals, inf, NaN -> 0x7fff)
// ------------------------------------------------------------------------------------------------
namespace fcos4j_emu {
namespace detail {
inline unsigned short float_to_half_bits(float f) {
  unsigned int x;
  std::memcpy(&x, &f, 4);
  const unsigned int sign = (x >> 16) & 0x8000u;
  const unsigned int ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return static_cast<unsigned short>(ax == 0x7f800000u ? (sign | 0x7c00u) : 0x7fffu);
  if (ax >= 0x477ff000u) return static_cast<unsigned short>(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (ax <= 0x33000000u) return static_cast<unsigned short>(sign);            // <= 2^-25 rounds to 0
  unsigned int exp = ax >> 23;
  unsigned int man = ax & 0x7fffffu;
  unsigned int shift;
  unsigned int hexp;
  if (exp > 112u) {  // normal half
    shift = 13u;
    hexp = exp - 112u;
  } else {  // subnormal half: value = man' * 2^-24
    man |= 0x800000u;
    shift = 126u - exp;
    hexp = 0u;
  }
  unsigned int result = (hexp << 10) | (man >> shift);
  const unsigned int rem = man & ((1u << shift) - 1u);
  const unsigned int halfway = 1u << (shift - 1u);
  if (rem > halfway || (rem == halfway && (result & 1u))) ++result;  // carry into exponent is correct
  return static_cast<unsigned short>(sign | result);
}
inline float half_bits_to_float(unsigned short h) {
  const unsigned int sign = (static_cast<unsigned int>(h) & 0x8000u) << 16;
  const unsigned int exp = (h >> 10) & 0x1fu;
  unsigned int man = h & 0x3ffu;
  unsigned int bits;
  if (exp == 0u) {
    if (man == 0u) {
      bits = sign;
    } else {  // subnormal: normalise
      unsigned int e = 113u;
      while ((man & 0x400u) == 0u) {
        man <<= 1;
        --e;
      }
      bits = sign | (e << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31u) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
}  // namespace detail
}  // namespace fcos4j_emu

struct __attribute__((aligned(2))) __half {
  unsigned short __x;
  __half() = default;
  __half(float f) : __x(::fcos4j_emu::detail::float_to_half_bits(f)) {}
  operator float() const { return ::fcos4j_emu::detail::half_bits_to_float(__x); }
};
struct __attribute__((aligned(4))) __half2 {
  __half x, y;
};

inline __half __float2half(float f) { __half h; h.__x = ::fcos4j_emu::detail::float_to_half_bits(f); return h; }
inline __half __float2half_rn(float f) { return __float2half(f); }
inline float __half2float(__half h) { return ::fcos4j_emu::detail::half_bits_to_float(h.__x); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __ushort_as_half(unsigned short v) { __half h; h.__x = v; return h; }
inline short __half_as_short(__half h) { return static_cast<short>(h.__x); }
inline __half __short_as_half(short v) { __half h; h.__x = static_cast<unsigned short>(v); return h; }
inline bool __hisnan(__half h) { return (h.__x & 0x7fffu) > 0x7c00u; }
inline int __hisinf(__half h) { return h.__x == 0x7c00u ? 1 : (h.__x == 0xfc00u ? -1 : 0); }
inline __half2 __floats2half2_rn(float a, float b) { return __half2{__float2half(a), __float2half(b)}; }
inline __half2 __float2half2_rn(float a) { return __half2{__float2half(a), __float2half(a)}; }
inline float __low2float(__half2 v) { return __half2float(v.x); }
inline float __high2float(__half2 v) { return __half2float(v.y); }
inline float2 __half22float2(__half2 v) { return float2{__half2float(v.x), __half2float(v.y)}; }
inline __half __low2half(__half2 v) { return v.x; }
inline __half __high2half(__half2 v) { return v.y; }

// ------------------------------------------------------------------------------------------------
// Execution context: threadIdx & co resolve to the running fiber's values
// ------------------------------------------------------------------------------------------------
namespace fcos4j_emu {

/// Source position of a launch (kernel name as written in FCOS4J_LAUNCH).
struct LaunchSite {
  const char* file;
  int line;
  const char* kernel;
};

/// Source position of a barrier / warp collective / __trap call.
struct Site {
  const char* file;
  int line;
  const char* what;
};

/// Static description of one FCOS4J_SHARED / FCOS4J_DYNAMIC_SHARED declaration (count 0 = dynamic).
struct SharedDecl {
  const char* name;
  const char* file;
  int line;
  size_t elem_size;
  size_t count;
  size_t align;
};

namespace detail {
/// Per emulated thread values read by kernels (first members of the scheduler's fiber record).
struct ThreadView {
  uint3 thread_idx;
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
// initial-exec: one register-relative load per access even inside a dlopen'ed library (8 bytes of the
// static TLS surplus); threadIdx & co read it on every use.
extern __thread ThreadView* tls_thread FCOS4J_EMU_HIDDEN __attribute__((tls_model("initial-exec")));
extern bool g_preempt FCOS4J_EMU_HIDDEN;  // random preemption at shared accesses (seed != 0)

FCOS4J_EMU_HIDDEN void syncthreads(const Site& s);
FCOS4J_EMU_HIDDEN int syncthreads_op(const Site& s, int op, int pred);  // op: 1 count, 2 and, 3 or
FCOS4J_EMU_HIDDEN void syncwarp(const Site& s, unsigned mask);
// kind: 0 idx, 1 up, 2 down, 3 xor. Exchanges 8 bytes.
FCOS4J_EMU_HIDDEN unsigned long long shfl(const Site& s, int kind, unsigned mask, unsigned long long v, int b,
                                          int width);
// kind: 0 ballot, 1 any, 2 all, 3 reduce_add, 4 reduce_min, 5 reduce_max, 6 reduce_and, 7 reduce_or,
// 8 reduce_xor, 9 reduce_min signed, 10 reduce_max signed
FCOS4J_EMU_HIDDEN unsigned vote(const Site& s, int kind, unsigned mask, unsigned v);
FCOS4J_EMU_HIDDEN unsigned activemask();
[[noreturn]] FCOS4J_EMU_HIDDEN void trap(const Site& s);
FCOS4J_EMU_HIDDEN void preempt_point();  // race hunting: yields 1 in 4 calls (seeded schedules only)
FCOS4J_EMU_HIDDEN void yield_point();    // always lets the other ready threads of the block run
FCOS4J_EMU_HIDDEN void* shared_static_ptr(const SharedDecl* d);
FCOS4J_EMU_HIDDEN void* shared_dynamic_ptr(const SharedDecl* d, size_t* bytes);
[[noreturn]] FCOS4J_EMU_HIDDEN void shared_oob(const SharedDecl* d, long long index, bool is_unsigned,
                                               size_t count);

using Thunk = void (*)(void* closure);
FCOS4J_EMU_HIDDEN void launch_impl(const LaunchSite& site, const void* key, dim3 grid, dim3 block, size_t smem,
                                   cudaStream_t stream, Thunk thunk, void* closure);

template <class... P>
struct Closure {
  void (*kernel)(P...);
  std::tuple<std::decay_t<P>...> args;
  static void run(void* self) {
    auto* c = static_cast<Closure*>(self);
    std::apply(c->kernel, c->args);  // by-value parameters: every emulated thread gets its own copies
  }
};
}  // namespace detail

/// Bounds-checked view of a shared-memory array. Subscripting is checked (and is a preemption point in
/// race-hunting mode); the implicit pointer conversion is an unchecked escape hatch.
template <class T>
class SharedArray {
 public:
  SharedArray(const SharedDecl* d, T* p, size_t n) : d_(d), p_(p), n_(n) {}
  template <class I, class = std::enable_if_t<std::is_integral_v<I> || std::is_enum_v<I>>>
  T& operator[](I i) const {
    if constexpr (std::is_signed_v<I>) {
      if (__builtin_expect(i < 0 || static_cast<unsigned long long>(i) >= n_, 0))
        detail::shared_oob(d_, static_cast<long long>(i), false, n_);
    } else {
      if (__builtin_expect(static_cast<unsigned long long>(i) >= n_, 0))
        detail::shared_oob(d_, static_cast<long long>(i), true, n_);
    }
    if (__builtin_expect(detail::g_preempt, 0)) detail::preempt_point();
    return p_[i];
  }
  operator T*() const { return p_; }
  T* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  const SharedDecl* d_;
  T* p_;
  size_t n_;
};

namespace detail {
template <class T>
inline SharedArray<T> shared_static(const SharedDecl* d) {
  return SharedArray<T>(d, static_cast<T*>(shared_static_ptr(d)), d->count);
}
template <class T>
inline SharedArray<T> shared_dynamic(const SharedDecl* d) {
  size_t bytes = 0;
  T* p = static_cast<T*>(shared_dynamic_ptr(d, &bytes));
  return SharedArray<T>(d, p, bytes / sizeof(T));
}
template <class T>
inline unsigned long long to_bits(T v) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "shuffle of an unsupported type");
  unsigned long long b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
inline T from_bits(unsigned long long b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}
}  // namespace detail

/// Launch configuration bound to a kernel; calling it with the kernel arguments runs the grid and returns
/// after it completed (see FCOS4J_LAUNCH).
template <class... P>
struct Launcher {
  LaunchSite site;
  void (*kernel)(P...);
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  template <class... A>
  void operator()(A&&... args) const {
    static_assert(sizeof...(P) == sizeof...(A), "FCOS4J_LAUNCH: wrong number of kernel arguments");
    detail::Closure<P...> c{kernel, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...)};
    detail::launch_impl(site, reinterpret_cast<const void*>(kernel), grid, block, smem, stream,
                        &detail::Closure<P...>::run, &c);
  }
};
template <class... P>
inline Launcher<P...> launch(const LaunchSite& site, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem,
                             cudaStream_t stream) {
  return Launcher<P...>{site, kernel, grid, block, smem, stream};
}

}  // namespace fcos4j_emu

#define threadIdx (static_cast<const ::uint3&>(::fcos4j_emu::detail::tls_thread->thread_idx))
#define blockIdx (static_cast<const ::uint3&>(::fcos4j_emu::detail::tls_thread->block_idx))
#define blockDim (static_cast<const ::dim3&>(::fcos4j_emu::detail::tls_thread->block_dim))
#define gridDim (static_cast<const ::dim3&>(::fcos4j_emu::detail::tls_thread->grid_dim))
static constexpr int warpSize = 32;

#define FCOS4J_EMU_SITE(what) ::fcos4j_emu::Site{__FILE__, __LINE__, what}

// ------------------------------------------------------------------------------------------------
// Barriers and warp collectives (macros so that errors can name the call site)
// ------------------------------------------------------------------------------------------------
#define __syncthreads() ::fcos4j_emu::detail::syncthreads(FCOS4J_EMU_SITE("__syncthreads"))
#define __syncthreads_count(pred) \
  ::fcos4j_emu::detail::syncthreads_op(FCOS4J_EMU_SITE("__syncthreads_count"), 1, (pred) ? 1 : 0)
#define __syncthreads_and(pred) \
  ::fcos4j_emu::detail::syncthreads_op(FCOS4J_EMU_SITE("__syncthreads_and"), 2, (pred) ? 1 : 0)
#define __syncthreads_or(pred) \
  ::fcos4j_emu::detail::syncthreads_op(FCOS4J_EMU_SITE("__syncthreads_or"), 3, (pred) ? 1 : 0)
#define __syncwarp(...) ::fcos4j_emu::detail::SyncwarpCall{FCOS4J_EMU_SITE("__syncwarp")}(__VA_ARGS__)
#define __shfl_sync(...) ::fcos4j_emu::detail::shfl_(FCOS4J_EMU_SITE("__shfl_sync"), 0, __VA_ARGS__)
#define __shfl_up_sync(...) ::fcos4j_emu::detail::shfl_(FCOS4J_EMU_SITE("__shfl_up_sync"), 1, __VA_ARGS__)
#define __shfl_down_sync(...) ::fcos4j_emu::detail::shfl_(FCOS4J_EMU_SITE("__shfl_down_sync"), 2, __VA_ARGS__)
#define __shfl_xor_sync(...) ::fcos4j_emu::detail::shfl_(FCOS4J_EMU_SITE("__shfl_xor_sync"), 3, __VA_ARGS__)
#define __ballot_sync(mask, pred) \
  ::fcos4j_emu::detail::vote(FCOS4J_EMU_SITE("__ballot_sync"), 0, (mask), (pred) ? 1u : 0u)
#define __any_sync(mask, pred) \
  static_cast<int>(::fcos4j_emu::detail::vote(FCOS4J_EMU_SITE("__any_sync"), 1, (mask), (pred) ? 1u : 0u))
#define __all_sync(mask, pred) \
  static_cast<int>(::fcos4j_emu::detail::vote(FCOS4J_EMU_SITE("__all_sync"), 2, (mask), (pred) ? 1u : 0u))
#define __reduce_add_sync(mask, v) ::fcos4j_emu::detail::reduce_(FCOS4J_EMU_SITE("__reduce_add_sync"), 3, (mask), (v))
#define __reduce_min_sync(mask, v) ::fcos4j_emu::detail::reduce_(FCOS4J_EMU_SITE("__reduce_min_sync"), 4, (mask), (v))
#define __reduce_max_sync(mask, v) ::fcos4j_emu::detail::reduce_(FCOS4J_EMU_SITE("__reduce_max_sync"), 5, (mask), (v))
#define __reduce_and_sync(mask, v) ::fcos4j_emu::detail::vote(FCOS4J_EMU_SITE("__reduce_and_sync"), 6, (mask), (v))
#define __reduce_or_sync(mask, v) ::fcos4j_emu::detail::vote(FCOS4J_EMU_SITE("__reduce_or_sync"), 7, (mask), (v))
#define __reduce_xor_sync(mask, v) ::fcos4j_emu::detail::vote(FCOS4J_EMU_SITE("__reduce_xor_sync"), 8, (mask), (v))
#define __activemask() ::fcos4j_emu::detail::activemask()
#define __trap() ::fcos4j_emu::detail::trap(FCOS4J_EMU_SITE("__trap"))

namespace fcos4j_emu {
namespace detail {
struct SyncwarpCall {
  Site site;
  void operator()(unsigned mask = 0xffffffffu) const { syncwarp(site, mask); }
};
template <class T>
inline T shfl_(const Site& s, int kind, unsigned mask, T var, int b, int width = warpSize) {
  return from_bits<T>(shfl(s, kind, mask, to_bits<T>(var), b, width));
}
inline unsigned reduce_(const Site& s, int kind, unsigned mask, unsigned v) { return vote(s, kind, mask, v); }
inline int reduce_(const Site& s, int kind, unsigned mask, int v) {
  // add is sign-agnostic; min/max of signed values use the signed variants
  return static_cast<int>(vote(s, kind == 3 ? 3 : kind + 5, mask, static_cast<unsigned>(v)));
}
}  // namespace detail
}  // namespace fcos4j_emu

inline void __threadfence_block() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __nanosleep(unsigned) { ::fcos4j_emu::detail::yield_point(); }

// ------------------------------------------------------------------------------------------------
// Integer / bit / float intrinsics
// ------------------------------------------------------------------------------------------------
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }
inline unsigned int __brev(unsigned int x) {
  unsigned int r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned int __umulhi(unsigned int a, unsigned int b) {
  return static_cast<unsigned int>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline int __mulhi(int a, int b) { return static_cast<int>((static_cast<long long>(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  __extension__ typedef unsigned __int128 u128;
  return static_cast<unsigned long long>((static_cast<u128>(a) * b) >> 64);
}

inline float __int_as_float(int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline int __float_as_int(float f) { int v; std::memcpy(&v, &f, 4); return v; }
inline float __uint_as_float(unsigned int v) { float f; std::memcpy(&f, &v, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int v; std::memcpy(&v, &f, 4); return v; }
inline double __longlong_as_double(long long v) { double d; std::memcpy(&d, &v, 8); return d; }
inline long long __double_as_longlong(double d) { long long v; std::memcpy(&v, &d, 8); return v; }

// Correctly rounded IEEE operations (the emulated flavour is compiled with -ffp-contract=off).
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fsqrt_rn(float a) { return sqrtf(a); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  // NaN -> 0
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rn(float x) { return static_cast<int>(nearbyintf(x)); }
inline int __float2int_rd(float x) { return static_cast<int>(floorf(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(ceilf(x)); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }

template <class T>
inline T __ldg(const T* p) { return *p; }

// CUDA's device min/max overloads (global namespace)
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline unsigned int min(int a, unsigned int b) { return min(static_cast<unsigned int>(a), b); }
inline unsigned int min(unsigned int a, int b) { return min(a, static_cast<unsigned int>(b)); }
inline unsigned int max(int a, unsigned int b) { return max(static_cast<unsigned int>(a), b); }
inline unsigned int max(unsigned int a, int b) { return max(a, static_cast<unsigned int>(b)); }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }

// ------------------------------------------------------------------------------------------------
// Atomics (relaxed, like CUDA's; correct across blocks running in parallel on the worker pool)
// ------------------------------------------------------------------------------------------------
#define FCOS4J_EMU_ATOMIC_INT(T)                                                                       \
  inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_RELAXED); }                  \
  inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED); }                  \
  inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_RELAXED); }                \
  inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_RELAXED); }                  \
  inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_RELAXED); }                    \
  inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED); }                  \
  inline T atomicCAS(T* a, T compare, T v) {                                                            \
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);             \
    return compare;                                                                                     \
  }                                                                                                     \
  inline T atomicMin(T* a, T v) {                                                                       \
    T old = __atomic_load_n(a, __ATOMIC_RELAXED);                                                       \
    while (v < old && !__atomic_compare_exchange_n(a, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { \
    }                                                                                                   \
    return old;                                                                                         \
  }                                                                                                     \
  inline T atomicMax(T* a, T v) {                                                                       \
    T old = __atomic_load_n(a, __ATOMIC_RELAXED);                                                       \
    while (v > old && !__atomic_compare_exchange_n(a, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) { \
    }                                                                                                   \
    return old;                                                                                         \
  }
FCOS4J_EMU_ATOMIC_INT(int)
FCOS4J_EMU_ATOMIC_INT(unsigned int)
FCOS4J_EMU_ATOMIC_INT(unsigned long long)
#undef FCOS4J_EMU_ATOMIC_INT
inline long long atomicMin(long long* a, long long v) {
  long long old = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (v < old && !__atomic_compare_exchange_n(a, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
inline long long atomicMax(long long* a, long long v) {
  long long old = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (v > old && !__atomic_compare_exchange_n(a, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
inline unsigned short atomicCAS(unsigned short* a, unsigned short compare, unsigned short v) {
  __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
inline unsigned int atomicInc(unsigned int* a, unsigned int limit) {
  unsigned int old = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(a, &old, old >= limit ? 0u : old + 1u, true, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
  }
  return old;
}
inline unsigned int atomicDec(unsigned int* a, unsigned int limit) {
  unsigned int old = __atomic_load_n(a, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(a, &old, (old == 0u || old > limit) ? limit : old - 1u, true,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
}
inline float atomicExch(float* a, float v) {
  unsigned int r = __atomic_exchange_n(reinterpret_cast<unsigned int*>(a), __float_as_uint(v), __ATOMIC_RELAXED);
  return __uint_as_float(r);
}
inline float atomicAdd(float* a, float v) {
  unsigned int* p = reinterpret_cast<unsigned int*>(a);
  unsigned int old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(p, &old, __float_as_uint(__uint_as_float(old) + v), true,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return __uint_as_float(old);
}
inline double atomicAdd(double* a, double v) {
  unsigned long long* p = reinterpret_cast<unsigned long long*>(a);
  unsigned long long old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(p, &old,
                                      static_cast<unsigned long long>(
                                          __double_as_longlong(__longlong_as_double(static_cast<long long>(old)) + v)),
                                      true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return __longlong_as_double(static_cast<long long>(old));
}

#endif  // FCOS4J_EMU_CUDA_EMU_H

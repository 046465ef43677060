// fcos4j/cuda_compat.h - the one header every fcos4j kernel source includes.
//
// The same .cu file is compiled twice:
//   * by nvcc (or by a host compiler with FCOS4J_REAL_CUDA defined, for host-only files of the CUDA
//     flavour): this header is then a thin layer over <cuda_runtime.h> / <cuda_fp16.h>;
//   * by g++ for the emulated flavour: this header then pulls in the CPU emulation of the CUDA execution
//     model (native/emulation, see its README.md), which runs kernels on the host with threads as fibers,
//     checks barriers, warp collectives and shared-memory bounds, and offers the CUDA runtime API on host
//     memory.
// Kernel bodies therefore contain no #ifdef: they use the normal CUDA names plus the three macros below.
//
//   FCOS4J_LAUNCH(kernel, grid, block, dynamicSmemBytes, stream, args...)
//       kernel<<<grid, block, dynamicSmemBytes, stream>>>(args...). Check cudaGetLastError() afterwards,
//       as with a real launch. `kernel` must not contain a top-level comma (use an alias for
//       multi-argument template kernels).
//   FCOS4J_SHARED(T, name, N)       __shared__ T name[N];  (N a constant expression; 1-D only)
//   FCOS4J_DYNAMIC_SHARED(T, name)  extern __shared__ T name[]; (use a distinct name per element type)
//
// FCOS4J_EMULATED is 1 in the emulated flavour and 0 otherwise (for host code only; never in kernels).
#ifndef FCOS4J_CUDA_COMPAT_H
#define FCOS4J_CUDA_COMPAT_H

#if defined(__CUDACC__) || defined(FCOS4J_REAL_CUDA)

#include <cuda_runtime.h>
#include <cuda_fp16.h>

#define FCOS4J_EMULATED 0

#if defined(__CUDACC__)
#define FCOS4J_LAUNCH(kernel, grid, block, dynamicSmemBytes, stream, ...) \
  kernel<<<(grid), (block), (dynamicSmemBytes), (stream)>>>(__VA_ARGS__)
#define FCOS4J_SHARED(T, name, N) __shared__ T name[N]
#define FCOS4J_DYNAMIC_SHARED(T, name) extern __shared__ __align__(16) T name[]
#endif

#else  // emulated flavour

#define FCOS4J_EMULATED 1
#include "fcos4j/emu/cuda_emu.h"

#define FCOS4J_LAUNCH(kernel, grid, block, dynamicSmemBytes, stream, ...)                            \
  ::fcos4j_emu::launch(::fcos4j_emu::LaunchSite{__FILE__, __LINE__, #kernel}, kernel, (grid), (block), \
                       (dynamicSmemBytes), (stream))(__VA_ARGS__)

#define FCOS4J_SHARED(T, name, N)                                                               \
  static constexpr ::fcos4j_emu::SharedDecl name##_fcos4j_shared_decl{#name, __FILE__, __LINE__, \
                                                                     sizeof(T), (N), alignof(T)}; \
  const ::fcos4j_emu::SharedArray<T> name =                                                      \
      ::fcos4j_emu::detail::shared_static<T>(&name##_fcos4j_shared_decl)

#define FCOS4J_DYNAMIC_SHARED(T, name)                                                          \
  static constexpr ::fcos4j_emu::SharedDecl name##_fcos4j_shared_decl{#name, __FILE__, __LINE__, \
                                                                     sizeof(T), 0, alignof(T)};   \
  const ::fcos4j_emu::SharedArray<T> name =                                                      \
      ::fcos4j_emu::detail::shared_dynamic<T>(&name##_fcos4j_shared_decl)

#endif

#endif  // FCOS4J_CUDA_COMPAT_H

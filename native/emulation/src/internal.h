// Internal interfaces shared by the emulation's translation units.
#ifndef FCOS4J_EMU_INTERNAL_H
#define FCOS4J_EMU_INTERNAL_H

#include <cstdint>
#include <string>

#include "fcos4j/cuda_compat.h"

namespace fcos4j_emu {
namespace detail {

// Emulated device limits (those of sm_90).
constexpr size_t kStaticSmemLimit = 48 * 1024;       // static + dynamic without opt-in
constexpr size_t kOptinSmemLimit = 227 * 1024;       // cudaDevAttrMaxSharedMemoryPerBlockOptin
constexpr unsigned kMaxThreadsPerBlock = 1024;

/// Records an error: sticky ones (kernel faults) persist until cleared; every error becomes the calling
/// thread's last error (cudaGetLastError) and the text returned by fcos4j_emu_last_error_message().
FCOS4J_EMU_HIDDEN void record_error(cudaError_t code, const std::string& message, bool sticky);
FCOS4J_EMU_HIDDEN cudaError_t sticky_error();
FCOS4J_EMU_HIDDEN std::string last_message();
FCOS4J_EMU_HIDDEN void clear_errors();  // internal callers use these, never the exported fcos4j_emu_* (which
                                        // another copy of the layer in the process may interpose)
FCOS4J_EMU_HIDDEN bool is_valid_stream(cudaStream_t s);

/// Per-kernel attributes (cudaFuncSetAttribute) and what the emulation learnt about the kernel.
struct KernelLimits {
  size_t max_dynamic_smem;  // allowed dynamic bytes
  size_t static_smem;       // static bytes seen in earlier launches (0 = unknown)
};
FCOS4J_EMU_HIDDEN KernelLimits kernel_limits(const void* key);
FCOS4J_EMU_HIDDEN void note_static_smem(const void* key, size_t bytes);

FCOS4J_EMU_HIDDEN int configured_threads();
FCOS4J_EMU_HIDDEN uint64_t schedule_seed();

}  // namespace detail
}  // namespace fcos4j_emu

#endif

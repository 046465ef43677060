/* fcos4j/emu/control.h - controls of the CPU emulation of CUDA (C linkage, exported).
 * Only meaningful in the emulated flavour. Documentation: native/emulation/README.md. */
#ifndef FCOS4J_EMU_CONTROL_H
#define FCOS4J_EMU_CONTROL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FCOS4J_EMU_EXPORT __attribute__((visibility("default")))

/** Schedule seed for later launches: 0 = deterministic round robin (the default unless the environment
 *  variable FCOS4J_EMU_SEED is set); any other value randomises the order in which emulated threads run
 *  between barriers, the lane order after warp collectives, and preempts threads at shared-memory accesses. */
FCOS4J_EMU_EXPORT void fcos4j_emu_set_schedule_seed(uint64_t seed);
FCOS4J_EMU_EXPORT uint64_t fcos4j_emu_get_schedule_seed(void);

/** Text of the most recent error recorded by the emulation (kernel fault, launch configuration error or
 *  runtime-call error); "" when none. The pointer stays valid until the next emulation call on this thread. */
FCOS4J_EMU_EXPORT const char* fcos4j_emu_last_error_message(void);

/** Clears the sticky kernel error and the calling thread's last error (like cudaDeviceReset without
 *  freeing allocations). */
FCOS4J_EMU_EXPORT void fcos4j_emu_clear_error(void);

/** Number of worker threads that run blocks (FCOS4J_EMU_THREADS, default: hardware threads). Setting it
 *  takes effect at the next launch; n <= 0 restores the default. */
FCOS4J_EMU_EXPORT void fcos4j_emu_set_threads(int n);
FCOS4J_EMU_EXPORT int fcos4j_emu_get_threads(void);

/** Counters since process start (for tests and the README's measurements). */
typedef struct fcos4j_emu_stats {
  uint64_t launches;        /* kernel launches that ran (or failed while running) */
  uint64_t blocks;          /* blocks executed */
  uint64_t threads;         /* emulated threads (fibers) started */
  uint64_t context_switches;/* fiber switches (into and out of a fiber count as two) */
  uint64_t stacks_mapped;   /* fiber stacks created with mmap (the rest were reused from the pools) */
} fcos4j_emu_stats;
FCOS4J_EMU_EXPORT void fcos4j_emu_get_stats(fcos4j_emu_stats* out);

#ifdef __cplusplus
}
#endif

#endif /* FCOS4J_EMU_CONTROL_H */

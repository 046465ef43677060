/*
 * fcos4j C API: FCOS post-processing (decode, per-level top-k, class-aware NMS) on a CUDA stream.
 *
 * Two libraries export exactly this API: libfcos4j.so (CUDA; cudart linked statically, so it loads on
 * machines without a driver and reports FCOS4J_ERR_NO_DEVICE) and libfcos4j_emu.so (the same kernels
 * run on the CPU through the emulation layer; "device" pointers are then host memory obtained from
 * fcos4j_device_alloc). Semantics: engines/POSTPROCESS.md. All functions are thread-safe except that a
 * postprocessor handle must not run two calls at once (its workspace is shared between calls).
 * Errors: every function returning fcos4j_status sets a thread-local text readable by
 * fcos4j_last_error() on failure.
 */
#ifndef FCOS4J_FCOS4J_H
#define FCOS4J_FCOS4J_H

#include <stddef.h>
#include <stdint.h>

#if defined(FCOS4J_BUILDING_LIBRARY)
#define FCOS4J_API __attribute__((visibility("default")))
#else
#define FCOS4J_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define FCOS4J_MAX_LEVELS 8

typedef enum fcos4j_status {
  FCOS4J_OK = 0,
  FCOS4J_ERR_INVALID_ARGUMENT = 1, /* bad params, shape, pointer or size */
  FCOS4J_ERR_CUDA = 2,             /* a CUDA call or kernel launch failed */
  FCOS4J_ERR_NON_FINITE_INPUT = 3, /* run_sync: an image had NaN/+Inf logits (or non-finite reg/ctr) */
  FCOS4J_ERR_NO_DEVICE = 4,        /* no CUDA driver or no GPU */
  FCOS4J_ERR_INTERNAL = 5
} fcos4j_status;

typedef enum fcos4j_convention { FCOS4J_MMDET = 0, FCOS4J_FCOS = 1, FCOS4J_TORCHVISION = 2 } fcos4j_convention;
typedef enum fcos4j_dtype { FCOS4J_FLOAT32 = 0, FCOS4J_FLOAT16 = 1 } fcos4j_dtype;

typedef struct fcos4j_params {
  int32_t convention;      /* fcos4j_convention */
  float score_threshold;   /* [0, 1) */
  int32_t nms_pre;         /* candidates kept per image and level, [1, 10000] */
  float iou_threshold;     /* [0, 1] */
  int32_t max_detections;  /* K, output slots per image, [1, 100000] */
  int32_t num_levels;      /* [1, FCOS4J_MAX_LEVELS] */
  int32_t strides[FCOS4J_MAX_LEVELS];
} fcos4j_params;

typedef struct fcos4j_shape {
  int32_t batch;
  int32_t num_classes;
  int32_t num_levels;
  int32_t heights[FCOS4J_MAX_LEVELS];
  int32_t widths[FCOS4J_MAX_LEVELS];
} fcos4j_shape;

typedef struct fcos4j_postprocessor fcos4j_postprocessor;

/** Library version, e.g. "0.1.0". */
FCOS4J_API const char* fcos4j_version(void);
/** 1 in libfcos4j_emu.so, 0 in libfcos4j.so. */
FCOS4J_API int32_t fcos4j_is_emulated(void);
/** Text of this thread's last failure ("" if none). Valid until the thread's next fcos4j call. */
FCOS4J_API const char* fcos4j_last_error(void);
/** Number of usable devices; FCOS4J_ERR_NO_DEVICE (count 0) without driver or GPU. Never crashes. */
FCOS4J_API int32_t fcos4j_device_count(int32_t* count);

/** One image_info row {resized h, resized w, rescale y, rescale x} for the convention. */
FCOS4J_API int32_t fcos4j_image_info(int32_t convention, int32_t original_height, int32_t original_width,
                                     int32_t resized_height, int32_t resized_width, float out[4]);

/** Device memory and streams (in the emulated library: host memory and synchronous streams). */
FCOS4J_API int32_t fcos4j_device_alloc(size_t bytes, void** out);
FCOS4J_API int32_t fcos4j_device_free(void* ptr);
FCOS4J_API int32_t fcos4j_copy_to_device(void* dst, const void* src, size_t bytes, void* stream);
FCOS4J_API int32_t fcos4j_copy_to_host(void* dst, const void* src, size_t bytes, void* stream);
FCOS4J_API int32_t fcos4j_stream_create(void** out);
FCOS4J_API int32_t fcos4j_stream_destroy(void* stream);
FCOS4J_API int32_t fcos4j_stream_synchronize(void* stream);

/**
 * Creates a post-processor for shapes up to max_shape (every dimension), allocating its device
 * workspace once. dtype: fcos4j_dtype of the head tensors.
 */
FCOS4J_API int32_t fcos4j_postprocessor_create(const fcos4j_params* params, const fcos4j_shape* max_shape,
                                               int32_t dtype, fcos4j_postprocessor** out);
/** Frees the handle and its workspace (after synchronizing its last stream). NULL is ignored. */
FCOS4J_API void fcos4j_postprocessor_destroy(fcos4j_postprocessor* handle);
/** Device workspace bytes the handle holds (the engine's need for max_shape). */
FCOS4J_API int32_t fcos4j_postprocessor_workspace_size(const fcos4j_postprocessor* handle, size_t* bytes);

/**
 * Enqueues post-processing on `stream` (a cudaStream_t, NULL = default stream) without synchronizing.
 * cls/reg/ctr: arrays of num_levels device pointers to NCHW tensors [N,C,H,W], [N,4,H,W], [N,1,H,W].
 * image_info: device [N,4] f32 (fcos4j_image_info). Outputs (device): num_detections [N] (-1 for an
 * image with non-finite input), boxes [N,K,4] (x1,y1,x2,y2 original pixels), scores [N,K], classes [N,K];
 * unused slots are zero. shape must fit the handle's max shape.
 */
FCOS4J_API int32_t fcos4j_postprocessor_run(fcos4j_postprocessor* handle, const fcos4j_shape* shape,
                                            const void* const* cls, const void* const* reg,
                                            const void* const* ctr, const float* image_info,
                                            int32_t* num_detections, float* boxes, float* scores,
                                            int32_t* classes, void* stream);
/**
 * run + synchronize the stream; FCOS4J_ERR_NON_FINITE_INPUT when an image had non-finite input, with
 * a message naming the image, the tensor (e.g. "cls_2") and the position (channel, y, x).
 */
FCOS4J_API int32_t fcos4j_postprocessor_run_sync(fcos4j_postprocessor* handle, const fcos4j_shape* shape,
                                                 const void* const* cls, const void* const* reg,
                                                 const void* const* ctr, const float* image_info,
                                                 int32_t* num_detections, float* boxes, float* scores,
                                                 int32_t* classes, void* stream);
/**
 * Convenience for callers holding HOST buffers (same layouts as run; fp16 as raw IEEE half bits):
 * copies in, runs, copies out and synchronizes, using device buffers the handle allocates on first use
 * (sized for max_shape). Same errors as run_sync.
 */
FCOS4J_API int32_t fcos4j_postprocessor_run_host(fcos4j_postprocessor* handle, const fcos4j_shape* shape,
                                                 const void* const* cls, const void* const* reg,
                                                 const void* const* ctr, const float* image_info,
                                                 int32_t* num_detections, float* boxes, float* scores,
                                                 int32_t* classes);

#ifdef __cplusplus
}
#endif

#endif /* FCOS4J_FCOS4J_H */

// fcos4j internal C++ API: the FCOS post-processing engine (decode + top-k + class-aware NMS) on a
// CUDA stream. Used by the C API (native/src/capi) and the TensorRT plugin (native/src/plugin).
// Built twice: with nvcc against the CUDA runtime, and with g++ against the emulation layer; the
// declarations below are identical in both flavours (cuda_compat.h provides cudaStream_t).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fcos4j/cuda_compat.h"

namespace fcos4j {

/** Post-processing rules (engines/POSTPROCESS.md). Values are part of the C API and the plugin fields. */
enum class Convention : int { kMmdet = 0, kFcos = 1, kTorchvision = 2 };

/** Element type of the head tensors (image info and outputs are always fp32 / int32). */
enum class DataType : int { kFloat32 = 0, kFloat16 = 1 };

constexpr int kMaxLevels = 8;

/** Status codes; identical numbers in the C API (fcos4j.h, FCOS4J_ERR_*). */
enum StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,   // bad params / shape / pointer / workspace too small
  kCudaError = 2,         // a CUDA runtime call or kernel launch failed
  kNonFiniteInput = 3,    // only from synchronous helpers: an image had NaN/+Inf (num_detections == -1)
  kNoDevice = 4,          // no CUDA driver / no device
  kInternal = 5,
};

struct Params {
  Convention convention;
  float score_threshold;   // mmdet/fcos: on sigmoid(cls); torchvision: on sqrt(sigmoid(cls)*sigmoid(ctr))
  int nms_pre;             // candidates kept per image and level (>= 1)
  float iou_threshold;     // NMS: suppressed when IoU > this
  int max_detections;      // K: detections kept per image (>= 1); the output slot count
  int num_levels;          // 1..kMaxLevels
  int strides[kMaxLevels]; // per level, > 0
};

/** Shape of one call (or the maximum shape for workspace sizing). Heads are NCHW per level. */
struct Shape {
  int batch;                 // N >= 1
  int num_classes;           // C >= 1
  int num_levels;            // must equal Params::num_levels
  int heights[kMaxLevels];
  int widths[kMaxLevels];
};

struct Status {
  int code;           // StatusCode; 0 = ok
  char message[256];  // NUL-terminated, empty when ok
};

/** Byte size of the workspace enqueue() needs for any shape whose every dimension is <= maxShape's
 *  (batch, classes, each level's H and W). Carved in 256-byte aligned pieces. 0 on an invalid shape. */
size_t workspaceSize(const Params& params, const Shape& maxShape);

/** Checks params and shape (ranges, level count agreement, overflow). Host only, no CUDA call. */
Status validate(const Params& params, const Shape& shape);

/** Multipliers from resized-input pixels to original-image pixels, exactly as the convention computes
 *  them (COMMON.md): writes {resizedH, resizedW, scaleY, scaleX} into out[4] (one image_info row). */
void imageInfoFor(Convention convention, int originalH, int originalW, int resizedH, int resizedW,
                  float out[4]);

/**
 * Enqueues the whole post-processing on `stream`; never synchronizes; deterministic.
 *
 * cls[l], reg[l], ctr[l]: device pointers to level l's NCHW tensors ([N,C,H,W], [N,4,H,W], [N,1,H,W])
 * of `dtype`. imageInfo: device [N,4] f32 rows {resized h, resized w, rescale y, rescale x} (see
 * imageInfoFor). Outputs (device): numDetections [N] int32, boxes [N,K,4] f32 (x1,y1,x2,y2 in original
 * pixels), scores [N,K] f32, classes [N,K] int32, K = params.max_detections; unused slots are zero.
 * An image whose cls holds NaN/+Inf anywhere, or whose selected candidate has a non-finite reg/ctr, gets
 * numDetections = -1 and zeroed outputs (decodeErrorInfo below says where, when asked).
 * workspace: >= workspaceSize(params, shape) bytes, 256-byte aligned device memory.
 * Returns kInvalidArgument without touching the stream on bad arguments, kCudaError if a launch failed.
 */
Status enqueue(const Params& params, const Shape& shape, DataType dtype, const void* const cls[],
               const void* const reg[], const void* const ctr[], const float* imageInfo,
               int32_t* numDetections, float* boxes, float* scores, int32_t* classes, void* workspace,
               size_t workspaceBytes, cudaStream_t stream);

/** Where the first non-finite value of image `image` was found by the last enqueue() that used this
 *  workspace (device memory, so call after the stream is synchronized). Host copy of 4 int32 written by
 *  the kernels: {kind (0 none, 1 cls, 2 reg, 3 ctr), level, flat index within the image's level tensor
 *  (c*H*W + y*W + x), 0}. Returns kCudaError if the copy fails. */
Status readErrorInfo(const Params& params, const Shape& shape, const void* workspace, int image,
                     int32_t out[4]);

}  // namespace fcos4j

// The host reference: engines/POSTPROCESS.md as plain C++ loops over host buffers. The oracle the
// kernels are tested against; same argument shape as fcos4j::enqueue but with host pointers.
#pragma once

#include <cstdint>

#include "../core/engine.h"

namespace fcos4j {

/**
 * Runs the post-processing on the host. Pointers are host memory laid out exactly as for enqueue()
 * (fp16 heads as raw IEEE half bits). errorInfo: optional [N][4] int32 receiving, per image,
 * {kind (0 none, 1 cls, 2 reg, 3 ctr), level, flat index within the image's level tensor, 0} of the
 * first non-finite value (smallest level, then kind, then index); such an image gets
 * numDetections = -1 and zeroed outputs.
 */
Status referenceRun(const Params& params, const Shape& shape, DataType dtype, const void* const cls[],
                    const void* const reg[], const void* const ctr[], const float* imageInfo,
                    int32_t* numDetections, float* boxes, float* scores, int32_t* classes,
                    int32_t* errorInfo);

}  // namespace fcos4j

// FcosDetect plugin attributes: parsing from a PluginFieldCollection (as TensorRT's ONNX parser or an
// engine's serialized fields hand them over) and writing them back for serialization.
#pragma once

#include <NvInferRuntime.h>

#include <string>
#include <vector>

#include "core/engine.h"

namespace fcos4j {
namespace plugin {

// Field names (also the ONNX node attribute names).
constexpr char const* kFieldConvention = "convention";
constexpr char const* kFieldScoreThreshold = "score_threshold";
constexpr char const* kFieldNmsPre = "nms_pre";
constexpr char const* kFieldIouThreshold = "iou_threshold";
constexpr char const* kFieldMaxDetections = "max_detections";
constexpr char const* kFieldStrides = "strides";

// Upper bounds that keep output and workspace sizes sane; a model asking for more is almost surely wrong.
constexpr int kMaxNmsPre = 10000;  // same limit as fcos4j::validate
constexpr int kMaxDetectionsLimit = 100000;

/** Defaults of one convention (COMMON.md): thresholds, caps and the FCOS strides 8..128. */
Params defaultParams(Convention convention);

/** "mmdet" / "fcos" / "torchvision" (lower case). */
char const* conventionName(Convention convention);

/**
 * Parses the fields into params. Missing fields take the convention's defaults (convention itself
 * defaults to mmdet). Accepted types: convention int32/int64 (0, 1, 2) or char (name, any case);
 * thresholds float32/float64/float16; nms_pre and max_detections int32/int64; strides int32/int64 array
 * (1..kMaxLevels entries). Unknown field names are reported in `warnings` and ignored.
 * Returns false with a message naming the field on any invalid value.
 */
bool parseFields(nvinfer1::PluginFieldCollection const* fc, Params& out, std::string& error,
                 std::vector<std::string>& warnings);

/** Checks the ranges of params (independent of any tensor shape); false with a message on error. */
bool checkParams(Params const& params, std::string& error);

/**
 * Owns the storage behind the PluginFieldCollection returned by getFieldsToSerialize(): convention as
 * int32, thresholds as float32, caps as int32, strides as an int32 array. Re-filled on every call, so the
 * returned pointers stay valid until the next fill or the owner's destruction.
 */
class SerializedFields
{
public:
    nvinfer1::PluginFieldCollection const* fill(Params const& params);

private:
    int32_t mConvention{0};
    float mScoreThreshold{0.F};
    int32_t mNmsPre{0};
    float mIouThreshold{0.F};
    int32_t mMaxDetections{0};
    int32_t mStrides[kMaxLevels]{};
    std::vector<nvinfer1::PluginField> mFields;
    nvinfer1::PluginFieldCollection mCollection{};
};

} // namespace plugin
} // namespace fcos4j

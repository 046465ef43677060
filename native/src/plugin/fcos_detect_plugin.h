// TensorRT IPluginV3 plugin "FcosDetect" (version "1", namespace "fcos4j"): FCOS post-processing
// (decode + top-k + class-aware NMS) on the GPU, as a layer at the end of an FCOS engine.
//
// Inputs (L = number of strides, 5 by default): cls_0..cls_{L-1} [N,C,H_l,W_l], reg_0.. [N,4,H_l,W_l],
// ctr_0.. [N,1,H_l,W_l] (all fp32 or all fp16, linear), then image_info [N,4] fp32 rows
// {resized h, resized w, rescale y, rescale x}. Outputs: num_detections [N] int32, boxes [N,K,4] fp32,
// scores [N,K] fp32, classes [N,K] int32 with K = max_detections. See docs/PLUGIN.md.
#pragma once

#include <NvInferRuntime.h>

#include <string>

#include "core/engine.h"
#include "plugin/plugin_fields.h"

namespace fcos4j {
namespace plugin {

constexpr char const* kPluginName = "FcosDetect";
constexpr char const* kPluginVersion = "1";
constexpr char const* kPluginNamespace = "fcos4j";
constexpr int32_t kNbOutputs = 4;

/** Output indices. */
enum OutputIndex : int32_t { kOutNumDetections = 0, kOutBoxes = 1, kOutScores = 2, kOutClasses = 3 };

/**
 * Checks the input shapes against the plugin's level count and fills `shape`. With allowUnknown, -1
 * extents (unknown at build time) are accepted and skipped in the comparisons; otherwise every extent
 * must be known and fit in int32. The message names the offending tensor (cls_2, reg_0, image_info...).
 */
bool shapeFromInputDims(Params const& params, nvinfer1::Dims const* const* dims, int32_t nbInputs,
                        bool allowUnknown, Shape& shape, std::string& error);

/** Name of input `index` (cls_l, reg_l, ctr_l, image_info) for messages. */
std::string inputName(Params const& params, int32_t index);

class FcosDetectPlugin final : public nvinfer1::IPluginV3,
                               public nvinfer1::IPluginV3OneCore,
                               public nvinfer1::IPluginV3OneBuild,
                               public nvinfer1::IPluginV3OneRuntime
{
public:
    FcosDetectPlugin(std::string layerName, Params const& params);
    FcosDetectPlugin(FcosDetectPlugin const& other);
    FcosDetectPlugin& operator=(FcosDetectPlugin const&) = delete;
    ~FcosDetectPlugin() override = default;

    Params const& params() const noexcept
    {
        return mParams;
    }

    // IPluginV3
    nvinfer1::IPluginCapability* getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept override;
    nvinfer1::IPluginV3* clone() noexcept override;

    // IPluginV3OneCore
    char const* getPluginName() const noexcept override;
    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;

    // IPluginV3OneBuild
    int32_t configurePlugin(nvinfer1::DynamicPluginTensorDesc const* in, int32_t nbInputs,
                            nvinfer1::DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
    int32_t getOutputDataTypes(nvinfer1::DataType* outputTypes, int32_t nbOutputs,
                               nvinfer1::DataType const* inputTypes, int32_t nbInputs) const noexcept override;
    int32_t getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs,
                            nvinfer1::DimsExprs const* shapeInputs, int32_t nbShapeInputs,
                            nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
                            nvinfer1::IExprBuilder& exprBuilder) noexcept override;
    bool supportsFormatCombination(int32_t pos, nvinfer1::DynamicPluginTensorDesc const* inOut, int32_t nbInputs,
                                   int32_t nbOutputs) noexcept override;
    int32_t getNbOutputs() const noexcept override;
    size_t getWorkspaceSize(nvinfer1::DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
                            nvinfer1::DynamicPluginTensorDesc const* outputs,
                            int32_t nbOutputs) const noexcept override;

    // IPluginV3OneRuntime
    int32_t onShapeChange(nvinfer1::PluginTensorDesc const* in, int32_t nbInputs,
                          nvinfer1::PluginTensorDesc const* out, int32_t nbOutputs) noexcept override;
    int32_t enqueue(nvinfer1::PluginTensorDesc const* inputDesc, nvinfer1::PluginTensorDesc const* outputDesc,
                    void const* const* inputs, void* const* outputs, void* workspace,
                    cudaStream_t stream) noexcept override;
    nvinfer1::IPluginV3* attachToContext(nvinfer1::IPluginResourceContext* context) noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldsToSerialize() noexcept override;

private:
    int32_t expectedInputs() const noexcept
    {
        return 3 * mParams.num_levels + 1;
    }
    bool checkCounts(int32_t nbInputs, int32_t nbOutputs, char const* where) const noexcept;
    bool checkOutputDims(nvinfer1::Dims const* const* dims, int32_t batch, bool allowUnknown,
                         std::string& error) const;
    void error(std::string const& message) const noexcept;

    std::string mLayerName;
    Params mParams;
    SerializedFields mSerialized;
};

class FcosDetectCreator final : public nvinfer1::IPluginCreatorV3One
{
public:
    FcosDetectCreator();

    nvinfer1::IPluginV3* createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc,
                                      nvinfer1::TensorRTPhase phase) noexcept override;
    nvinfer1::PluginFieldCollection const* getFieldNames() noexcept override;
    char const* getPluginName() const noexcept override;
    char const* getPluginVersion() const noexcept override;
    char const* getPluginNamespace() const noexcept override;

private:
    nvinfer1::PluginFieldCollection mFieldNames{};
    nvinfer1::PluginField mFields[6];
};

} // namespace plugin
} // namespace fcos4j

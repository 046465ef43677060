#include "plugin/fcos_detect_plugin.h"

#include <climits>
#include <exception>
#include <new>
#include <sstream>
#include <vector>

#include "plugin/plugin_logging.h"

namespace fcos4j {
namespace plugin {

using nvinfer1::DataType;
using nvinfer1::Dims;
using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginTensorDesc;
using nvinfer1::TensorFormat;

namespace {

constexpr int64_t kUnknown = -1;

bool known(int64_t v)
{
    return v != kUnknown;
}

// Both known and different.
bool conflict(int64_t a, int64_t b)
{
    return known(a) && known(b) && a != b;
}

std::string dimsToString(Dims const& d)
{
    std::ostringstream os;
    os << "[";
    for (int32_t i = 0; i < d.nbDims && i < Dims::MAX_DIMS; ++i)
    {
        os << (i > 0 ? "," : "") << d.d[i];
    }
    os << "]";
    return os.str();
}

fcos4j::DataType engineType(DataType t)
{
    return t == DataType::kHALF ? fcos4j::DataType::kFloat16 : fcos4j::DataType::kFloat32;
}

char const* typeName(DataType t)
{
    switch (t)
    {
    case DataType::kFLOAT: return "float32";
    case DataType::kHALF: return "float16";
    case DataType::kINT32: return "int32";
    default: return "another type";
    }
}

} // namespace

std::string inputName(Params const& params, int32_t index)
{
    int32_t const levels = params.num_levels;
    if (index >= 0 && index < levels)
    {
        return "cls_" + std::to_string(index);
    }
    if (index >= levels && index < 2 * levels)
    {
        return "reg_" + std::to_string(index - levels);
    }
    if (index >= 2 * levels && index < 3 * levels)
    {
        return "ctr_" + std::to_string(index - 2 * levels);
    }
    if (index == 3 * levels)
    {
        return "image_info";
    }
    return "input #" + std::to_string(index);
}

bool shapeFromInputDims(Params const& params, Dims const* const* dims, int32_t nbInputs, bool allowUnknown,
                        Shape& shape, std::string& error)
{
    int32_t const levels = params.num_levels;
    if (nbInputs != 3 * levels + 1)
    {
        std::ostringstream os;
        os << "expected " << 3 * levels + 1 << " inputs (cls, reg, ctr for " << levels
           << " levels, then image_info), got " << nbInputs;
        error = os.str();
        return false;
    }
    // Ranks and extents.
    for (int32_t i = 0; i < nbInputs; ++i)
    {
        Dims const& d = *dims[i];
        int32_t const rank = i == 3 * levels ? 2 : 4;
        if (d.nbDims != rank)
        {
            error = inputName(params, i) + " has shape " + dimsToString(d) + "; expected rank "
                + std::to_string(rank);
            return false;
        }
        for (int32_t k = 0; k < rank; ++k)
        {
            int64_t const v = d.d[k];
            bool const ok = (allowUnknown && v == kUnknown) || (v >= 0 && v <= INT_MAX);
            if (!ok)
            {
                error = inputName(params, i) + " has invalid shape " + dimsToString(d);
                return false;
            }
        }
    }
    Dims const& cls0 = *dims[0];
    int64_t const batch = cls0.d[0];
    int64_t const classes = cls0.d[1];
    Shape s{};
    s.batch = static_cast<int>(batch);
    s.num_classes = static_cast<int>(classes);
    s.num_levels = levels;
    for (int32_t l = 0; l < levels; ++l)
    {
        Dims const& cls = *dims[l];
        Dims const& reg = *dims[levels + l];
        Dims const& ctr = *dims[2 * levels + l];
        Dims const* const group[3] = {&cls, &reg, &ctr};
        int64_t const channels[3] = {classes, 4, 1};
        for (int32_t g = 0; g < 3; ++g)
        {
            Dims const& d = *group[g];
            int32_t const index = g * levels + l;
            char const* what = nullptr;
            if (conflict(d.d[0], batch))
            {
                what = "batch differs from cls_0's";
            }
            else if (conflict(d.d[1], channels[g]))
            {
                what = g == 0 ? "class count differs from cls_0's" : (g == 1 ? "channels must be 4" : "channels must be 1");
            }
            else if (conflict(d.d[2], cls.d[2]) || conflict(d.d[3], cls.d[3]))
            {
                what = "spatial size differs from its level's cls tensor";
            }
            if (what != nullptr)
            {
                error = inputName(params, index) + " has shape " + dimsToString(d) + ": " + what + " ("
                    + inputName(params, l) + " " + dimsToString(cls) + ")";
                return false;
            }
        }
        s.heights[l] = static_cast<int>(cls.d[2]);
        s.widths[l] = static_cast<int>(cls.d[3]);
    }
    Dims const& info = *dims[3 * levels];
    if (conflict(info.d[0], batch) || conflict(info.d[1], 4))
    {
        error = "image_info has shape " + dimsToString(info) + "; expected [N,4] with N = " + std::to_string(batch)
            + " (cls_0's batch)";
        return false;
    }
    shape = s;
    return true;
}

// ---------------------------------------------------------------------------------------------------------------

FcosDetectPlugin::FcosDetectPlugin(std::string layerName, Params const& params)
    : mLayerName(std::move(layerName))
    , mParams(params)
{
}

FcosDetectPlugin::FcosDetectPlugin(FcosDetectPlugin const& other)
    : nvinfer1::IPluginV3()
    , nvinfer1::IPluginV3OneCore()
    , nvinfer1::IPluginV3OneBuild()
    , nvinfer1::IPluginV3OneRuntime()
    , mLayerName(other.mLayerName)
    , mParams(other.mParams)
{
    // mSerialized is rebuilt on demand; its pointers must not alias the other object's storage.
}

void FcosDetectPlugin::error(std::string const& message) const noexcept
{
    try
    {
        logError(std::string(kPluginNamespace) + "::" + kPluginName + " layer '" + mLayerName + "': " + message);
    }
    catch (...)
    {
    }
}

bool FcosDetectPlugin::checkCounts(int32_t nbInputs, int32_t nbOutputs, char const* where) const noexcept
{
    if (nbInputs == expectedInputs() && nbOutputs == kNbOutputs)
    {
        return true;
    }
    try
    {
        std::ostringstream os;
        os << where << ": expected " << expectedInputs() << " inputs (cls, reg, ctr for " << mParams.num_levels
           << " levels, then image_info) and " << kNbOutputs << " outputs, got " << nbInputs << " and "
           << nbOutputs;
        error(os.str());
    }
    catch (...)
    {
    }
    return false;
}

bool FcosDetectPlugin::checkOutputDims(Dims const* const* dims, int32_t batch, bool allowUnknown,
                                       std::string& message) const
{
    static char const* const names[kNbOutputs] = {"num_detections", "boxes", "scores", "classes"};
    int64_t const k = mParams.max_detections;
    for (int32_t o = 0; o < kNbOutputs; ++o)
    {
        Dims const& d = *dims[o];
        Dims expected{};
        expected.nbDims = o == kOutNumDetections ? 1 : (o == kOutBoxes ? 3 : 2);
        expected.d[0] = batch;
        expected.d[1] = k;
        expected.d[2] = 4;
        bool ok = d.nbDims == expected.nbDims;
        for (int32_t i = 0; ok && i < d.nbDims; ++i)
        {
            bool const unknownOk = allowUnknown && d.d[i] == kUnknown;
            ok = unknownOk || (!known(expected.d[i]) ? d.d[i] >= 0 : d.d[i] == expected.d[i]);
        }
        if (!ok)
        {
            message = std::string("output ") + names[o] + " has shape " + dimsToString(d) + "; expected "
                + dimsToString(expected) + " (K = max_detections)";
            return false;
        }
    }
    return true;
}

nvinfer1::IPluginCapability* FcosDetectPlugin::getCapabilityInterface(nvinfer1::PluginCapabilityType type) noexcept
{
    switch (type)
    {
    case nvinfer1::PluginCapabilityType::kCORE: return static_cast<nvinfer1::IPluginV3OneCore*>(this);
    case nvinfer1::PluginCapabilityType::kBUILD: return static_cast<nvinfer1::IPluginV3OneBuild*>(this);
    case nvinfer1::PluginCapabilityType::kRUNTIME: return static_cast<nvinfer1::IPluginV3OneRuntime*>(this);
    }
    return nullptr;
}

nvinfer1::IPluginV3* FcosDetectPlugin::clone() noexcept
{
    try
    {
        return new FcosDetectPlugin(*this);
    }
    catch (std::exception const& e)
    {
        error(std::string("clone failed: ") + e.what());
    }
    catch (...)
    {
        error("clone failed");
    }
    return nullptr;
}

char const* FcosDetectPlugin::getPluginName() const noexcept
{
    return kPluginName;
}

char const* FcosDetectPlugin::getPluginVersion() const noexcept
{
    return kPluginVersion;
}

char const* FcosDetectPlugin::getPluginNamespace() const noexcept
{
    return kPluginNamespace;
}

int32_t FcosDetectPlugin::getNbOutputs() const noexcept
{
    return kNbOutputs;
}

int32_t FcosDetectPlugin::getOutputDataTypes(DataType* outputTypes, int32_t nbOutputs, DataType const* inputTypes,
                                             int32_t nbInputs) const noexcept
{
    if (!checkCounts(nbInputs, nbOutputs, "getOutputDataTypes") || outputTypes == nullptr || inputTypes == nullptr)
    {
        return -1;
    }
    int32_t const heads = 3 * mParams.num_levels;
    for (int32_t i = 0; i < heads; ++i)
    {
        if ((inputTypes[i] != DataType::kFLOAT && inputTypes[i] != DataType::kHALF) || inputTypes[i] != inputTypes[0])
        {
            try
            {
                error("getOutputDataTypes: " + inputName(mParams, i) + " is " + typeName(inputTypes[i])
                      + "; all head tensors must be float32, or all float16");
            }
            catch (...)
            {
            }
            return -1;
        }
    }
    if (inputTypes[heads] != DataType::kFLOAT)
    {
        error(std::string("getOutputDataTypes: image_info is ") + typeName(inputTypes[heads]) + "; expected float32");
        return -1;
    }
    outputTypes[kOutNumDetections] = DataType::kINT32;
    outputTypes[kOutBoxes] = DataType::kFLOAT;
    outputTypes[kOutScores] = DataType::kFLOAT;
    outputTypes[kOutClasses] = DataType::kINT32;
    return 0;
}

int32_t FcosDetectPlugin::getOutputShapes(nvinfer1::DimsExprs const* inputs, int32_t nbInputs,
                                          nvinfer1::DimsExprs const* /*shapeInputs*/, int32_t /*nbShapeInputs*/,
                                          nvinfer1::DimsExprs* outputs, int32_t nbOutputs,
                                          nvinfer1::IExprBuilder& exprBuilder) noexcept
{
    if (!checkCounts(nbInputs, nbOutputs, "getOutputShapes") || inputs == nullptr || outputs == nullptr)
    {
        return -1;
    }
    if (inputs[0].nbDims != 4 || inputs[0].d[0] == nullptr)
    {
        error("getOutputShapes: cls_0 must have rank 4 [N,C,H,W]");
        return -1;
    }
    nvinfer1::IDimensionExpr const* const batch = inputs[0].d[0];
    nvinfer1::IDimensionExpr const* const k = exprBuilder.constant(mParams.max_detections);
    nvinfer1::IDimensionExpr const* const four = exprBuilder.constant(4);
    if (k == nullptr || four == nullptr)
    {
        error("getOutputShapes: the expression builder returned no constant");
        return -1;
    }
    outputs[kOutNumDetections].nbDims = 1;
    outputs[kOutNumDetections].d[0] = batch;
    outputs[kOutBoxes].nbDims = 3;
    outputs[kOutBoxes].d[0] = batch;
    outputs[kOutBoxes].d[1] = k;
    outputs[kOutBoxes].d[2] = four;
    outputs[kOutScores].nbDims = 2;
    outputs[kOutScores].d[0] = batch;
    outputs[kOutScores].d[1] = k;
    outputs[kOutClasses].nbDims = 2;
    outputs[kOutClasses].d[0] = batch;
    outputs[kOutClasses].d[1] = k;
    return 0;
}

bool FcosDetectPlugin::supportsFormatCombination(int32_t pos, DynamicPluginTensorDesc const* inOut,
                                                 int32_t nbInputs, int32_t nbOutputs) noexcept
{
    if (nbInputs != expectedInputs() || nbOutputs != kNbOutputs || inOut == nullptr || pos < 0
        || pos >= nbInputs + nbOutputs)
    {
        return false;
    }
    PluginTensorDesc const& d = inOut[pos].desc;
    if (d.format != TensorFormat::kLINEAR)
    {
        return false;
    }
    int32_t const heads = 3 * mParams.num_levels;
    if (pos < heads)
    {
        // TensorRT asks position by position; later heads must agree with what was chosen for cls_0.
        bool const floating = d.type == DataType::kFLOAT || d.type == DataType::kHALF;
        return floating && (pos == 0 || d.type == inOut[0].desc.type);
    }
    if (pos == heads)
    {
        return d.type == DataType::kFLOAT;
    }
    switch (pos - nbInputs)
    {
    case kOutNumDetections:
    case kOutClasses: return d.type == DataType::kINT32;
    case kOutBoxes:
    case kOutScores: return d.type == DataType::kFLOAT;
    default: return false;
    }
}

int32_t FcosDetectPlugin::configurePlugin(DynamicPluginTensorDesc const* in, int32_t nbInputs,
                                          DynamicPluginTensorDesc const* out, int32_t nbOutputs) noexcept
{
    try
    {
        if (!checkCounts(nbInputs, nbOutputs, "configurePlugin") || in == nullptr || out == nullptr)
        {
            return -1;
        }
        std::vector<Dims const*> dims(static_cast<size_t>(nbInputs));
        for (int32_t i = 0; i < nbInputs; ++i)
        {
            dims[static_cast<size_t>(i)] = &in[i].desc.dims;
        }
        Shape shape{};
        std::string message;
        if (!shapeFromInputDims(mParams, dims.data(), nbInputs, true, shape, message))
        {
            error("configurePlugin: " + message);
            return -1;
        }
        // Ranges of every dimension TensorRT may choose (the profile's max) must be feasible.
        for (int32_t i = 0; i < nbInputs; ++i)
        {
            dims[static_cast<size_t>(i)] = &in[i].max;
        }
        Shape maxShape{};
        if (!shapeFromInputDims(mParams, dims.data(), nbInputs, true, maxShape, message))
        {
            error("configurePlugin (profile max): " + message);
            return -1;
        }
        Dims const* outDims[kNbOutputs];
        for (int32_t o = 0; o < kNbOutputs; ++o)
        {
            outDims[o] = &out[o].desc.dims;
        }
        if (!checkOutputDims(outDims, static_cast<int32_t>(in[0].desc.dims.d[0]), true, message))
        {
            error("configurePlugin: " + message);
            return -1;
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        error(std::string("configurePlugin: ") + e.what());
    }
    catch (...)
    {
        error("configurePlugin: unknown error");
    }
    return -1;
}

size_t FcosDetectPlugin::getWorkspaceSize(DynamicPluginTensorDesc const* inputs, int32_t nbInputs,
                                          DynamicPluginTensorDesc const* /*outputs*/,
                                          int32_t nbOutputs) const noexcept
{
    try
    {
        if (!checkCounts(nbInputs, nbOutputs, "getWorkspaceSize") || inputs == nullptr)
        {
            return 0;
        }
        std::vector<Dims const*> dims(static_cast<size_t>(nbInputs));
        for (int32_t i = 0; i < nbInputs; ++i)
        {
            dims[static_cast<size_t>(i)] = &inputs[i].max;
        }
        Shape maxShape{};
        std::string message;
        if (!shapeFromInputDims(mParams, dims.data(), nbInputs, false, maxShape, message))
        {
            error("getWorkspaceSize (profile max): " + message);
            return 0;
        }
        if (maxShape.batch == 0)
        {
            return 0;
        }
        Status const st = validate(mParams, maxShape);
        if (st.code != kOk)
        {
            error(std::string("getWorkspaceSize (profile max): ") + st.message);
            return 0;
        }
        return workspaceSize(mParams, maxShape);
    }
    catch (...)
    {
        error("getWorkspaceSize: unknown error");
    }
    return 0;
}

int32_t FcosDetectPlugin::onShapeChange(PluginTensorDesc const* in, int32_t nbInputs, PluginTensorDesc const* out,
                                        int32_t nbOutputs) noexcept
{
    try
    {
        if (!checkCounts(nbInputs, nbOutputs, "onShapeChange") || in == nullptr || out == nullptr)
        {
            return -1;
        }
        std::vector<Dims const*> dims(static_cast<size_t>(nbInputs));
        for (int32_t i = 0; i < nbInputs; ++i)
        {
            dims[static_cast<size_t>(i)] = &in[i].dims;
        }
        Shape shape{};
        std::string message;
        if (!shapeFromInputDims(mParams, dims.data(), nbInputs, false, shape, message))
        {
            error("onShapeChange: " + message);
            return -1;
        }
        Dims const* outDims[kNbOutputs];
        for (int32_t o = 0; o < kNbOutputs; ++o)
        {
            outDims[o] = &out[o].dims;
        }
        if (!checkOutputDims(outDims, shape.batch, false, message))
        {
            error("onShapeChange: " + message);
            return -1;
        }
        if (shape.batch > 0)
        {
            Status const st = validate(mParams, shape);
            if (st.code != kOk)
            {
                error(std::string("onShapeChange: ") + st.message);
                return -1;
            }
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        error(std::string("onShapeChange: ") + e.what());
    }
    catch (...)
    {
        error("onShapeChange: unknown error");
    }
    return -1;
}

int32_t FcosDetectPlugin::enqueue(PluginTensorDesc const* inputDesc, PluginTensorDesc const* outputDesc,
                                  void const* const* inputs, void* const* outputs, void* workspace,
                                  cudaStream_t stream) noexcept
{
    try
    {
        if (inputDesc == nullptr || outputDesc == nullptr || inputs == nullptr || outputs == nullptr)
        {
            error("enqueue: null descriptor or pointer array");
            return -1;
        }
        int32_t const nbInputs = expectedInputs();
        // The shape is re-derived from the descriptors on every call: cheap, and independent of whether
        // onShapeChange ran on this very instance.
        Dims const* dims[3 * kMaxLevels + 1];
        for (int32_t i = 0; i < nbInputs; ++i)
        {
            dims[i] = &inputDesc[i].dims;
        }
        Shape shape{};
        std::string message;
        if (!shapeFromInputDims(mParams, dims, nbInputs, false, shape, message))
        {
            error("enqueue: " + message);
            return -1;
        }
        if (shape.batch == 0)
        {
            return 0;  // empty batch: nothing to write
        }
        void const* cls[kMaxLevels];
        void const* reg[kMaxLevels];
        void const* ctr[kMaxLevels];
        int32_t const levels = mParams.num_levels;
        for (int32_t l = 0; l < levels; ++l)
        {
            cls[l] = inputs[l];
            reg[l] = inputs[levels + l];
            ctr[l] = inputs[2 * levels + l];
        }
        size_t const bytes = workspaceSize(mParams, shape);
        Status const st = fcos4j::enqueue(mParams, shape, engineType(inputDesc[0].type), cls, reg, ctr,
                                          static_cast<float const*>(inputs[3 * levels]),
                                          static_cast<int32_t*>(outputs[kOutNumDetections]),
                                          static_cast<float*>(outputs[kOutBoxes]),
                                          static_cast<float*>(outputs[kOutScores]),
                                          static_cast<int32_t*>(outputs[kOutClasses]), workspace, bytes, stream);
        if (st.code != kOk)
        {
            error(std::string("enqueue: ") + st.message);
            return -1;
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        error(std::string("enqueue: ") + e.what());
    }
    catch (...)
    {
        error("enqueue: unknown error");
    }
    return -1;
}

nvinfer1::IPluginV3* FcosDetectPlugin::attachToContext(nvinfer1::IPluginResourceContext* /*context*/) noexcept
{
    // No per-context resources: each execution context gets its own copy of the parameters.
    return clone();
}

nvinfer1::PluginFieldCollection const* FcosDetectPlugin::getFieldsToSerialize() noexcept
{
    try
    {
        return mSerialized.fill(mParams);
    }
    catch (...)
    {
        error("getFieldsToSerialize: out of memory");
    }
    return nullptr;
}

// ---------------------------------------------------------------------------------------------------------------

FcosDetectCreator::FcosDetectCreator()
{
    using nvinfer1::PluginField;
    using nvinfer1::PluginFieldType;
    mFields[0] = PluginField(kFieldConvention, nullptr, PluginFieldType::kINT32, 1);
    mFields[1] = PluginField(kFieldScoreThreshold, nullptr, PluginFieldType::kFLOAT32, 1);
    mFields[2] = PluginField(kFieldNmsPre, nullptr, PluginFieldType::kINT32, 1);
    mFields[3] = PluginField(kFieldIouThreshold, nullptr, PluginFieldType::kFLOAT32, 1);
    mFields[4] = PluginField(kFieldMaxDetections, nullptr, PluginFieldType::kINT32, 1);
    mFields[5] = PluginField(kFieldStrides, nullptr, PluginFieldType::kINT32, 5);
    mFieldNames.nbFields = 6;
    mFieldNames.fields = mFields;
}

nvinfer1::IPluginV3* FcosDetectCreator::createPlugin(char const* name, nvinfer1::PluginFieldCollection const* fc,
                                                     nvinfer1::TensorRTPhase /*phase*/) noexcept
{
    // Both phases take the same fields: at kRUNTIME they are what getFieldsToSerialize() produced.
    std::string layer;
    try
    {
        layer = name != nullptr ? name : "";
        Params params{};
        std::string message;
        std::vector<std::string> warnings;
        if (!parseFields(fc, params, message, warnings))
        {
            logError(std::string(kPluginNamespace) + "::" + kPluginName + " layer '" + layer + "': " + message);
            return nullptr;
        }
        for (std::string const& w : warnings)
        {
            logWarning(std::string(kPluginNamespace) + "::" + kPluginName + " layer '" + layer + "': " + w);
        }
        return new FcosDetectPlugin(layer, params);
    }
    catch (std::exception const& e)
    {
        logError(std::string(kPluginNamespace) + "::" + kPluginName + " layer '" + layer
                 + "': createPlugin failed: " + e.what());
    }
    catch (...)
    {
        logError(std::string(kPluginNamespace) + "::" + kPluginName + ": createPlugin failed");
    }
    return nullptr;
}

nvinfer1::PluginFieldCollection const* FcosDetectCreator::getFieldNames() noexcept
{
    return &mFieldNames;
}

char const* FcosDetectCreator::getPluginName() const noexcept
{
    return kPluginName;
}

char const* FcosDetectCreator::getPluginVersion() const noexcept
{
    return kPluginVersion;
}

char const* FcosDetectCreator::getPluginNamespace() const noexcept
{
    return kPluginNamespace;
}

} // namespace plugin
} // namespace fcos4j

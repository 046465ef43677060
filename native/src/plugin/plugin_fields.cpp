#include "plugin/plugin_fields.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace fcos4j {
namespace plugin {

namespace {

using nvinfer1::PluginField;
using nvinfer1::PluginFieldType;

char const* typeName(PluginFieldType type)
{
    switch (type)
    {
    case PluginFieldType::kFLOAT16: return "float16";
    case PluginFieldType::kFLOAT32: return "float32";
    case PluginFieldType::kFLOAT64: return "float64";
    case PluginFieldType::kINT8: return "int8";
    case PluginFieldType::kINT16: return "int16";
    case PluginFieldType::kINT32: return "int32";
    case PluginFieldType::kCHAR: return "char";
    case PluginFieldType::kDIMS: return "dims";
    case PluginFieldType::kUNKNOWN: return "unknown";
    case PluginFieldType::kBF16: return "bfloat16";
    case PluginFieldType::kINT64: return "int64";
    case PluginFieldType::kFP8: return "fp8";
    case PluginFieldType::kINT4: return "int4";
    case PluginFieldType::kFP4: return "fp4";
    }
    return "invalid";
}

// IEEE binary16 bits -> float (exact: every half is representable as a float).
float halfBitsToFloat(uint16_t h)
{
    uint32_t const sign = static_cast<uint32_t>(h & 0x8000U) << 16;
    uint32_t const exponent = (h >> 10) & 0x1FU;
    uint32_t mantissa = h & 0x3FFU;
    uint32_t bits = 0;
    if (exponent == 0x1FU)
    {
        bits = sign | 0x7F800000U | (mantissa << 13);
    }
    else if (exponent != 0)
    {
        bits = sign | ((exponent + 112U) << 23) | (mantissa << 13);
    }
    else if (mantissa != 0)
    {
        // Subnormal half: normalise into a float exponent.
        int32_t e = -1;
        do
        {
            ++e;
            mantissa <<= 1;
        } while ((mantissa & 0x400U) == 0);
        bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mantissa & 0x3FFU) << 13);
    }
    else
    {
        bits = sign;
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

std::string describe(PluginField const& field)
{
    std::ostringstream os;
    os << "field '" << field.name << "' (type " << typeName(field.type) << ", length " << field.length << ")";
    return os.str();
}

bool readScalarDouble(PluginField const& field, double& out, std::string& error)
{
    if (field.length != 1)
    {
        error = describe(field) + ": expected exactly one value";
        return false;
    }
    switch (field.type)
    {
    case PluginFieldType::kFLOAT32: out = *static_cast<float const*>(field.data); return true;
    case PluginFieldType::kFLOAT64: out = *static_cast<double const*>(field.data); return true;
    case PluginFieldType::kFLOAT16:
    {
        uint16_t bits;
        std::memcpy(&bits, field.data, sizeof bits);
        out = halfBitsToFloat(bits);
        return true;
    }
    default: error = describe(field) + ": expected a float32, float64 or float16 value"; return false;
    }
}

bool readIntArray(PluginField const& field, std::vector<int64_t>& out, std::string& error)
{
    out.clear();
    if (field.length < 1)
    {
        error = describe(field) + ": empty";
        return false;
    }
    for (int32_t i = 0; i < field.length; ++i)
    {
        switch (field.type)
        {
        case PluginFieldType::kINT32: out.push_back(static_cast<int32_t const*>(field.data)[i]); break;
        case PluginFieldType::kINT64: out.push_back(static_cast<int64_t const*>(field.data)[i]); break;
        case PluginFieldType::kINT16: out.push_back(static_cast<int16_t const*>(field.data)[i]); break;
        case PluginFieldType::kINT8: out.push_back(static_cast<int8_t const*>(field.data)[i]); break;
        default: error = describe(field) + ": expected int32 or int64 values"; return false;
        }
    }
    return true;
}

bool readScalarInt(PluginField const& field, int& out, int lo, int hi, std::string& error)
{
    std::vector<int64_t> values;
    if (!readIntArray(field, values, error))
    {
        return false;
    }
    if (values.size() != 1)
    {
        error = describe(field) + ": expected exactly one value";
        return false;
    }
    if (values[0] < lo || values[0] > hi)
    {
        std::ostringstream os;
        os << describe(field) << ": value " << values[0] << " outside [" << lo << ", " << hi << "]";
        error = os.str();
        return false;
    }
    out = static_cast<int>(values[0]);
    return true;
}

bool parseConventionName(std::string name, Convention& out)
{
    for (char& c : name)
    {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (name == "mmdet")
    {
        out = Convention::kMmdet;
    }
    else if (name == "fcos")
    {
        out = Convention::kFcos;
    }
    else if (name == "torchvision")
    {
        out = Convention::kTorchvision;
    }
    else
    {
        return false;
    }
    return true;
}

bool readConvention(PluginField const& field, Convention& out, std::string& error)
{
    if (field.type == PluginFieldType::kCHAR)
    {
        // Length-bounded; a terminating NUL inside the length is allowed (both spellings occur).
        char const* chars = static_cast<char const*>(field.data);
        size_t n = 0;
        while (n < static_cast<size_t>(field.length) && chars[n] != '\0')
        {
            ++n;
        }
        std::string const name(chars, n);
        if (!parseConventionName(name, out))
        {
            error = describe(field) + ": unknown convention '" + name + "' (expected mmdet, fcos or torchvision)";
            return false;
        }
        return true;
    }
    int value = 0;
    if (!readScalarInt(field, value, 0, 2, error))
    {
        if (error.find("expected int32") != std::string::npos)
        {
            error = describe(field) + ": expected an int32 (0 mmdet, 1 fcos, 2 torchvision) or a name";
        }
        return false;
    }
    out = static_cast<Convention>(value);
    return true;
}

} // namespace

Params defaultParams(Convention convention)
{
    Params p{};
    p.convention = convention;
    p.nms_pre = 1000;
    p.max_detections = 100;
    switch (convention)
    {
    case Convention::kMmdet:
        p.score_threshold = 0.05F;
        p.iou_threshold = 0.5F;
        break;
    case Convention::kFcos:
        p.score_threshold = 0.05F;
        p.iou_threshold = 0.6F;
        break;
    case Convention::kTorchvision:
        p.score_threshold = 0.2F;
        p.iou_threshold = 0.6F;
        break;
    }
    p.num_levels = 5;
    int const strides[5] = {8, 16, 32, 64, 128};
    for (int l = 0; l < 5; ++l)
    {
        p.strides[l] = strides[l];
    }
    return p;
}

char const* conventionName(Convention convention)
{
    switch (convention)
    {
    case Convention::kMmdet: return "mmdet";
    case Convention::kFcos: return "fcos";
    case Convention::kTorchvision: return "torchvision";
    }
    return "invalid";
}

bool checkParams(Params const& p, std::string& error)
{
    std::ostringstream os;
    int const c = static_cast<int>(p.convention);
    if (c < 0 || c > 2)
    {
        os << "convention " << c << " is not 0 (mmdet), 1 (fcos) or 2 (torchvision)";
    }
    else if (!std::isfinite(p.score_threshold) || p.score_threshold < 0.F || p.score_threshold >= 1.F)
    {
        os << kFieldScoreThreshold << " " << p.score_threshold << " is not in [0, 1)";
    }
    else if (!std::isfinite(p.iou_threshold) || p.iou_threshold < 0.F || p.iou_threshold > 1.F)
    {
        os << kFieldIouThreshold << " " << p.iou_threshold << " is not in [0, 1]";
    }
    else if (p.nms_pre < 1 || p.nms_pre > kMaxNmsPre)
    {
        os << kFieldNmsPre << " " << p.nms_pre << " is not in [1, " << kMaxNmsPre << "]";
    }
    else if (p.max_detections < 1 || p.max_detections > kMaxDetectionsLimit)
    {
        os << kFieldMaxDetections << " " << p.max_detections << " is not in [1, " << kMaxDetectionsLimit << "]";
    }
    else if (p.num_levels < 1 || p.num_levels > kMaxLevels)
    {
        os << kFieldStrides << " has " << p.num_levels << " entries; expected 1.." << kMaxLevels;
    }
    else
    {
        for (int l = 0; l < p.num_levels; ++l)
        {
            if (p.strides[l] < 1 || p.strides[l] > 4096)
            {
                os << kFieldStrides << "[" << l << "] = " << p.strides[l] << " is not in [1, 4096]";
                break;
            }
        }
    }
    error = os.str();
    return error.empty();
}

bool parseFields(nvinfer1::PluginFieldCollection const* fc, Params& out, std::string& error,
                 std::vector<std::string>& warnings)
{
    error.clear();
    if (fc != nullptr && fc->nbFields > 0 && fc->fields == nullptr)
    {
        error = "field collection has fields == nullptr";
        return false;
    }
    int const n = fc == nullptr ? 0 : fc->nbFields;

    // The convention decides the defaults of the other fields, so find it first.
    Convention convention = Convention::kMmdet;
    int seen[6] = {0, 0, 0, 0, 0, 0};
    char const* const names[6] = {kFieldConvention, kFieldScoreThreshold, kFieldNmsPre, kFieldIouThreshold,
                                  kFieldMaxDetections, kFieldStrides};
    for (int i = 0; i < n; ++i)
    {
        PluginField const& f = fc->fields[i];
        if (f.name == nullptr)
        {
            error = "field #" + std::to_string(i) + " has no name";
            return false;
        }
        int which = -1;
        for (int k = 0; k < 6; ++k)
        {
            if (std::strcmp(f.name, names[k]) == 0)
            {
                which = k;
            }
        }
        if (which < 0)
        {
            warnings.push_back(std::string("ignoring unknown field '") + f.name + "'");
            continue;
        }
        if (++seen[which] > 1)
        {
            error = std::string("field '") + f.name + "' given more than once";
            return false;
        }
        if (f.length > 0 && f.data == nullptr)
        {
            error = describe(f) + ": data == nullptr";
            return false;
        }
        if (f.length < 1)
        {
            error = describe(f) + ": no value";
            return false;
        }
        if (which == 0 && !readConvention(f, convention, error))
        {
            return false;
        }
    }

    Params p = defaultParams(convention);
    for (int i = 0; i < n; ++i)
    {
        PluginField const& f = fc->fields[i];
        double d = 0.0;
        if (std::strcmp(f.name, kFieldScoreThreshold) == 0 || std::strcmp(f.name, kFieldIouThreshold) == 0)
        {
            if (!readScalarDouble(f, d, error))
            {
                return false;
            }
            float const v = static_cast<float>(d);
            (std::strcmp(f.name, kFieldScoreThreshold) == 0 ? p.score_threshold : p.iou_threshold) = v;
        }
        else if (std::strcmp(f.name, kFieldNmsPre) == 0)
        {
            if (!readScalarInt(f, p.nms_pre, 1, kMaxNmsPre, error))
            {
                return false;
            }
        }
        else if (std::strcmp(f.name, kFieldMaxDetections) == 0)
        {
            if (!readScalarInt(f, p.max_detections, 1, kMaxDetectionsLimit, error))
            {
                return false;
            }
        }
        else if (std::strcmp(f.name, kFieldStrides) == 0)
        {
            std::vector<int64_t> values;
            if (!readIntArray(f, values, error))
            {
                return false;
            }
            if (values.size() > static_cast<size_t>(kMaxLevels))
            {
                error = describe(f) + ": more than " + std::to_string(kMaxLevels) + " levels";
                return false;
            }
            p.num_levels = static_cast<int>(values.size());
            for (int l = 0; l < kMaxLevels; ++l)
            {
                int64_t const s = l < p.num_levels ? values[static_cast<size_t>(l)] : 0;
                if (l < p.num_levels && (s < 1 || s > 4096))
                {
                    error = describe(f) + ": stride " + std::to_string(s) + " at index " + std::to_string(l)
                        + " is not in [1, 4096]";
                    return false;
                }
                p.strides[l] = static_cast<int>(s);
            }
        }
    }
    if (!checkParams(p, error))
    {
        return false;
    }
    out = p;
    return true;
}

nvinfer1::PluginFieldCollection const* SerializedFields::fill(Params const& params)
{
    using nvinfer1::PluginFieldType;
    mConvention = static_cast<int32_t>(params.convention);
    mScoreThreshold = params.score_threshold;
    mNmsPre = params.nms_pre;
    mIouThreshold = params.iou_threshold;
    mMaxDetections = params.max_detections;
    for (int l = 0; l < kMaxLevels; ++l)
    {
        mStrides[l] = l < params.num_levels ? params.strides[l] : 0;
    }
    mFields.clear();
    mFields.emplace_back(kFieldConvention, &mConvention, PluginFieldType::kINT32, 1);
    mFields.emplace_back(kFieldScoreThreshold, &mScoreThreshold, PluginFieldType::kFLOAT32, 1);
    mFields.emplace_back(kFieldNmsPre, &mNmsPre, PluginFieldType::kINT32, 1);
    mFields.emplace_back(kFieldIouThreshold, &mIouThreshold, PluginFieldType::kFLOAT32, 1);
    mFields.emplace_back(kFieldMaxDetections, &mMaxDetections, PluginFieldType::kINT32, 1);
    mFields.emplace_back(kFieldStrides, mStrides, PluginFieldType::kINT32, params.num_levels);
    mCollection.nbFields = static_cast<int32_t>(mFields.size());
    mCollection.fields = mFields.data();
    return &mCollection;
}

} // namespace plugin
} // namespace fcos4j

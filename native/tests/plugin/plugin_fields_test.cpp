// Unit test of the FcosDetect field parsing: accepted encodings (as ONNX parsers and engine files hand
// them over), defaults per convention, and the rejections with the field named in the message.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "plugin/plugin_fields.h"

namespace {

using fcos4j::Convention;
using fcos4j::Params;
using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;

int gFailures = 0;
int gChecks = 0;

#define CHECK(cond)                                                                 \
    do                                                                              \
    {                                                                               \
        ++gChecks;                                                                  \
        if (!(cond))                                                                \
        {                                                                           \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            ++gFailures;                                                            \
        }                                                                           \
    } while (0)

bool parse(std::vector<PluginField> const& fields, Params& out, std::string& error,
           std::vector<std::string>* warnings = nullptr)
{
    PluginFieldCollection const fc{static_cast<int32_t>(fields.size()), fields.data()};
    std::vector<std::string> w;
    bool const ok = fcos4j::plugin::parseFields(&fc, out, error, w);
    if (warnings != nullptr)
    {
        *warnings = w;
    }
    return ok;
}

// Expects a rejection whose message contains `needle`.
void rejects(std::vector<PluginField> const& fields, char const* needle)
{
    Params p{};
    std::string error;
    bool const ok = parse(fields, p, error);
    CHECK(!ok);
    if (!ok && error.find(needle) == std::string::npos)
    {
        std::fprintf(stderr, "  message '%s' lacks '%s'\n", error.c_str(), needle);
        ++gFailures;
    }
}

void defaults()
{
    Params p{};
    std::string error;
    std::vector<std::string> warnings;
    PluginFieldCollection const empty{0, nullptr};
    CHECK(fcos4j::plugin::parseFields(&empty, p, error, warnings));
    CHECK(p.convention == Convention::kMmdet && p.score_threshold == 0.05F && p.iou_threshold == 0.5F);
    CHECK(p.nms_pre == 1000 && p.max_detections == 100 && p.num_levels == 5);
    CHECK(p.strides[0] == 8 && p.strides[1] == 16 && p.strides[2] == 32 && p.strides[3] == 64 && p.strides[4] == 128);
    CHECK(fcos4j::plugin::parseFields(nullptr, p, error, warnings));
    CHECK(warnings.empty());

    // The convention sets the defaults of the other fields (COMMON.md), whatever the field order.
    float const score = 0.3F;
    char const fcos[] = "FCOS";
    CHECK(parse({{"score_threshold", &score, PluginFieldType::kFLOAT32, 1}, {"convention", fcos, PluginFieldType::kCHAR, 4}},
                p, error));
    CHECK(p.convention == Convention::kFcos && p.score_threshold == 0.3F && p.iou_threshold == 0.6F);
    int32_t const tv = 2;
    CHECK(parse({{"convention", &tv, PluginFieldType::kINT32, 1}}, p, error));
    CHECK(p.convention == Convention::kTorchvision && p.score_threshold == 0.2F && p.iou_threshold == 0.6F);
    CHECK(p.nms_pre == 1000 && p.max_detections == 100);
}

void encodings()
{
    Params p{};
    std::string error;
    // A name with its NUL counted in the length, int64 caps, float64 and float16 thresholds.
    char const mmdet[] = "mmdet";
    int64_t const nmsPre = 2000;
    int64_t const maxDet = 300;
    double const score = 0.125;
    uint16_t const iouHalf = 0x3800;  // 0.5 in IEEE half
    int64_t const strides[3] = {4, 8, 16};
    CHECK(parse({{"convention", mmdet, PluginFieldType::kCHAR, 6},
                 {"nms_pre", &nmsPre, PluginFieldType::kINT64, 1},
                 {"max_detections", &maxDet, PluginFieldType::kINT64, 1},
                 {"score_threshold", &score, PluginFieldType::kFLOAT64, 1},
                 {"iou_threshold", &iouHalf, PluginFieldType::kFLOAT16, 1},
                 {"strides", strides, PluginFieldType::kINT64, 3}},
                p, error));
    CHECK(p.convention == Convention::kMmdet && p.nms_pre == 2000 && p.max_detections == 300);
    CHECK(p.score_threshold == 0.125F && p.iou_threshold == 0.5F);
    CHECK(p.num_levels == 3 && p.strides[0] == 4 && p.strides[1] == 8 && p.strides[2] == 16 && p.strides[3] == 0);

    // Half subnormal: 0x0001 = 2^-24.
    uint16_t const tiny = 0x0001;
    CHECK(parse({{"score_threshold", &tiny, PluginFieldType::kFLOAT16, 1}}, p, error));
    CHECK(p.score_threshold == 5.9604644775390625e-08F);

    // Unknown names are ignored with a warning naming them.
    int32_t const x = 1;
    std::vector<std::string> warnings;
    CHECK(parse({{"plugin_version", &x, PluginFieldType::kINT32, 1}}, p, error, &warnings));
    CHECK(warnings.size() == 1 && warnings[0].find("plugin_version") != std::string::npos);
}

void serializationRoundTrip()
{
    Params p = fcos4j::plugin::defaultParams(Convention::kFcos);
    p.score_threshold = 0.0625F;
    p.nms_pre = 77;
    p.iou_threshold = 0.375F;
    p.max_detections = 9;
    p.num_levels = 2;
    p.strides[0] = 16;
    p.strides[1] = 32;
    fcos4j::plugin::SerializedFields s;
    PluginFieldCollection const* fc = s.fill(p);
    CHECK(fc != nullptr && fc->nbFields == 6);
    CHECK(fc->fields[5].length == 2);
    Params q{};
    std::string error;
    std::vector<std::string> warnings;
    CHECK(fcos4j::plugin::parseFields(fc, q, error, warnings));
    CHECK(q.convention == p.convention && q.score_threshold == p.score_threshold && q.nms_pre == p.nms_pre
          && q.iou_threshold == p.iou_threshold && q.max_detections == p.max_detections
          && q.num_levels == 2 && q.strides[0] == 16 && q.strides[1] == 32);
    CHECK(warnings.empty());
}

void rejections()
{
    char const bad[] = "retina";
    int32_t const three = 3;
    int32_t const zero = 0;
    int32_t const big = 20000;
    int32_t const two[2] = {1, 2};
    float const f = 0.5F;
    float const nan = std::strtof("nan", nullptr);
    float const one = 1.0F;
    double const negative = -0.1;
    int32_t const strides9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    int32_t const badStride[2] = {8, 0};
    rejects({{"convention", bad, PluginFieldType::kCHAR, 6}}, "retina");
    rejects({{"convention", &three, PluginFieldType::kINT32, 1}}, "convention");
    rejects({{"convention", &f, PluginFieldType::kFLOAT32, 1}}, "convention");
    rejects({{"nms_pre", &zero, PluginFieldType::kINT32, 1}}, "nms_pre");
    rejects({{"nms_pre", &big, PluginFieldType::kINT32, 1}}, "nms_pre");
    rejects({{"nms_pre", two, PluginFieldType::kINT32, 2}}, "exactly one");
    rejects({{"max_detections", &zero, PluginFieldType::kINT32, 1}}, "max_detections");
    rejects({{"max_detections", &f, PluginFieldType::kFLOAT32, 1}}, "max_detections");
    rejects({{"score_threshold", &nan, PluginFieldType::kFLOAT32, 1}}, "score_threshold");
    rejects({{"score_threshold", &one, PluginFieldType::kFLOAT32, 1}}, "score_threshold");
    rejects({{"score_threshold", &negative, PluginFieldType::kFLOAT64, 1}}, "score_threshold");
    rejects({{"score_threshold", &three, PluginFieldType::kINT32, 1}}, "score_threshold");
    rejects({{"iou_threshold", &nan, PluginFieldType::kFLOAT32, 1}}, "iou_threshold");
    rejects({{"strides", strides9, PluginFieldType::kINT32, 9}}, "strides");
    rejects({{"strides", badStride, PluginFieldType::kINT32, 2}}, "strides");
    rejects({{"strides", nullptr, PluginFieldType::kINT32, 0}}, "strides");
    rejects({{"nms_pre", nullptr, PluginFieldType::kINT32, 1}}, "nullptr");
    rejects({{"nms_pre", &three, PluginFieldType::kINT32, 1}, {"nms_pre", &three, PluginFieldType::kINT32, 1}},
            "more than once");
    rejects({{nullptr, &three, PluginFieldType::kINT32, 1}}, "no name");
}

} // namespace

int main()
{
    defaults();
    encodings();
    serializationRoundTrip();
    rejections();
    if (gFailures != 0)
    {
        std::fprintf(stderr, "%d failure(s) in %d checks\n", gFailures, gChecks);
        return 1;
    }
    std::printf("PASS (%d checks)\n", gChecks);
    return 0;
}

// The FcosDetect node that engines/export/embed_detect.py writes, seen the way TensorRT's ONNX parser hands it
// to our creator. The parser (onnx-tensorrt, FallbackPluginImporter) finds the creator by op type +
// plugin_version + plugin_namespace, then walks the creator's getFieldNames() and passes every attribute of
// that name, typed by its ONNX attribute type: INT -> kINT32 x1, FLOAT -> kFLOAT32 x1, STRING -> kCHAR with a
// terminating NUL (length includes it), INTS -> kINT32 xn. An attribute the creator does not list is dropped
// silently, so this test fails when the exporter writes a name the plugin does not know, and when the values
// the plugin ends up with differ from the attributes.
//
// Input: a directory of *.fields files written by `engines/export/test_embed_detect.py --write-fields DIR`:
// "@op OP_TYPE", then "NAME ONNX_TYPE VALUE..." per attribute.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "plugin/fcos_detect_plugin.h"
#include "plugin/plugin_fields.h"

namespace {

using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;

int gFailures = 0;

void fail(std::string const& file, std::string const& what)
{
    std::fprintf(stderr, "FAIL %s: %s\n", file.c_str(), what.c_str());
    ++gFailures;
}

struct Attribute {
    std::string type;                 // ONNX attribute type name: INT, FLOAT, STRING, INTS
    std::vector<std::string> values;  // as written
};

struct Node {
    std::string opType;
    std::map<std::string, Attribute> attributes;
};

bool readNode(std::string const& path, Node& node)
{
    std::ifstream in(path);
    if (!in)
    {
        fail(path, "cannot open");
        return false;
    }
    std::string line;
    while (std::getline(in, line))
    {
        std::istringstream words(line);
        std::string name;
        words >> name;
        if (name.empty())
        {
            continue;
        }
        if (name == "@op")
        {
            words >> node.opType;
            continue;
        }
        Attribute a;
        words >> a.type;
        for (std::string v; words >> v;)
        {
            a.values.push_back(v);
        }
        node.attributes[name] = a;
    }
    return true;
}

// Storage for the field data, alive while the collection is used.
struct FieldData {
    std::vector<std::vector<uint8_t>> bytes;
};

// onnx-tensorrt's conversion of one attribute into a PluginField.
bool toField(std::string const& file, char const* name, Attribute const& a, FieldData& data, PluginField& out)
{
    std::vector<uint8_t> b;
    PluginFieldType type{};
    int32_t length = 0;
    if (a.type == "INT" && a.values.size() == 1)
    {
        int32_t const v = static_cast<int32_t>(std::stoll(a.values[0]));
        b.resize(sizeof v);
        std::memcpy(b.data(), &v, sizeof v);
        type = PluginFieldType::kINT32;
        length = 1;
    }
    else if (a.type == "FLOAT" && a.values.size() == 1)
    {
        float const v = static_cast<float>(std::strtod(a.values[0].c_str(), nullptr));
        b.resize(sizeof v);
        std::memcpy(b.data(), &v, sizeof v);
        type = PluginFieldType::kFLOAT32;
        length = 1;
    }
    else if (a.type == "STRING" && a.values.size() == 1)
    {
        b.assign(a.values[0].begin(), a.values[0].end());
        b.push_back('\0');
        type = PluginFieldType::kCHAR;
        length = static_cast<int32_t>(b.size());
    }
    else if (a.type == "INTS")
    {
        for (auto const& s : a.values)
        {
            int32_t const v = static_cast<int32_t>(std::stoll(s));
            uint8_t raw[sizeof v];
            std::memcpy(raw, &v, sizeof v);
            b.insert(b.end(), raw, raw + sizeof v);
        }
        type = PluginFieldType::kINT32;
        length = static_cast<int32_t>(a.values.size());
    }
    else
    {
        fail(file, std::string("attribute ") + name + ": type " + a.type + " is not one the plugin is given");
        return false;
    }
    data.bytes.push_back(std::move(b));
    out = PluginField(name, data.bytes.back().data(), type, length);
    return true;
}

void checkNode(std::string const& file)
{
    Node node;
    if (!readNode(file, node))
    {
        return;
    }
    fcos4j::plugin::FcosDetectCreator creator;
    if (node.opType != creator.getPluginName())
    {
        fail(file, "op type '" + node.opType + "' is not the plugin's name '" + creator.getPluginName() + "'");
    }
    auto version = node.attributes.find("plugin_version");
    if (version == node.attributes.end() || version->second.values != std::vector<std::string>{creator.getPluginVersion()})
    {
        fail(file, std::string("plugin_version must be '") + creator.getPluginVersion() + "'");
    }
    auto ns = node.attributes.find("plugin_namespace");
    if (ns == node.attributes.end() || ns->second.values != std::vector<std::string>{creator.getPluginNamespace()})
    {
        fail(file, std::string("plugin_namespace must be '") + creator.getPluginNamespace() + "'");
    }

    // The parser's walk over the creator's field names.
    PluginFieldCollection const* names = creator.getFieldNames();
    FieldData data;
    data.bytes.reserve(names->nbFields);
    std::vector<PluginField> fields;
    std::map<std::string, bool> passed;
    for (int32_t i = 0; i < names->nbFields; ++i)
    {
        auto it = node.attributes.find(names->fields[i].name);
        if (it == node.attributes.end())
        {
            continue;  // the plugin's default applies
        }
        PluginField f;
        if (toField(file, names->fields[i].name, it->second, data, f))
        {
            fields.push_back(f);
            passed[it->first] = true;
        }
    }
    for (auto const& [name, a] : node.attributes)
    {
        if (name != "plugin_version" && name != "plugin_namespace" && !passed.count(name))
        {
            fail(file, "attribute '" + name + "' is not a field of the plugin: TensorRT's parser would drop it");
        }
    }

    // What the plugin makes of them: through createPlugin (the real entry point) and parseFields (the values).
    PluginFieldCollection const fc{static_cast<int32_t>(fields.size()), fields.data()};
    nvinfer1::IPluginV3* plugin = creator.createPlugin("fcos_detect", &fc, nvinfer1::TensorRTPhase::kBUILD);
    if (plugin == nullptr)
    {
        fail(file, "createPlugin rejected the node's fields");
        return;
    }
    delete plugin;
    fcos4j::Params p{};
    std::string error;
    std::vector<std::string> warnings;
    if (!fcos4j::plugin::parseFields(&fc, p, error, warnings))
    {
        fail(file, "parseFields: " + error);
        return;
    }
    if (!warnings.empty())
    {
        fail(file, "parseFields warned: " + warnings.front());
    }
    auto const& a = node.attributes;
    for (char const* key : {"convention", "score_threshold", "nms_pre", "iou_threshold", "max_detections", "strides"})
    {
        if (!a.count(key) || a.at(key).values.empty())
        {
            fail(file, std::string("the node has no '") + key + "' attribute: the exporter writes every field");
            return;
        }
    }
    auto number = [&](char const* key) { return std::strtod(a.at(key).values.at(0).c_str(), nullptr); };
    std::string const convention = a.at("convention").values.at(0);
    int const wantConvention = convention == "mmdet" ? 0 : convention == "fcos" ? 1 : convention == "torchvision" ? 2 : -1;
    if (static_cast<int>(p.convention) != wantConvention)
    {
        fail(file, "convention " + convention + " became " + std::to_string(static_cast<int>(p.convention)));
    }
    if (p.score_threshold != static_cast<float>(number("score_threshold"))
        || p.iou_threshold != static_cast<float>(number("iou_threshold")))
    {
        fail(file, "thresholds differ from the attributes");
    }
    if (p.nms_pre != static_cast<int>(number("nms_pre")) || p.max_detections != static_cast<int>(number("max_detections")))
    {
        fail(file, "nms_pre / max_detections differ from the attributes");
    }
    auto const& strides = a.at("strides").values;
    bool same = p.num_levels == static_cast<int>(strides.size());
    for (int l = 0; same && l < p.num_levels; ++l)
    {
        same = p.strides[l] == std::stoi(strides[l]);
    }
    if (!same)
    {
        fail(file, "strides differ from the attributes");
    }
    std::printf("ok   %s: %s, %zu fields passed, plugin created\n", file.c_str(), convention.c_str(), fields.size());
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2)
    {
        std::fprintf(stderr, "usage: %s DIR-OF-.fields-FILES\n", argv[0]);
        return 2;
    }
    DIR* dir = opendir(argv[1]);
    if (dir == nullptr)
    {
        std::fprintf(stderr, "%s: no such directory (run engines/export/test_embed_detect.py --write-fields %s)\n",
                     argv[1], argv[1]);
        return 1;
    }
    int files = 0;
    for (dirent* e; (e = readdir(dir)) != nullptr;)
    {
        std::string const name = e->d_name;
        if (name.size() > 7 && name.compare(name.size() - 7, 7, ".fields") == 0)
        {
            checkNode(std::string(argv[1]) + "/" + name);
            ++files;
        }
    }
    closedir(dir);
    if (files == 0)
    {
        std::fprintf(stderr, "FAIL: no .fields files in %s\n", argv[1]);
        return 1;
    }
    std::printf("%d node files, %d failures\n", files, gFailures);
    return gFailures == 0 ? 0 : 1;
}

// DCN registry test: the DCNv2 node that engines/export/export_mmdet.py emits resolves, in the REAL
// libnvinfer_plugin.so.10 (TensorRT 10.x, from the JavaCPP redist jar), to a plugin creator that accepts it.
// No GPU is needed: libnvinfer's plugin registry and initLibNvInferPlugins work without a CUDA driver.
//
// What TensorRT's ONNX parser does with an unknown op (onnx-tensorrt, FallbackPluginImporter): looks up
// getPluginRegistry()->getCreator(op_type, attr plugin_version (default "1"), attr plugin_namespace (default ""))
// and passes the node attributes named by the creator's getFieldNames() as PluginFields (INT / INTS -> kINT32).
// This test replays that with the node description the Python test writes (dcn_plugin_node.json):
//   1. initLibNvInferPlugins(logger, "") registers the library's creators;
//   2. for every plugin_version the exporter can emit: getCreator(op_type, version, namespace) is non-null, has the
//      expected interface kind (version 1: "PLUGIN CREATOR_V1", 2: "PLUGIN CREATOR_V3ONE"), name and version;
//   3. the creator's field names are exactly the node's attributes (both directions: the plugin requires all of
//      them), each with the type and length the parser produces;
//   4. createPlugin with those fields (as the parser would build them) succeeds. It is only called when step 3
//      passed: without a CUDA driver, libnvinfer_plugin 10.15 crashes (SIGSEGV) on its own error path when a
//      creator rejects fields (seen for versions 1 and 2 with int64 or missing fields), so no negative control
//      here; the creators check type == kINT32 and that all five fields exist (TensorRT OSS
//      plugin/modulatedDeformConvPlugin/*.cpp, createPlugin);
//   5. negative controls: an unknown version and another namespace find no creator.
//
// Usage: fcos4j_dcn_plugin_registry_test <libnvinfer.so.10> <libnvinfer_plugin.so.10> <dcn_plugin_node.json>
// Exit codes: 0 pass, 1 fail, 77 skipped (a library is absent; ctest maps 77 to "skipped").
#include <NvInferRuntime.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace fcos4j_test
{
// The two IPluginV2 slots the test calls on a version-1 plugin (TensorRT 10.x NvInferRuntimePlugin.h):
// [1] getPluginType, [13] destroy. The other slots are placeholders that are never called. Declared outside the
// anonymous namespace on purpose: GCC treats an internal-linkage class without derived classes as a closed
// hierarchy and would "devirtualize" these calls to __cxa_pure_virtual.
class PluginV2Slots
{
public:
    virtual int32_t slot0() const noexcept = 0;
    virtual char const* getPluginType() const noexcept = 0;
    virtual void slot2() noexcept = 0;
    virtual void slot3() noexcept = 0;
    virtual void slot4() noexcept = 0;
    virtual void slot5() noexcept = 0;
    virtual void slot6() noexcept = 0;
    virtual void slot7() noexcept = 0;
    virtual void slot8() noexcept = 0;
    virtual void slot9() noexcept = 0;
    virtual void slot10() noexcept = 0;
    virtual void slot11() noexcept = 0;
    virtual void slot12() noexcept = 0;
    virtual void destroy() noexcept = 0;

protected:
    ~PluginV2Slots() = default;
};

} // namespace fcos4j_test

namespace {

int gFailures = 0;

#define CHECK(cond, ...)                                                            \
    do                                                                              \
    {                                                                               \
        if (!(cond))                                                                \
        {                                                                           \
            std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            std::fprintf(stderr, __VA_ARGS__);                                      \
            std::fprintf(stderr, "\n");                                             \
            ++gFailures;                                                            \
        }                                                                           \
    } while (0)

bool fileExists(char const* path)
{
    struct stat st
    {
    };
    return path != nullptr && stat(path, &st) == 0;
}

// ---- a minimal JSON reader (objects, arrays, strings without escapes beyond \" and \\, numbers, literals) ----
struct Json
{
    enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
    double number = 0;
    bool boolean = false;
    std::string text;
    std::vector<Json> items;
    std::map<std::string, Json> members;

    Json const& operator[](std::string const& key) const
    {
        static Json const missing;
        auto it = members.find(key);
        return it == members.end() ? missing : it->second;
    }
};

class JsonParser
{
public:
    explicit JsonParser(std::string s) : mS(std::move(s)) {}
    bool parse(Json& out)
    {
        bool const ok = value(out);
        skip();
        return ok && mPos == mS.size();
    }

private:
    void skip()
    {
        while (mPos < mS.size() && std::isspace(static_cast<unsigned char>(mS[mPos])))
        {
            ++mPos;
        }
    }
    bool value(Json& v)
    {
        skip();
        if (mPos >= mS.size())
        {
            return false;
        }
        char const c = mS[mPos];
        if (c == '{')
        {
            v.kind = Json::kObject;
            ++mPos;
            skip();
            if (mPos < mS.size() && mS[mPos] == '}')
            {
                ++mPos;
                return true;
            }
            while (true)
            {
                Json key;
                skip();
                if (!string(key))
                {
                    return false;
                }
                skip();
                if (mPos >= mS.size() || mS[mPos++] != ':')
                {
                    return false;
                }
                if (!value(v.members[key.text]))
                {
                    return false;
                }
                skip();
                if (mPos < mS.size() && mS[mPos] == ',')
                {
                    ++mPos;
                    continue;
                }
                return mPos < mS.size() && mS[mPos++] == '}';
            }
        }
        if (c == '[')
        {
            v.kind = Json::kArray;
            ++mPos;
            skip();
            if (mPos < mS.size() && mS[mPos] == ']')
            {
                ++mPos;
                return true;
            }
            while (true)
            {
                v.items.emplace_back();
                if (!value(v.items.back()))
                {
                    return false;
                }
                skip();
                if (mPos < mS.size() && mS[mPos] == ',')
                {
                    ++mPos;
                    continue;
                }
                return mPos < mS.size() && mS[mPos++] == ']';
            }
        }
        if (c == '"')
        {
            return string(v);
        }
        for (char const* lit : {"true", "false", "null"})
        {
            size_t const n = std::strlen(lit);
            if (mS.compare(mPos, n, lit) == 0)
            {
                mPos += n;
                v.kind = lit[0] == 'n' ? Json::kNull : Json::kBool;
                v.boolean = lit[0] == 't';
                return true;
            }
        }
        char* end = nullptr;
        v.number = std::strtod(mS.c_str() + mPos, &end);
        if (end == mS.c_str() + mPos)
        {
            return false;
        }
        v.kind = Json::kNumber;
        mPos = static_cast<size_t>(end - mS.c_str());
        return true;
    }
    bool string(Json& v)
    {
        if (mPos >= mS.size() || mS[mPos] != '"')
        {
            return false;
        }
        ++mPos;
        v.kind = Json::kString;
        while (mPos < mS.size() && mS[mPos] != '"')
        {
            if (mS[mPos] == '\\' && mPos + 1 < mS.size())
            {
                ++mPos;
            }
            v.text.push_back(mS[mPos++]);
        }
        return mPos++ < mS.size();
    }

    std::string mS;
    size_t mPos = 0;
};

// ---- TensorRT pieces ----
class StderrLogger final : public nvinfer1::ILogger
{
public:
    void log(Severity severity, char const* msg) noexcept override
    {
        if (severity <= Severity::kWARNING)
        {
            std::printf("  [trt log %d] %s\n", static_cast<int>(severity), msg != nullptr ? msg : "(null)");
        }
    }
};

nvinfer1::PluginFieldType trtType(std::string const& name)
{
    if (name == "kINT32")
    {
        return nvinfer1::PluginFieldType::kINT32;
    }
    if (name == "kFLOAT32")
    {
        return nvinfer1::PluginFieldType::kFLOAT32;
    }
    if (name == "kCHAR")
    {
        return nvinfer1::PluginFieldType::kCHAR;
    }
    return nvinfer1::PluginFieldType::kUNKNOWN;
}

// The fields onnx-tensorrt builds from the node: int32 arrays of the node's values (INT / INTS -> kINT32).
struct NodeFields
{
    std::vector<std::string> names;
    std::vector<std::vector<int32_t>> values;
    std::vector<nvinfer1::PluginField> fields;
    nvinfer1::PluginFieldCollection fc{};

    explicit NodeFields(Json const& jsonFields)
    {
        for (Json const& f : jsonFields.items)
        {
            names.push_back(f["name"].text);
            values.emplace_back();
            for (Json const& v : f["values"].items)
            {
                values.back().push_back(static_cast<int32_t>(v.number));
            }
        }
        for (size_t i = 0; i < names.size(); ++i)
        {
            fields.emplace_back(names[i].c_str(), values[i].data(), nvinfer1::PluginFieldType::kINT32,
                static_cast<int32_t>(values[i].size()));
        }
        fc.nbFields = static_cast<int32_t>(fields.size());
        fc.fields = fields.data();
    }
};

// True when the creator's fields and the node's attributes agree (names, types, lengths, both directions).
bool checkFields(nvinfer1::PluginFieldCollection const* fc, Json const& jsonFields, std::string const& who)
{
    int const failuresBefore = gFailures;
    CHECK(fc != nullptr && fc->nbFields >= 0, "%s: getFieldNames() returned no collection", who.c_str());
    if (fc == nullptr)
    {
        return false;
    }
    std::map<std::string, nvinfer1::PluginField const*> creatorFields;
    for (int32_t i = 0; i < fc->nbFields; ++i)
    {
        std::printf("  %s field %-17s type %d length %d\n", who.c_str(), fc->fields[i].name,
            static_cast<int>(fc->fields[i].type), fc->fields[i].length);
        creatorFields[fc->fields[i].name != nullptr ? fc->fields[i].name : ""] = &fc->fields[i];
    }
    std::map<std::string, bool> emitted;
    for (Json const& f : jsonFields.items)
    {
        std::string const& name = f["name"].text;
        emitted[name] = true;
        auto it = creatorFields.find(name);
        CHECK(it != creatorFields.end(), "%s has no field '%s' that the exporter emits", who.c_str(), name.c_str());
        if (it == creatorFields.end())
        {
            continue;
        }
        CHECK(it->second->type == trtType(f["trt_type"].text), "%s field '%s': type %d, the parser passes %s",
            who.c_str(), name.c_str(), static_cast<int>(it->second->type), f["trt_type"].text.c_str());
        CHECK(it->second->length == static_cast<int32_t>(f["length"].number), "%s field '%s': length %d, node has %d",
            who.c_str(), name.c_str(), it->second->length, static_cast<int>(f["length"].number));
        CHECK(f["values"].items.size() == static_cast<size_t>(f["length"].number),
            "field '%s': the description has %zu values for length %d", name.c_str(), f["values"].items.size(),
            static_cast<int>(f["length"].number));
    }
    for (auto const& kv : creatorFields)
    {
        CHECK(emitted.count(kv.first) == 1, "%s field '%s' is not emitted by the exporter (the plugin requires it)",
            who.c_str(), kv.first.c_str());
    }
    return gFailures == failuresBefore;
}

} // namespace

int main(int argc, char** argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // keep the log in order with stderr, even on an abort
    if (argc != 4)
    {
        std::fprintf(stderr, "usage: %s <libnvinfer.so.10> <libnvinfer_plugin.so.10> <dcn_plugin_node.json>\n", argv[0]);
        return 1;
    }
    char const* const nvinferPath = argv[1];
    char const* const pluginPath = argv[2];
    for (char const* lib : {nvinferPath, pluginPath})
    {
        if (!fileExists(lib))
        {
            std::printf("SKIP: %s not found (run native/tests/plugin/fetch_tensorrt_redist.sh to fetch it)\n", lib);
            return 77;
        }
    }
    std::ifstream in(argv[3]);
    std::stringstream text;
    text << in.rdbuf();
    Json node;
    if (!in || !JsonParser(text.str()).parse(node) || node.kind != Json::kObject)
    {
        std::fprintf(stderr, "FAIL: cannot read the node description %s\n", argv[3]);
        return 1;
    }
    std::string const opType = node["op_type"].text;
    std::string const ns = node["plugin_namespace"].text;
    Json const& fields = node["fields"];
    CHECK(!opType.empty() && fields.kind == Json::kArray && !fields.items.empty()
            && node["plugin_versions"].kind == Json::kArray && !node["plugin_versions"].items.empty(),
        "%s lacks op_type / fields / plugin_versions", argv[3]);

    // libnvinfer_plugin has no RUNPATH: its DT_NEEDED libnvinfer.so.10 is satisfied by the copy loaded first
    // (the dynamic loader matches already loaded libraries by soname).
    void* const nvinfer = dlopen(nvinferPath, RTLD_NOW | RTLD_GLOBAL);
    if (nvinfer == nullptr)
    {
        std::fprintf(stderr, "FAIL: dlopen(%s): %s\n", nvinferPath, dlerror());
        return 1;
    }
    void* const plugins = dlopen(pluginPath, RTLD_NOW | RTLD_LOCAL);
    if (plugins == nullptr)
    {
        std::fprintf(stderr, "FAIL: dlopen(%s): %s\n", pluginPath, dlerror());
        return 1;
    }
    auto const libVersion = reinterpret_cast<int32_t (*)()>(dlsym(nvinfer, "getInferLibVersion"));
    auto const getRegistry = reinterpret_cast<nvinfer1::IPluginRegistry* (*)()>(dlsym(nvinfer, "getPluginRegistry"));
    // extern "C" bool initLibNvInferPlugins(void* logger, char const* libNamespace) (NvInferPlugin.h)
    auto const initPlugins = reinterpret_cast<bool (*)(void*, char const*)>(dlsym(plugins, "initLibNvInferPlugins"));
    if (libVersion == nullptr || getRegistry == nullptr || initPlugins == nullptr)
    {
        std::fprintf(stderr, "FAIL: getInferLibVersion / getPluginRegistry / initLibNvInferPlugins not found\n");
        return 1;
    }
    std::printf("libnvinfer %d, %s\n", libVersion(), pluginPath);
    nvinfer1::IPluginRegistry* const registry = getRegistry();
    CHECK(registry != nullptr, "getPluginRegistry() returned null");
    if (registry == nullptr)
    {
        return 1;
    }
    StderrLogger logger;
    CHECK(initPlugins(&logger, ns.c_str()), "initLibNvInferPlugins returned false");

    for (Json const& v : node["plugin_versions"].items)
    {
        std::string const version = v.text;
        std::string const who = ns + "::" + opType + " version " + version;
        nvinfer1::IPluginCreatorInterface* const creator
            = registry->getCreator(opType.c_str(), version.c_str(), ns.c_str());
        CHECK(creator != nullptr, "getCreator(\"%s\", \"%s\", \"%s\") is null: TensorRT's ONNX parser would not "
                                  "resolve the node", opType.c_str(), version.c_str(), ns.c_str());
        if (creator == nullptr)
        {
            continue;
        }
        nvinfer1::InterfaceInfo const info = creator->getInterfaceInfo();
        std::printf("%s: creator kind \"%s\" %d.%d\n", who.c_str(), info.kind, info.major, info.minor);
        if (std::strcmp(info.kind, "PLUGIN CREATOR_V1") == 0)
        {
            auto* const c = static_cast<nvinfer1::IPluginCreator*>(creator);
            CHECK(opType == c->getPluginName() && version == c->getPluginVersion() && ns == c->getPluginNamespace(),
                "%s: creator reports %s / %s / '%s'", who.c_str(), c->getPluginName(), c->getPluginVersion(),
                c->getPluginNamespace());
            if (!checkFields(c->getFieldNames(), fields, who))
            {
                continue;  // createPlugin would reject them, and libnvinfer_plugin crashes on that error path
            }
            NodeFields asParsed(fields);
            nvinfer1::IPluginV2* const p = c->createPlugin("dcn_test", &asParsed.fc);
            CHECK(p != nullptr, "%s: createPlugin rejected the fields the parser would pass", who.c_str());
            if (p != nullptr)
            {
                auto* const slots = reinterpret_cast<fcos4j_test::PluginV2Slots*>(p);
                CHECK(opType == slots->getPluginType(), "%s: plugin type %s", who.c_str(), slots->getPluginType());
                slots->destroy();
            }
        }
        else if (std::strcmp(info.kind, "PLUGIN CREATOR_V3ONE") == 0)
        {
            auto* const c = static_cast<nvinfer1::IPluginCreatorV3One*>(creator);
            CHECK(opType == c->getPluginName() && version == c->getPluginVersion() && ns == c->getPluginNamespace(),
                "%s: creator reports %s / %s / '%s'", who.c_str(), c->getPluginName(), c->getPluginVersion(),
                c->getPluginNamespace());
            if (!checkFields(c->getFieldNames(), fields, who))
            {
                continue;
            }
            NodeFields asParsed(fields);
            std::unique_ptr<nvinfer1::IPluginV3> p{
                c->createPlugin("dcn_test", &asParsed.fc, nvinfer1::TensorRTPhase::kBUILD)};
            CHECK(p != nullptr, "%s: createPlugin(kBUILD) rejected the fields the parser would pass", who.c_str());
        }
        else
        {
            CHECK(false, "%s: unexpected creator kind %s", who.c_str(), info.kind);
        }
    }
    // negative controls: the lookup really discriminates by version and namespace
    CHECK(registry->getCreator(opType.c_str(), "99", ns.c_str()) == nullptr, "a creator for version 99 exists");
    CHECK(registry->getCreator(opType.c_str(), "1", "fcos4j_no_such_namespace") == nullptr,
        "a creator exists in an unknown namespace");

    if (gFailures != 0)
    {
        std::fprintf(stderr, "%d failure(s)\n", gFailures);
        return 1;
    }
    std::printf("PASS: %s resolves to libnvinfer_plugin's creator(s) and every emitted attribute is a field of them\n",
        opType.c_str());
    return 0;
}

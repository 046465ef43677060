// ABI test: load our plugin library into the REAL libnvinfer.so.10 (TensorRT 10.x) through its plugin
// registry and drive the creator and a plugin through the registry's pointers. No GPU is needed: the
// registry, library loading and creators work without a CUDA driver.
//
// What it proves: libnvinfer calls our exported getCreators/setLoggerFinder and our creator's virtuals
// (getInterfaceInfo, getPluginName/Version/Namespace) to register it, and we call libnvinfer's
// IPluginRegistry, ILoggerFinder and ILogger virtuals through OUR declarations; wrong slots would crash or
// return the wrong objects/names. Together with trt_layout_dump (slot table vs the real headers) this
// checks native/trt/include against the real binary.
//
// Usage: fcos4j_plugin_abi_test [--register-on-load] <libnvinfer.so.10> <plugin library>
//   default: IPluginRegistry::loadLibrary (trtexec --dynamicPlugins); --register-on-load: a plain dlopen
//   with FCOS4J_TRT_REGISTER_ON_LOAD=1 (how Triton loads plugin libraries), then deregisterCreator.
// Exit codes: 0 pass, 1 fail, 77 skipped (libnvinfer not present; ctest maps 77 to "skipped").
#include <NvInferRuntime.h>

#include <dlfcn.h>
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace {

int gFailures = 0;

#define CHECK(cond)                                                                 \
    do                                                                              \
    {                                                                               \
        if (!(cond))                                                                \
        {                                                                           \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            ++gFailures;                                                            \
        }                                                                           \
    } while (0)

// Records what libnvinfer forwards to the logger we give it.
class RecordingLogger final : public nvinfer1::ILogger
{
public:
    void log(Severity severity, char const* msg) noexcept override
    {
        std::lock_guard<std::mutex> lock(mMutex);
        mMessages.emplace_back(static_cast<int>(severity), msg != nullptr ? msg : "");
        std::printf("  [trt log %d] %s\n", static_cast<int>(severity), msg != nullptr ? msg : "(null)");
    }
    bool contains(std::string const& needle, int severity) const
    {
        std::lock_guard<std::mutex> lock(mMutex);
        for (auto const& m : mMessages)
        {
            if (m.first == severity && m.second.find(needle) != std::string::npos)
            {
                return true;
            }
        }
        return false;
    }

private:
    mutable std::mutex mMutex;
    std::vector<std::pair<int, std::string>> mMessages;
};

bool fileExists(char const* path)
{
    struct stat st
    {
    };
    return path != nullptr && stat(path, &st) == 0;
}

template <typename T>
T symbol(void* lib, char const* name)
{
    void* const p = dlsym(lib, name);
    if (p == nullptr)
    {
        std::fprintf(stderr, "FAIL: symbol %s not found: %s\n", name, dlerror());
        ++gFailures;
    }
    return reinterpret_cast<T>(p);
}

nvinfer1::PluginField const* findField(nvinfer1::PluginFieldCollection const* fc, char const* name)
{
    for (int32_t i = 0; fc != nullptr && i < fc->nbFields; ++i)
    {
        if (fc->fields[i].name != nullptr && std::strcmp(fc->fields[i].name, name) == 0)
        {
            return &fc->fields[i];
        }
    }
    return nullptr;
}

// Deep copy of a field collection, as TensorRT keeps it in a serialized engine.
struct FieldsCopy
{
    std::vector<std::string> names;
    std::vector<std::vector<char>> data;
    std::vector<nvinfer1::PluginField> fields;
    nvinfer1::PluginFieldCollection fc{};

    explicit FieldsCopy(nvinfer1::PluginFieldCollection const* src)
    {
        size_t const n = src != nullptr ? static_cast<size_t>(src->nbFields) : 0;
        names.reserve(n);
        data.reserve(n);
        for (size_t i = 0; i < n; ++i)
        {
            nvinfer1::PluginField const& f = src->fields[i];
            size_t elem = 4;
            switch (f.type)
            {
            case nvinfer1::PluginFieldType::kFLOAT64:
            case nvinfer1::PluginFieldType::kINT64: elem = 8; break;
            case nvinfer1::PluginFieldType::kCHAR:
            case nvinfer1::PluginFieldType::kINT8: elem = 1; break;
            case nvinfer1::PluginFieldType::kFLOAT16:
            case nvinfer1::PluginFieldType::kINT16: elem = 2; break;
            default: break;
            }
            names.emplace_back(f.name);
            char const* bytes = static_cast<char const*>(f.data);
            data.emplace_back(bytes, bytes + elem * static_cast<size_t>(f.length));
        }
        for (size_t i = 0; i < n; ++i)
        {
            fields.emplace_back(names[i].c_str(), data[i].data(), src->fields[i].type, src->fields[i].length);
        }
        fc.nbFields = static_cast<int32_t>(fields.size());
        fc.fields = fields.data();
    }
};

int32_t intField(nvinfer1::PluginFieldCollection const* fc, char const* name, int32_t index = 0)
{
    nvinfer1::PluginField const* f = findField(fc, name);
    if (f == nullptr || f->type != nvinfer1::PluginFieldType::kINT32 || f->length <= index)
    {
        std::fprintf(stderr, "FAIL: int32 field %s[%d] missing\n", name, index);
        ++gFailures;
        return INT32_MIN;
    }
    return static_cast<int32_t const*>(f->data)[index];
}

float floatField(nvinfer1::PluginFieldCollection const* fc, char const* name)
{
    nvinfer1::PluginField const* f = findField(fc, name);
    if (f == nullptr || f->type != nvinfer1::PluginFieldType::kFLOAT32 || f->length != 1)
    {
        std::fprintf(stderr, "FAIL: float32 field %s missing\n", name);
        ++gFailures;
        return NAN;
    }
    return *static_cast<float const*>(f->data);
}

} // namespace

int registerOnLoad(nvinfer1::IPluginRegistry* registry, char const* pluginPath);

int main(int argc, char** argv)
{
    bool const onLoad = argc == 4 && std::strcmp(argv[1], "--register-on-load") == 0;
    if (argc != 3 && !onLoad)
    {
        std::fprintf(stderr, "usage: %s [--register-on-load] <libnvinfer.so.10> <plugin library>\n", argv[0]);
        return 1;
    }
    char const* const nvinferPath = argv[onLoad ? 2 : 1];
    char const* const pluginPath = argv[onLoad ? 3 : 2];
    if (!fileExists(nvinferPath))
    {
        std::printf("SKIP: %s not found (run native/tests/plugin/fetch_tensorrt_redist.sh to fetch it)\n",
                    nvinferPath);
        return 77;
    }
    if (!fileExists(pluginPath))
    {
        std::fprintf(stderr, "FAIL: plugin library %s not found\n", pluginPath);
        return 1;
    }

    void* const nvinfer = dlopen(nvinferPath, RTLD_NOW | RTLD_LOCAL);
    if (nvinfer == nullptr)
    {
        std::fprintf(stderr, "FAIL: dlopen(%s): %s\n", nvinferPath, dlerror());
        return 1;
    }
    auto const libVersion = symbol<int32_t (*)()>(nvinfer, "getInferLibVersion");
    auto const createRuntime = symbol<void* (*)(void*, int32_t)>(nvinfer, "createInferRuntime_INTERNAL");
    auto const getRegistry = symbol<nvinfer1::IPluginRegistry* (*)()>(nvinfer, "getPluginRegistry");
    if (libVersion == nullptr || getRegistry == nullptr || createRuntime == nullptr)
    {
        return 1;
    }
    int32_t const version = libVersion();
    std::printf("libnvinfer version %d\n", version);
    CHECK(version / 10000 == 10);

    // Hand libnvinfer our logger. Without a GPU createInferRuntime fails (and says so through the
    // logger), but the logger stays registered as the one plugins reach through ILoggerFinder.
    static RecordingLogger logger;
    void* const runtime = createRuntime(&logger, version);
    std::printf("createInferRuntime -> %s (expected to fail without a GPU)\n",
                runtime != nullptr && reinterpret_cast<uintptr_t>(runtime) > 4096 ? "a runtime" : "no runtime");

    nvinfer1::IPluginRegistry* const registry = getRegistry();
    CHECK(registry != nullptr);
    if (registry == nullptr)
    {
        return 1;
    }
    if (onLoad)
    {
        return registerOnLoad(registry, pluginPath);
    }
    int32_t before = -1;
    nvinfer1::IPluginCreatorInterface* const* const listBefore = registry->getAllCreators(&before);
    std::printf("registry holds %d creators before loading ours\n", before);
    CHECK(before >= 0 && (before == 0 || listBefore != nullptr));
    CHECK(registry->getCreator("FcosDetect", "1", "fcos4j") == nullptr);

    // libnvinfer dlopens the library, calls setLoggerFinder(), getCreators() and registers each creator
    // under the namespace the creator reports.
    nvinfer1::IPluginRegistry::PluginLibraryHandle const handle = registry->loadLibrary(pluginPath);
    std::printf("loadLibrary(%s) -> %p\n", pluginPath, handle);
    CHECK(handle != nullptr);
    if (handle == nullptr)
    {
        return 1;
    }
    int32_t after = -1;
    nvinfer1::IPluginCreatorInterface* const* const listAfter = registry->getAllCreators(&after);
    std::printf("registry holds %d creators after loading ours\n", after);
    CHECK(after == before + 1);

    // The creator libnvinfer registered must be the very object our library exports.
    void* const plugin = dlopen(pluginPath, RTLD_NOW | RTLD_NOLOAD);
    CHECK(plugin != nullptr);
    auto const getCreators = plugin != nullptr
        ? symbol<nvinfer1::IPluginCreatorInterface* const* (*)(int32_t&)>(plugin, "getCreators")
        : nullptr;
    int32_t nbOurs = 0;
    nvinfer1::IPluginCreatorInterface* const* const ours = getCreators != nullptr ? getCreators(nbOurs) : nullptr;
    CHECK(nbOurs == 1 && ours != nullptr);
    nvinfer1::IPluginCreatorInterface* const found = registry->getCreator("FcosDetect", "1", "fcos4j");
    CHECK(found != nullptr);
    CHECK(ours != nullptr && found == ours[0]);
    bool listed = false;
    for (int32_t i = 0; i < after && listAfter != nullptr; ++i)
    {
        listed = listed || listAfter[i] == found;
    }
    CHECK(listed);
    CHECK(registry->getCreator("FcosDetect", "2", "fcos4j") == nullptr);
    CHECK(registry->getCreator("FcosDetect", "1", "") == nullptr);
    int32_t recursive = -1;
    registry->getAllCreatorsRecursive(&recursive);
    CHECK(recursive >= after);
    if (found == nullptr)
    {
        return 1;
    }

    nvinfer1::InterfaceInfo const info = found->getInterfaceInfo();
    std::printf("creator interface: %s %d.%d\n", info.kind, info.major, info.minor);
    CHECK(std::strcmp(info.kind, "PLUGIN CREATOR_V3ONE") == 0 && info.major == 1);
    auto* const creator = static_cast<nvinfer1::IPluginCreatorV3One*>(found);
    CHECK(std::strcmp(creator->getPluginName(), "FcosDetect") == 0);
    CHECK(std::strcmp(creator->getPluginVersion(), "1") == 0);
    CHECK(std::strcmp(creator->getPluginNamespace(), "fcos4j") == 0);
    nvinfer1::PluginFieldCollection const* const names = creator->getFieldNames();
    CHECK(names != nullptr && names->nbFields == 6);
    for (char const* n : {"convention", "score_threshold", "nms_pre", "iou_threshold", "max_detections", "strides"})
    {
        CHECK(findField(names, n) != nullptr);
    }

    // Fields as an ONNX node would carry them (convention by name, one stride list).
    char const convention[] = "torchvision";
    float const score = 0.25F;
    int32_t const nmsPre = 500;
    double const iou = 0.45;
    int64_t const maxDet = 50;
    int32_t const strides[5] = {8, 16, 32, 64, 128};
    nvinfer1::PluginField const fields[] = {
        {"convention", convention, nvinfer1::PluginFieldType::kCHAR, static_cast<int32_t>(sizeof convention - 1)},
        {"score_threshold", &score, nvinfer1::PluginFieldType::kFLOAT32, 1},
        {"nms_pre", &nmsPre, nvinfer1::PluginFieldType::kINT32, 1},
        {"iou_threshold", &iou, nvinfer1::PluginFieldType::kFLOAT64, 1},
        {"max_detections", &maxDet, nvinfer1::PluginFieldType::kINT64, 1},
        {"strides", strides, nvinfer1::PluginFieldType::kINT32, 5},
    };
    nvinfer1::PluginFieldCollection const fc{6, fields};
    nvinfer1::IPluginV3* const built = creator->createPlugin("det", &fc, nvinfer1::TensorRTPhase::kBUILD);
    CHECK(built != nullptr);
    if (built != nullptr)
    {
        CHECK(std::strcmp(built->getInterfaceInfo().kind, "PLUGIN") == 0);
        auto* const core = static_cast<nvinfer1::IPluginV3OneCore*>(
            built->getCapabilityInterface(nvinfer1::PluginCapabilityType::kCORE));
        auto* const build = static_cast<nvinfer1::IPluginV3OneBuild*>(
            built->getCapabilityInterface(nvinfer1::PluginCapabilityType::kBUILD));
        auto* const rt = static_cast<nvinfer1::IPluginV3OneRuntime*>(
            built->getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
        CHECK(core != nullptr && build != nullptr && rt != nullptr);
        CHECK(core != nullptr && std::strcmp(core->getInterfaceInfo().kind, "PLUGIN_V3ONE_CORE") == 0);
        CHECK(build != nullptr && std::strcmp(build->getInterfaceInfo().kind, "PLUGIN_V3ONE_BUILD") == 0);
        CHECK(rt != nullptr && std::strcmp(rt->getInterfaceInfo().kind, "PLUGIN_V3ONE_RUNTIME") == 0);
        CHECK(core != nullptr && std::strcmp(core->getPluginName(), "FcosDetect") == 0);
        CHECK(build != nullptr && build->getNbOutputs() == 4);
        if (rt != nullptr)
        {
            FieldsCopy const saved(rt->getFieldsToSerialize());
            CHECK(intField(&saved.fc, "convention") == 2);
            CHECK(floatField(&saved.fc, "score_threshold") == 0.25F);
            CHECK(intField(&saved.fc, "nms_pre") == 500);
            CHECK(floatField(&saved.fc, "iou_threshold") == static_cast<float>(0.45));
            CHECK(intField(&saved.fc, "max_detections") == 50);
            for (int32_t l = 0; l < 5; ++l)
            {
                CHECK(intField(&saved.fc, "strides", l) == strides[l]);
            }
            // Recreate as a deserializing engine would, and check the round trip is a fixed point.
            nvinfer1::IPluginV3* const again = creator->createPlugin("det", &saved.fc, nvinfer1::TensorRTPhase::kRUNTIME);
            CHECK(again != nullptr);
            if (again != nullptr)
            {
                auto* const rt2 = static_cast<nvinfer1::IPluginV3OneRuntime*>(
                    again->getCapabilityInterface(nvinfer1::PluginCapabilityType::kRUNTIME));
                FieldsCopy const saved2(rt2->getFieldsToSerialize());
                CHECK(saved2.fc.nbFields == saved.fc.nbFields);
                for (size_t i = 0; i < saved.data.size() && i < saved2.data.size(); ++i)
                {
                    CHECK(saved.names[i] == saved2.names[i] && saved.data[i] == saved2.data[i]);
                }
                delete again;
            }
        }
        delete built;
    }

    // A bad field: createPlugin fails and says why. libnvinfer passed its ILoggerFinder to our
    // setLoggerFinder during loadLibrary; without a GPU no builder/runtime exists, so its findLogger()
    // returns nullptr and the plugin falls back to stderr. With a GPU the message reaches our logger.
    int32_t const badNmsPre = 0;
    nvinfer1::PluginField const badFields[] = {{"nms_pre", &badNmsPre, nvinfer1::PluginFieldType::kINT32, 1}};
    nvinfer1::PluginFieldCollection const badFc{1, badFields};
    CHECK(creator->createPlugin("bad_layer", &badFc, nvinfer1::TensorRTPhase::kBUILD) == nullptr);
    bool const haveRuntime = runtime != nullptr && reinterpret_cast<uintptr_t>(runtime) > 4096;
    bool const routed = logger.contains("bad_layer", 1) && logger.contains("nms_pre", 1);
    // Informational only: which logger libnvinfer's finder returns with a live runtime is its choice.
    std::printf("plugin error routed to the TensorRT logger: %s\n",
                routed ? "yes" : (haveRuntime ? "no" : "no (expected: no GPU, so libnvinfer has no live logger)"));
    registry->deregisterLibrary(handle);
    CHECK(registry->getCreator("FcosDetect", "1", "fcos4j") == nullptr);
    int32_t finalCount = -1;
    registry->getAllCreators(&finalCount);
    CHECK(finalCount == before);
    // Our own finder through the library's exported setLoggerFinder: errors must arrive at its logger.
    if (plugin != nullptr)
    {
        struct Finder final : nvinfer1::ILoggerFinder
        {
            nvinfer1::ILogger* logger;
            explicit Finder(nvinfer1::ILogger* l)
                : logger(l)
            {
            }
            nvinfer1::ILogger* findLogger() override
            {
                return logger;
            }
        };
        static RecordingLogger ownLogger;
        static Finder finder(&ownLogger);
        auto const setFinder = symbol<void (*)(nvinfer1::ILoggerFinder*)>(plugin, "setLoggerFinder");
        if (setFinder != nullptr && getCreators != nullptr)
        {
            setFinder(&finder);
            int32_t n = 0;
            auto* const own = static_cast<nvinfer1::IPluginCreatorV3One*>(getCreators(n)[0]);
            CHECK(own->createPlugin("bad_layer_2", &badFc, nvinfer1::TensorRTPhase::kBUILD) == nullptr);
            CHECK(ownLogger.contains("bad_layer_2", 1) && ownLogger.contains("nms_pre", 1));
            setFinder(nullptr);
        }
        dlclose(plugin);
    }

    if (gFailures != 0)
    {
        std::fprintf(stderr, "%d check(s) failed\n", gFailures);
        return 1;
    }
    std::printf("PASS\n");
    return 0;
}

// A plain dlopen with FCOS4J_TRT_REGISTER_ON_LOAD=1: the library's constructor finds the already loaded
// libnvinfer by soname and registers its creator (IPluginRegistry::registerCreator, our slot 12).
int registerOnLoad(nvinfer1::IPluginRegistry* registry, char const* pluginPath)
{
    int32_t before = -1;
    registry->getAllCreators(&before);
    CHECK(registry->getCreator("FcosDetect", "1", "fcos4j") == nullptr);
    setenv("FCOS4J_TRT_REGISTER_ON_LOAD", "1", 1);
    void* const plugin = dlopen(pluginPath, RTLD_NOW | RTLD_LOCAL);
    unsetenv("FCOS4J_TRT_REGISTER_ON_LOAD");
    CHECK(plugin != nullptr);
    if (plugin == nullptr)
    {
        std::fprintf(stderr, "dlopen(%s): %s\n", pluginPath, dlerror());
        return 1;
    }
    int32_t after = -1;
    registry->getAllCreators(&after);
    std::printf("registry holds %d creators before, %d after dlopen\n", before, after);
    CHECK(after == before + 1);
    auto const getCreators = symbol<nvinfer1::IPluginCreatorInterface* const* (*)(int32_t&)>(plugin, "getCreators");
    int32_t n = 0;
    nvinfer1::IPluginCreatorInterface* const* const ours = getCreators != nullptr ? getCreators(n) : nullptr;
    nvinfer1::IPluginCreatorInterface* const found = registry->getCreator("FcosDetect", "1", "fcos4j");
    CHECK(found != nullptr && ours != nullptr && found == ours[0]);
    if (found != nullptr)
    {
        auto* const creator = static_cast<nvinfer1::IPluginCreatorV3One*>(found);
        nvinfer1::IPluginV3* const p = creator->createPlugin("det", nullptr, nvinfer1::TensorRTPhase::kBUILD);
        CHECK(p != nullptr);
        delete p;
        CHECK(registry->deregisterCreator(*found));
        CHECK(registry->getCreator("FcosDetect", "1", "fcos4j") == nullptr);
    }
    if (gFailures != 0)
    {
        std::fprintf(stderr, "%d check(s) failed\n", gFailures);
        return 1;
    }
    std::printf("PASS\n");
    return 0;
}

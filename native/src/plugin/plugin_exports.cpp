// The C entry points TensorRT looks up in a plugin library (IPluginRegistry::loadLibrary, trtexec
// --dynamicPlugins / --setPluginsToSerialize): getCreators and setLoggerFinder.
//
// Hosts that merely dlopen plugin libraries and expect them to register themselves (Triton's TensorRT
// backend, `plugins=` option or LD_PRELOAD) are served by an opt-in load-time registration: with
// FCOS4J_TRT_REGISTER_ON_LOAD=1 in the environment, the library registers its creator with the process's
// libnvinfer.so.10 when it is loaded. It is opt-in because registering twice (load-time plus loadLibrary)
// makes loadLibrary fail.
#include <NvInferRuntime.h>

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "plugin/fcos_detect_plugin.h"
#include "plugin/plugin_logging.h"

#define FCOS4J_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

fcos4j::plugin::FcosDetectCreator& theCreator() noexcept
{
    // Constructed on first use and never destroyed before the library is unloaded.
    static fcos4j::plugin::FcosDetectCreator creator;
    return creator;
}

nvinfer1::IPluginCreatorInterface* const* creatorList(int32_t& count) noexcept
{
    static nvinfer1::IPluginCreatorInterface* const list[] = {&theCreator()};
    count = 1;
    return list;
}

// Reaches libnvinfer's default logger (exported getLogger()) when no ILoggerFinder was handed over.
class NvinferLoggerFinder final : public nvinfer1::ILoggerFinder
{
public:
    using GetLogger = nvinfer1::ILogger* (*)();
    explicit NvinferLoggerFinder(GetLogger fn)
        : mGetLogger(fn)
    {
    }
    nvinfer1::ILogger* findLogger() override
    {
        return mGetLogger != nullptr ? mGetLogger() : nullptr;
    }

private:
    GetLogger mGetLogger;
};

// True when the process has a TensorRT newer than 10 loaded (and so an ABI our declarations do not match).
bool newerTensorRTLoaded() noexcept
{
    for (char const* name : {"libnvinfer.so.11", "libnvinfer_lean.so.11", "libnvinfer.so.12", "libnvinfer_lean.so.12"})
    {
        if (void* const h = dlopen(name, RTLD_NOW | RTLD_NOLOAD))
        {
            dlclose(h);
            return true;
        }
    }
    return false;
}

__attribute__((constructor)) void registerOnLoad()
{
    char const* const flag = std::getenv("FCOS4J_TRT_REGISTER_ON_LOAD");
    if (flag == nullptr || std::strcmp(flag, "1") != 0)
    {
        return;
    }
    try
    {
        // The process's libnvinfer if already loaded (Triton), else load it (LD_PRELOAD start-up); the
        // dynamic loader shares one instance per soname, so the host later gets the same registry.
        char const* const soname = "libnvinfer.so.10";
        void* nvinfer = dlopen(soname, RTLD_NOW | RTLD_NOLOAD);
        if (nvinfer == nullptr)
        {
            nvinfer = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
        }
        if (nvinfer == nullptr)
        {
            fcos4j::plugin::logError(std::string("FCOS4J_TRT_REGISTER_ON_LOAD: cannot load ") + soname + ": "
                                     + dlerror());
            return;
        }
        auto const libVersion = reinterpret_cast<int32_t (*)()>(dlsym(nvinfer, "getInferLibVersion"));
        if (libVersion == nullptr || libVersion() / 10000 != 10)
        {
            fcos4j::plugin::logError(std::string("FCOS4J_TRT_REGISTER_ON_LOAD: ") + soname
                                     + " is not TensorRT 10.x; not registering");
            return;
        }
        using GetRegistry = nvinfer1::IPluginRegistry* (*)();
        auto const getRegistry = reinterpret_cast<GetRegistry>(dlsym(nvinfer, "getPluginRegistry"));
        auto const getLogger = reinterpret_cast<NvinferLoggerFinder::GetLogger>(dlsym(nvinfer, "getLogger"));
        nvinfer1::IPluginRegistry* const registry = getRegistry != nullptr ? getRegistry() : nullptr;
        if (registry == nullptr)
        {
            fcos4j::plugin::logError(std::string("FCOS4J_TRT_REGISTER_ON_LOAD: no plugin registry in ") + soname);
            return;
        }
        static NvinferLoggerFinder finder(getLogger);
        fcos4j::plugin::setLoggerFinder(&finder);
        // The registry keeps a pointer to our creator: stay mapped for the life of the process.
        Dl_info self{};
        if (dladdr(reinterpret_cast<void*>(&registerOnLoad), &self) != 0 && self.dli_fname != nullptr)
        {
            dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        }
        if (!registry->registerCreator(theCreator(), fcos4j::plugin::kPluginNamespace))
        {
            fcos4j::plugin::logError("FCOS4J_TRT_REGISTER_ON_LOAD: the registry refused fcos4j::FcosDetect "
                                     "(already registered?)");
        }
    }
    catch (...)
    {
        // Never let an exception escape a library constructor.
    }
}

} // namespace

/** Creators of this library (one: fcos4j::FcosDetect version 1). */
FCOS4J_PLUGIN_EXPORT nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators)
{
    return creatorList(nbCreators);
}

/** TensorRT hands over the way to reach its current logger; nullptr detaches. */
FCOS4J_PLUGIN_EXPORT void setLoggerFinder(nvinfer1::ILoggerFinder* finder)
{
    // ILoggerFinder/ILogger changed their vtables in TensorRT 11: calling a newer finder through our
    // 10.x declarations would jump to the wrong function, so keep logging to stderr there.
    if (finder != nullptr && newerTensorRTLoaded())
    {
        fcos4j::plugin::setLoggerFinder(nullptr);
        fcos4j::plugin::logError("this plugin library is built for TensorRT 10.x; a newer libnvinfer is loaded");
        return;
    }
    fcos4j::plugin::setLoggerFinder(finder);
}

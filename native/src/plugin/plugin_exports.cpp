// The C entry points TensorRT looks up in a plugin library (IPluginRegistry::loadLibrary, trtexec
// --dynamicPlugins, Triton's LD_PRELOAD-free plugin loading): getCreators and setLoggerFinder.
#include <NvInferRuntime.h>

#include "plugin/fcos_detect_plugin.h"
#include "plugin/plugin_logging.h"

#define FCOS4J_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

nvinfer1::IPluginCreatorInterface* const* creatorList(int32_t& count) noexcept
{
    // Constructed once, on first use, and never destroyed before the library is unloaded.
    static fcos4j::plugin::FcosDetectCreator creator;
    static nvinfer1::IPluginCreatorInterface* const list[] = {&creator};
    count = 1;
    return list;
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
    fcos4j::plugin::setLoggerFinder(finder);
}

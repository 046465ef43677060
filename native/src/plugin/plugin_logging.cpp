#include "plugin/plugin_logging.h"

#include <atomic>
#include <cstdio>

namespace fcos4j {
namespace plugin {

namespace {
std::atomic<nvinfer1::ILoggerFinder*> gFinder{nullptr};
} // namespace

void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept
{
    gFinder.store(finder, std::memory_order_release);
}

void log(nvinfer1::ILogger::Severity severity, std::string const& message) noexcept
{
    try
    {
        // Ask the finder every time: TensorRT may swap its logger (e.g. a new IBuilder/IRuntime).
        nvinfer1::ILoggerFinder* const finder = gFinder.load(std::memory_order_acquire);
        nvinfer1::ILogger* const logger = finder != nullptr ? finder->findLogger() : nullptr;
        if (logger != nullptr)
        {
            logger->log(severity, message.c_str());
        }
        else if (severity <= nvinfer1::ILogger::Severity::kERROR)
        {
            std::fprintf(stderr, "[fcos4j plugin] %s\n", message.c_str());
        }
    }
    catch (...)
    {
        // Logging must never take the caller down.
    }
}

} // namespace plugin
} // namespace fcos4j

// Logging for the plugin library: messages go to the ILogger that TensorRT hands over through the
// exported setLoggerFinder(); without one, errors go to stderr and the rest is dropped.
#pragma once

#include <NvInferRuntime.h>

#include <string>

namespace fcos4j {
namespace plugin {

/** Stores the finder given by TensorRT (may be nullptr to detach). Thread-safe. */
void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept;

/** Logs `message` at `severity`; never throws. */
void log(nvinfer1::ILogger::Severity severity, std::string const& message) noexcept;

inline void logError(std::string const& message) noexcept
{
    log(nvinfer1::ILogger::Severity::kERROR, message);
}

inline void logWarning(std::string const& message) noexcept
{
    log(nvinfer1::ILogger::Severity::kWARNING, message);
}

} // namespace plugin
} // namespace fcos4j

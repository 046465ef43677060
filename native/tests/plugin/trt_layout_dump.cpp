// Prints the binary layout of the TensorRT declarations this program is compiled against: the vtable
// slot of every virtual function we rely on, struct sizes and field offsets, and enumerator values.
//
// Built against our own declarations (native/trt/include) its output must equal the committed
// trt_layout_expected.txt, which was produced by building this same program against the real TensorRT
// 10.15 headers; with -DFCOS4J_TENSORRT_INCLUDE_DIR the build also compiles it against the headers given
// there and compares both outputs (see CMakeLists.txt). Itanium C++ ABI (gcc/clang on Linux) only.
#include <NvInferRuntime.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

// offsetof on the wrappers (not standard-layout, but fixed under the Itanium ABI); deprecated V2 names.
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

using namespace nvinfer1;

// A pointer to a virtual member function holds 1 + (byte offset of its vtable entry) in its first word.
template <typename M>
long slotOf(M member)
{
    struct Rep
    {
        uintptr_t ptr;
        ptrdiff_t adj;
    } rep;
    static_assert(sizeof(M) == sizeof(Rep), "unexpected member-pointer size (not Itanium ABI?)");
    std::memcpy(&rep, &member, sizeof rep);
    if ((rep.ptr & 1U) == 0)
    {
        return -1;  // not virtual
    }
    return static_cast<long>((rep.ptr - 1) / sizeof(void*));
}

#define SLOT(Class, name, Sig) std::printf("slot %s::%s %ld\n", #Class, #name, slotOf(static_cast<Sig>(&Class::name)))
#define SIZE(T) std::printf("sizeof %s %zu\n", #T, sizeof(T))
#define OFFSET(T, f) std::printf("offset %s.%s %zu\n", #T, #f, offsetof(T, f))
#define ENUM(E) std::printf("enum %s %d\n", #E, static_cast<int>(E))

// Exposes the protected implementation pointer's offset of the shape-expression wrappers.
struct ExprBuilderProbe : IExprBuilder
{
    static size_t implOffset()
    {
        return offsetof(ExprBuilderProbe, mImpl);
    }
};
struct DimensionExprProbe : IDimensionExpr
{
    static size_t implOffset()
    {
        return offsetof(DimensionExprProbe, mImpl);
    }
};

void printInfo(char const* what, InterfaceInfo const& info)
{
    std::printf("info %s '%s' %d.%d\n", what, info.kind, info.major, info.minor);
}

// Minimal concrete classes, only to ask each interface for its identity.
struct StubV3 final : IPluginV3
{
    IPluginCapability* getCapabilityInterface(PluginCapabilityType) noexcept override { return nullptr; }
    IPluginV3* clone() noexcept override { return nullptr; }
};
struct StubCore final : IPluginV3OneCore
{
    char const* getPluginName() const noexcept override { return nullptr; }
    char const* getPluginVersion() const noexcept override { return nullptr; }
    char const* getPluginNamespace() const noexcept override { return nullptr; }
};
struct StubBuild final : IPluginV3OneBuild
{
    int32_t configurePlugin(DynamicPluginTensorDesc const*, int32_t, DynamicPluginTensorDesc const*,
                            int32_t) noexcept override { return 0; }
    int32_t getOutputDataTypes(DataType*, int32_t, DataType const*, int32_t) const noexcept override { return 0; }
    int32_t getOutputShapes(DimsExprs const*, int32_t, DimsExprs const*, int32_t, DimsExprs*, int32_t,
                            IExprBuilder&) noexcept override { return 0; }
    bool supportsFormatCombination(int32_t, DynamicPluginTensorDesc const*, int32_t, int32_t) noexcept override
    {
        return false;
    }
    int32_t getNbOutputs() const noexcept override { return 0; }
};
struct StubRuntime final : IPluginV3OneRuntime
{
    int32_t onShapeChange(PluginTensorDesc const*, int32_t, PluginTensorDesc const*, int32_t) noexcept override
    {
        return 0;
    }
    int32_t enqueue(PluginTensorDesc const*, PluginTensorDesc const*, void const* const*, void* const*, void*,
                    cudaStream_t) noexcept override { return 0; }
    IPluginV3* attachToContext(IPluginResourceContext*) noexcept override { return nullptr; }
    PluginFieldCollection const* getFieldsToSerialize() noexcept override { return nullptr; }
};
struct StubCreator final : IPluginCreatorV3One
{
    IPluginV3* createPlugin(char const*, PluginFieldCollection const*, TensorRTPhase) noexcept override
    {
        return nullptr;
    }
    PluginFieldCollection const* getFieldNames() noexcept override { return nullptr; }
    char const* getPluginName() const noexcept override { return nullptr; }
    char const* getPluginVersion() const noexcept override { return nullptr; }
    char const* getPluginNamespace() const noexcept override { return nullptr; }
};

} // namespace

int main()
{
    // IVersionedInterface and the V3 plugin interfaces.
    SLOT(IVersionedInterface, getAPILanguage, APILanguage (IVersionedInterface::*)() const noexcept);
    SLOT(IVersionedInterface, getInterfaceInfo, InterfaceInfo (IVersionedInterface::*)() const noexcept);
    SLOT(IPluginV3, getCapabilityInterface, IPluginCapability * (IPluginV3::*)(PluginCapabilityType) noexcept);
    SLOT(IPluginV3, clone, IPluginV3 * (IPluginV3::*)() noexcept);
    SLOT(IPluginV3OneCore, getInterfaceInfo, InterfaceInfo (IPluginV3OneCore::*)() const noexcept);
    SLOT(IPluginV3OneCore, getPluginName, char const* (IPluginV3OneCore::*)() const noexcept);
    SLOT(IPluginV3OneCore, getPluginVersion, char const* (IPluginV3OneCore::*)() const noexcept);
    SLOT(IPluginV3OneCore, getPluginNamespace, char const* (IPluginV3OneCore::*)() const noexcept);
    SLOT(IPluginV3OneBuild, configurePlugin,
         int32_t (IPluginV3OneBuild::*)(DynamicPluginTensorDesc const*, int32_t, DynamicPluginTensorDesc const*,
                                        int32_t) noexcept);
    SLOT(IPluginV3OneBuild, getOutputDataTypes,
         int32_t (IPluginV3OneBuild::*)(DataType*, int32_t, DataType const*, int32_t) const noexcept);
    SLOT(IPluginV3OneBuild, getOutputShapes,
         int32_t (IPluginV3OneBuild::*)(DimsExprs const*, int32_t, DimsExprs const*, int32_t, DimsExprs*, int32_t,
                                        IExprBuilder&) noexcept);
    SLOT(IPluginV3OneBuild, supportsFormatCombination,
         bool (IPluginV3OneBuild::*)(int32_t, DynamicPluginTensorDesc const*, int32_t, int32_t) noexcept);
    SLOT(IPluginV3OneBuild, getNbOutputs, int32_t (IPluginV3OneBuild::*)() const noexcept);
    SLOT(IPluginV3OneBuild, getWorkspaceSize,
         size_t (IPluginV3OneBuild::*)(DynamicPluginTensorDesc const*, int32_t, DynamicPluginTensorDesc const*,
                                       int32_t) const noexcept);
    SLOT(IPluginV3OneBuild, getValidTactics, int32_t (IPluginV3OneBuild::*)(int32_t*, int32_t) noexcept);
    SLOT(IPluginV3OneBuild, getNbTactics, int32_t (IPluginV3OneBuild::*)() noexcept);
    SLOT(IPluginV3OneBuild, getTimingCacheID, char const* (IPluginV3OneBuild::*)() noexcept);
    SLOT(IPluginV3OneBuild, getFormatCombinationLimit, int32_t (IPluginV3OneBuild::*)() noexcept);
    SLOT(IPluginV3OneBuild, getMetadataString, char const* (IPluginV3OneBuild::*)() noexcept);
    SLOT(IPluginV3OneRuntime, setTactic, int32_t (IPluginV3OneRuntime::*)(int32_t) noexcept);
    SLOT(IPluginV3OneRuntime, onShapeChange,
         int32_t (IPluginV3OneRuntime::*)(PluginTensorDesc const*, int32_t, PluginTensorDesc const*, int32_t) noexcept);
    SLOT(IPluginV3OneRuntime, enqueue,
         int32_t (IPluginV3OneRuntime::*)(PluginTensorDesc const*, PluginTensorDesc const*, void const* const*,
                                          void* const*, void*, cudaStream_t) noexcept);
    SLOT(IPluginV3OneRuntime, attachToContext, IPluginV3 * (IPluginV3OneRuntime::*)(IPluginResourceContext*) noexcept);
    SLOT(IPluginV3OneRuntime, getFieldsToSerialize, PluginFieldCollection const* (IPluginV3OneRuntime::*)() noexcept);

    // Creator.
    SLOT(IPluginCreatorV3One, getInterfaceInfo, InterfaceInfo (IPluginCreatorV3One::*)() const noexcept);
    SLOT(IPluginCreatorV3One, createPlugin,
         IPluginV3 * (IPluginCreatorV3One::*)(char const*, PluginFieldCollection const*, TensorRTPhase) noexcept);
    SLOT(IPluginCreatorV3One, getFieldNames, PluginFieldCollection const* (IPluginCreatorV3One::*)() noexcept);
    SLOT(IPluginCreatorV3One, getPluginName, char const* (IPluginCreatorV3One::*)() const noexcept);
    SLOT(IPluginCreatorV3One, getPluginVersion, char const* (IPluginCreatorV3One::*)() const noexcept);
    SLOT(IPluginCreatorV3One, getPluginNamespace, char const* (IPluginCreatorV3One::*)() const noexcept);

    // Context, logging.
    SLOT(IPluginResourceContext, getGpuAllocator, IGpuAllocator * (IPluginResourceContext::*)() const noexcept);
    SLOT(IPluginResourceContext, getErrorRecorder, IErrorRecorder * (IPluginResourceContext::*)() const noexcept);
    SLOT(ILogger, log, void (ILogger::*)(ILogger::Severity, char const*) noexcept);
    SLOT(ILoggerFinder, findLogger, ILogger * (ILoggerFinder::*)());

    // Registry (the test calls these on libnvinfer's object).
    SLOT(IPluginRegistry, registerCreator, bool (IPluginRegistry::*)(IPluginCreator&, char const* const) noexcept);
    SLOT(IPluginRegistry, getPluginCreatorList, IPluginCreator* const* (IPluginRegistry::*)(int32_t* const) const noexcept);
    SLOT(IPluginRegistry, getPluginCreator,
         IPluginCreator * (IPluginRegistry::*)(char const* const, char const* const, char const* const) noexcept);
    SLOT(IPluginRegistry, setErrorRecorder, void (IPluginRegistry::*)(IErrorRecorder* const) noexcept);
    SLOT(IPluginRegistry, getErrorRecorder, IErrorRecorder * (IPluginRegistry::*)() const noexcept);
    SLOT(IPluginRegistry, deregisterCreator, bool (IPluginRegistry::*)(IPluginCreator const&) noexcept);
    SLOT(IPluginRegistry, isParentSearchEnabled, bool (IPluginRegistry::*)() const);
    SLOT(IPluginRegistry, setParentSearchEnabled, void (IPluginRegistry::*)(bool const));
    SLOT(IPluginRegistry, loadLibrary, void* (IPluginRegistry::*)(char const*) noexcept);
    SLOT(IPluginRegistry, deregisterLibrary, void (IPluginRegistry::*)(void*) noexcept);
    SLOT(IPluginRegistry, registerCreator,
         bool (IPluginRegistry::*)(IPluginCreatorInterface&, char const* const) noexcept);
    SLOT(IPluginRegistry, getAllCreators,
         IPluginCreatorInterface* const* (IPluginRegistry::*)(int32_t* const) const noexcept);
    SLOT(IPluginRegistry, getCreator,
         IPluginCreatorInterface * (IPluginRegistry::*)(char const* const, char const* const, char const* const) noexcept);
    SLOT(IPluginRegistry, deregisterCreator, bool (IPluginRegistry::*)(IPluginCreatorInterface const&) noexcept);
    SLOT(IPluginRegistry, acquirePluginResource,
         IPluginResource * (IPluginRegistry::*)(char const*, IPluginResource*) noexcept);
    SLOT(IPluginRegistry, releasePluginResource, int32_t (IPluginRegistry::*)(char const*) noexcept);
    SLOT(IPluginRegistry, getAllCreatorsRecursive,
         IPluginCreatorInterface* const* (IPluginRegistry::*)(int32_t* const) noexcept);

    // Shape expressions: wrappers with an implementation pointer whose vtable libnvinfer provides.
    SLOT(apiv::VDimensionExpr, isConstant, bool (apiv::VDimensionExpr::*)() const);
    SLOT(apiv::VDimensionExpr, getConstantValue, int64_t (apiv::VDimensionExpr::*)() const);
    SLOT(apiv::VDimensionExpr, isSizeTensor, bool (apiv::VDimensionExpr::*)() const);
    SLOT(apiv::VExprBuilder, constant, IDimensionExpr const* (apiv::VExprBuilder::*)(int64_t));
    SLOT(apiv::VExprBuilder, operation,
         IDimensionExpr const* (apiv::VExprBuilder::*)(DimensionOperation, IDimensionExpr const&, IDimensionExpr const&));
    SLOT(apiv::VExprBuilder, declareSizeTensor,
         IDimensionExpr const* (apiv::VExprBuilder::*)(int32_t, IDimensionExpr const&, IDimensionExpr const&));
    std::printf("sizeof IExprBuilder %zu\n", sizeof(IExprBuilder));
    std::printf("offset IExprBuilder.mImpl %zu\n", ExprBuilderProbe::implOffset());
    std::printf("sizeof IDimensionExpr %zu\n", sizeof(IDimensionExpr));
    std::printf("offset IDimensionExpr.mImpl %zu\n", DimensionExprProbe::implOffset());

    // Plain structs.
    SIZE(Dims64);
    OFFSET(Dims64, nbDims);
    OFFSET(Dims64, d);
    std::printf("value Dims64::MAX_DIMS %d\n", static_cast<int>(Dims64::MAX_DIMS));
    SIZE(InterfaceInfo);
    OFFSET(InterfaceInfo, kind);
    OFFSET(InterfaceInfo, major);
    OFFSET(InterfaceInfo, minor);
    SIZE(PluginField);
    OFFSET(PluginField, name);
    OFFSET(PluginField, data);
    OFFSET(PluginField, type);
    OFFSET(PluginField, length);
    SIZE(PluginFieldCollection);
    OFFSET(PluginFieldCollection, nbFields);
    OFFSET(PluginFieldCollection, fields);
    SIZE(PluginTensorDesc);
    OFFSET(PluginTensorDesc, dims);
    OFFSET(PluginTensorDesc, type);
    OFFSET(PluginTensorDesc, format);
    OFFSET(PluginTensorDesc, scale);
    SIZE(DynamicPluginTensorDesc);
    OFFSET(DynamicPluginTensorDesc, desc);
    OFFSET(DynamicPluginTensorDesc, min);
    OFFSET(DynamicPluginTensorDesc, max);
    OFFSET(DynamicPluginTensorDesc, opt);
    SIZE(DimsExprs);
    OFFSET(DimsExprs, nbDims);
    OFFSET(DimsExprs, d);

    // Enumerators we use or hand out.
    ENUM(DataType::kFLOAT);
    ENUM(DataType::kHALF);
    ENUM(DataType::kINT8);
    ENUM(DataType::kINT32);
    ENUM(DataType::kBOOL);
    ENUM(DataType::kUINT8);
    ENUM(DataType::kFP8);
    ENUM(DataType::kBF16);
    ENUM(DataType::kINT64);
    ENUM(DataType::kINT4);
    ENUM(DataType::kFP4);
    ENUM(DataType::kE8M0);
    ENUM(TensorFormat::kLINEAR);
    ENUM(TensorFormat::kCHW2);
    ENUM(TensorFormat::kHWC8);
    ENUM(TensorFormat::kCHW4);
    ENUM(TensorFormat::kCHW16);
    ENUM(TensorFormat::kCHW32);
    ENUM(TensorFormat::kDHWC8);
    ENUM(TensorFormat::kCDHW32);
    ENUM(TensorFormat::kHWC);
    ENUM(TensorFormat::kDLA_LINEAR);
    ENUM(TensorFormat::kDLA_HWC4);
    ENUM(TensorFormat::kHWC16);
    ENUM(TensorFormat::kDHWC);
    ENUM(PluginFieldType::kFLOAT16);
    ENUM(PluginFieldType::kFLOAT32);
    ENUM(PluginFieldType::kFLOAT64);
    ENUM(PluginFieldType::kINT8);
    ENUM(PluginFieldType::kINT16);
    ENUM(PluginFieldType::kINT32);
    ENUM(PluginFieldType::kCHAR);
    ENUM(PluginFieldType::kDIMS);
    ENUM(PluginFieldType::kUNKNOWN);
    ENUM(PluginFieldType::kBF16);
    ENUM(PluginFieldType::kINT64);
    ENUM(TensorRTPhase::kBUILD);
    ENUM(TensorRTPhase::kRUNTIME);
    ENUM(PluginCapabilityType::kCORE);
    ENUM(PluginCapabilityType::kBUILD);
    ENUM(PluginCapabilityType::kRUNTIME);
    ENUM(DimensionOperation::kSUM);
    ENUM(DimensionOperation::kPROD);
    ENUM(DimensionOperation::kMAX);
    ENUM(DimensionOperation::kMIN);
    ENUM(DimensionOperation::kSUB);
    ENUM(DimensionOperation::kEQUAL);
    ENUM(DimensionOperation::kLESS);
    ENUM(DimensionOperation::kFLOOR_DIV);
    ENUM(DimensionOperation::kCEIL_DIV);
    ENUM(ILogger::Severity::kINTERNAL_ERROR);
    ENUM(ILogger::Severity::kERROR);
    ENUM(ILogger::Severity::kWARNING);
    ENUM(ILogger::Severity::kINFO);
    ENUM(ILogger::Severity::kVERBOSE);
    ENUM(APILanguage::kCPP);
    ENUM(APILanguage::kPYTHON);

    // Interface identities TensorRT checks (kind strings and versions).
    printInfo("IPluginV3", StubV3{}.getInterfaceInfo());
    printInfo("IPluginV3OneCore", StubCore{}.getInterfaceInfo());
    printInfo("IPluginV3OneBuild", StubBuild{}.getInterfaceInfo());
    printInfo("IPluginV3OneRuntime", StubRuntime{}.getInterfaceInfo());
    printInfo("IPluginCreatorV3One", StubCreator{}.getInterfaceInfo());
    std::printf("value IPluginV3OneBuild::kDEFAULT_FORMAT_COMBINATION_LIMIT %d\n",
                static_cast<int>(IPluginV3OneBuild::kDEFAULT_FORMAT_COMBINATION_LIMIT));
    return 0;
}

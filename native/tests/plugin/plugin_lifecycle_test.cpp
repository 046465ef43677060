// Lifecycle test of the FcosDetect plugin, driven the way TensorRT drives an IPluginV3 plugin, with our own
// harness objects (expression builder, resource context, logger finder), built for the EMULATED CUDA flavour
// (fcos4j_plugin_lifecycle) and for the real one (fcos4j_plugin_lifecycle_gpu, skipped without a GPU):
//   creator.createPlugin(kBUILD) -> capabilities -> output types/shapes -> format negotiation ->
//   configurePlugin -> getWorkspaceSize(profile max) -> attachToContext -> onShapeChange -> enqueue on
//   (emulated) device memory -> outputs compared with the host reference (fcos4j::referenceRun) ->
//   getFieldsToSerialize -> createPlugin(kRUNTIME) from a deep copy -> same outputs.
// Plus the error paths (bad fields, types, shapes), each checked for a failure code and a log message
// naming the culprit.
// Standard headers first: the emulation layer's CUDA qualifier macros must not leak into them.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <NvInferRuntime.h>

#include "core/engine.h"
#include "plugin/fcos_detect_plugin.h"
#include "reference/reference.h"

extern "C" void setLoggerFinder(nvinfer1::ILoggerFinder* finder);
extern "C" nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators);

namespace {

using nvinfer1::DataType;
using nvinfer1::Dims;
using nvinfer1::DynamicPluginTensorDesc;
using nvinfer1::PluginField;
using nvinfer1::PluginFieldCollection;
using nvinfer1::PluginFieldType;
using nvinfer1::PluginTensorDesc;
using nvinfer1::TensorFormat;

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

// ----- harness: logger -------------------------------------------------------------------------------------

class CapturingLogger final : public nvinfer1::ILogger
{
public:
    void log(Severity severity, char const* msg) noexcept override
    {
        messages.emplace_back(severity, msg);
    }
    // True if some message at `severity` contains every needle; clears the log.
    bool saw(Severity severity, std::initializer_list<char const*> needles)
    {
        bool found = false;
        for (auto const& m : messages)
        {
            bool all = m.first == severity;
            for (char const* n : needles)
            {
                all = all && m.second.find(n) != std::string::npos;
            }
            found = found || all;
        }
        if (!found)
        {
            std::fprintf(stderr, "  expected a log message with:");
            for (char const* n : needles)
            {
                std::fprintf(stderr, " '%s'", n);
            }
            std::fprintf(stderr, "; got %zu message(s)%s\n", messages.size(), messages.empty() ? "" : ":");
            for (auto const& m : messages)
            {
                std::fprintf(stderr, "    [%d] %s\n", static_cast<int>(m.first), m.second.c_str());
            }
        }
        messages.clear();
        return found;
    }
    std::vector<std::pair<Severity, std::string>> messages;
};

class Finder final : public nvinfer1::ILoggerFinder
{
public:
    explicit Finder(nvinfer1::ILogger* logger)
        : mLogger(logger)
    {
    }
    nvinfer1::ILogger* findLogger() override
    {
        return mLogger;
    }

private:
    nvinfer1::ILogger* mLogger;
};

CapturingLogger gLogger;
using Sev = nvinfer1::ILogger::Severity;

// ----- harness: shape expressions (TensorRT's are opaque; ours evaluate constants, keep symbols) ----------

class Expr;

class ExprImpl final : public nvinfer1::apiv::VDimensionExpr
{
public:
    ExprImpl(bool constant, int64_t value, std::string name)
        : mConstant(constant)
        , mValue(value)
        , mName(std::move(name))
    {
    }
    bool isConstant() const override
    {
        return mConstant;
    }
    int64_t getConstantValue() const override
    {
        return mConstant ? mValue : -1;
    }
    bool isSizeTensor() const override
    {
        return false;
    }
    std::string const& name() const
    {
        return mName;
    }

private:
    bool mConstant;
    int64_t mValue;
    std::string mName;
};

class Expr final : public nvinfer1::IDimensionExpr
{
public:
    Expr(bool constant, int64_t value, std::string name)
        : mImplObject(constant, value, std::move(name))
    {
        mImpl = &mImplObject;
    }
    ~Expr() override = default;
    std::string const& name() const
    {
        return mImplObject.name();
    }

private:
    ExprImpl mImplObject;
};

class BuilderImpl final : public nvinfer1::apiv::VExprBuilder
{
public:
    nvinfer1::IDimensionExpr const* constant(int64_t value) override
    {
        pool.emplace_back(new Expr(true, value, std::to_string(value)));
        return pool.back().get();
    }
    nvinfer1::IDimensionExpr const* operation(nvinfer1::DimensionOperation, nvinfer1::IDimensionExpr const&,
                                              nvinfer1::IDimensionExpr const&) override
    {
        ++operations;  // the plugin needs no arithmetic on shapes
        return nullptr;
    }
    nvinfer1::IDimensionExpr const* declareSizeTensor(int32_t, nvinfer1::IDimensionExpr const&,
                                                      nvinfer1::IDimensionExpr const&) override
    {
        return nullptr;
    }
    nvinfer1::IDimensionExpr const* symbol(std::string name)
    {
        pool.emplace_back(new Expr(false, 0, std::move(name)));
        return pool.back().get();
    }
    std::deque<std::unique_ptr<Expr>> pool;
    int operations = 0;
};

class ExprBuilder final : public nvinfer1::IExprBuilder
{
public:
    ExprBuilder()
    {
        mImpl = &impl;
    }
    ~ExprBuilder() override = default;
    BuilderImpl impl;
};

std::string exprName(nvinfer1::IDimensionExpr const* e)
{
    return e == nullptr ? "null" : static_cast<Expr const*>(e)->name();
}

class ResourceContext final : public nvinfer1::IPluginResourceContext
{
public:
    nvinfer1::IGpuAllocator* getGpuAllocator() const noexcept override
    {
        return nullptr;
    }
    nvinfer1::IErrorRecorder* getErrorRecorder() const noexcept override
    {
        return nullptr;
    }
};

// ----- a test case: heads on the host ---------------------------------------------------------------------

constexpr int kLevels = 5;
constexpr int kStrides[kLevels] = {8, 16, 32, 64, 128};

struct Case
{
    fcos4j::Convention convention;
    bool half;
    int batch;
    int classes;
    int inputH;
    int inputW;
    int heights[kLevels];
    int widths[kLevels];
    // Host data, float or half bits, per tensor (cls 0..4, reg 0..4, ctr 0..4).
    std::vector<std::vector<float>> f32;
    std::vector<std::vector<uint16_t>> f16;
    std::vector<float> info;

    int64_t channels(int t) const
    {
        return t < kLevels ? classes : (t < 2 * kLevels ? 4 : 1);
    }
    size_t count(int t) const
    {
        int const l = t % kLevels;
        return static_cast<size_t>(batch) * static_cast<size_t>(channels(t)) * static_cast<size_t>(heights[l])
            * static_cast<size_t>(widths[l]);
    }
    size_t elementSize() const
    {
        return half ? 2 : 4;
    }
    void const* host(int t) const
    {
        return half ? static_cast<void const*>(f16[static_cast<size_t>(t)].data())
                    : static_cast<void const*>(f32[static_cast<size_t>(t)].data());
    }
};

Case makeCase(fcos4j::Convention convention, bool half, int batch, int classes, int inputH, int inputW,
              uint32_t seed)
{
    Case c{};
    c.convention = convention;
    c.half = half;
    c.batch = batch;
    c.classes = classes;
    c.inputH = inputH;
    c.inputW = inputW;
    // FPN sizes for a padded input (COMMON.md): /8, /16, /32, then halving with ceil.
    for (int l = 0; l < kLevels; ++l)
    {
        if (l < 3)
        {
            c.heights[l] = inputH / kStrides[l];
            c.widths[l] = inputW / kStrides[l];
        }
        else
        {
            c.heights[l] = (c.heights[l - 1] + 1) / 2;
            c.widths[l] = (c.widths[l - 1] + 1) / 2;
        }
    }
    std::mt19937 rng(seed);
    std::normal_distribution<float> logit(convention == fcos4j::Convention::kTorchvision ? -1.0F : -3.5F, 1.5F);
    std::uniform_real_distribution<float> dist(0.0F, 48.0F);
    std::normal_distribution<float> centerness(0.0F, 1.5F);
    for (int t = 0; t < 3 * kLevels; ++t)
    {
        std::vector<float> v(c.count(t));
        for (float& x : v)
        {
            x = t < kLevels ? logit(rng) : (t < 2 * kLevels ? dist(rng) : centerness(rng));
        }
        if (half)
        {
            std::vector<uint16_t> h(v.size());
            for (size_t i = 0; i < v.size(); ++i)
            {
                h[i] = __half_as_ushort(__float2half_rn(v[i]));
            }
            c.f16.push_back(std::move(h));
        }
        c.f32.push_back(std::move(v));
    }
    // Each image: an original size the input was resized from (scale ~0.6 .. 1.5), then padded.
    for (int n = 0; n < batch; ++n)
    {
        int const resizedH = inputH - 8 * n;
        int const resizedW = inputW - 16 * n;
        int const originalH = resizedH * (5 + n) / 4;
        int const originalW = resizedW * (3 + n) / 4;
        float row[4];
        fcos4j::imageInfoFor(convention, originalH, originalW, resizedH, resizedW, row);
        c.info.insert(c.info.end(), row, row + 4);
    }
    return c;
}

// ----- device buffers (emulated cudaMalloc) ----------------------------------------------------------------

struct DeviceBuffer
{
    void* ptr = nullptr;
    size_t bytes = 0;
    explicit DeviceBuffer(size_t n)
        : bytes(n)
    {
        if (cudaMalloc(&ptr, n == 0 ? 1 : n) != cudaSuccess)
        {
            std::fprintf(stderr, "cudaMalloc(%zu) failed\n", n);
            std::abort();
        }
    }
    ~DeviceBuffer()
    {
        cudaFree(ptr);
    }
    DeviceBuffer(DeviceBuffer const&) = delete;
    DeviceBuffer& operator=(DeviceBuffer const&) = delete;
};

struct Outputs
{
    std::vector<int32_t> num;
    std::vector<float> boxes;
    std::vector<float> scores;
    std::vector<int32_t> classes;
};

bool sameBits(std::vector<float> const& a, std::vector<float> const& b)
{
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

bool sameOutputs(Outputs const& a, Outputs const& b)
{
    return a.num == b.num && a.classes == b.classes && sameBits(a.boxes, b.boxes) && sameBits(a.scores, b.scores);
}

// ----- descriptors as TensorRT would build them --------------------------------------------------------------

Dims dims(std::initializer_list<int64_t> extents)
{
    Dims d{};
    d.nbDims = static_cast<int32_t>(extents.size());
    int i = 0;
    for (int64_t e : extents)
    {
        d.d[i++] = e;
    }
    return d;
}

// Input dims of the case with the batch replaced by `batch` (-1: unknown at build time).
std::vector<Dims> inputDims(Case const& c, int64_t batch)
{
    std::vector<Dims> v;
    for (int t = 0; t < 3 * kLevels; ++t)
    {
        int const l = t % kLevels;
        v.push_back(dims({batch, c.channels(t), c.heights[l], c.widths[l]}));
    }
    v.push_back(dims({batch, 4}));
    return v;
}

std::vector<Dims> outputDims(int64_t batch, int64_t k)
{
    return {dims({batch}), dims({batch, k, 4}), dims({batch, k}), dims({batch, k})};
}

DataType headType(Case const& c)
{
    return c.half ? DataType::kHALF : DataType::kFLOAT;
}

std::vector<DataType> ioTypes(Case const& c)
{
    std::vector<DataType> t(3 * kLevels, headType(c));
    t.push_back(DataType::kFLOAT);
    t.insert(t.end(), {DataType::kINT32, DataType::kFLOAT, DataType::kFLOAT, DataType::kINT32});
    return t;
}

std::vector<PluginTensorDesc> descs(std::vector<Dims> const& d, std::vector<DataType> const& types, size_t typeOffset)
{
    std::vector<PluginTensorDesc> v;
    for (size_t i = 0; i < d.size(); ++i)
    {
        PluginTensorDesc p{};
        p.dims = d[i];
        p.type = types[typeOffset + i];
        p.format = TensorFormat::kLINEAR;
        p.scale = 1.0F;
        v.push_back(p);
    }
    return v;
}

std::vector<DynamicPluginTensorDesc> dynDescs(std::vector<PluginTensorDesc> const& d, std::vector<Dims> const& min,
                                              std::vector<Dims> const& max)
{
    std::vector<DynamicPluginTensorDesc> v;
    for (size_t i = 0; i < d.size(); ++i)
    {
        DynamicPluginTensorDesc x{};
        x.desc = d[i];
        x.min = min[i];
        x.max = max[i];
        x.opt = max[i];
        v.push_back(x);
    }
    return v;
}

// ----- plugin access ----------------------------------------------------------------------------------------

nvinfer1::IPluginCreatorV3One* creator()
{
    int32_t n = 0;
    nvinfer1::IPluginCreatorInterface* const* list = getCreators(n);
    CHECK(n == 1);
    return static_cast<nvinfer1::IPluginCreatorV3One*>(list[0]);
}

template <typename T>
T* capability(nvinfer1::IPluginV3* p, nvinfer1::PluginCapabilityType type)
{
    return static_cast<T*>(p->getCapabilityInterface(type));
}

// Deep copy of serialized fields, like an engine file keeps them.
struct FieldsCopy
{
    std::vector<std::string> names;
    std::vector<std::vector<unsigned char>> data;
    std::vector<PluginField> fields;
    PluginFieldCollection fc{};

    explicit FieldsCopy(PluginFieldCollection const* src)
    {
        for (int32_t i = 0; src != nullptr && i < src->nbFields; ++i)
        {
            PluginField const& f = src->fields[i];
            size_t const elem = f.type == PluginFieldType::kCHAR ? 1 : 4;  // we serialize int32/float32/char
            names.emplace_back(f.name);
            auto const* bytes = static_cast<unsigned char const*>(f.data);
            data.emplace_back(bytes, bytes + elem * static_cast<size_t>(f.length));
        }
        for (size_t i = 0; i < names.size(); ++i)
        {
            fields.emplace_back(names[i].c_str(), data[i].data(), src->fields[i].type, src->fields[i].length);
        }
        fc.nbFields = static_cast<int32_t>(fields.size());
        fc.fields = fields.data();
    }
};

// Runs one enqueue of `runtimePlugin` on the case and returns the outputs (host copies).
Outputs runOnDevice(nvinfer1::IPluginV3OneRuntime* rt, Case const& c, int k, size_t workspaceBytes, int32_t* rc)
{
    std::vector<std::unique_ptr<DeviceBuffer>> in;
    std::vector<void const*> inPtrs;
    for (int t = 0; t < 3 * kLevels; ++t)
    {
        size_t const bytes = c.count(t) * c.elementSize();
        in.emplace_back(new DeviceBuffer(bytes));
        cudaMemcpy(in.back()->ptr, c.host(t), bytes, cudaMemcpyHostToDevice);
        inPtrs.push_back(in.back()->ptr);
    }
    in.emplace_back(new DeviceBuffer(c.info.size() * sizeof(float)));
    cudaMemcpy(in.back()->ptr, c.info.data(), c.info.size() * sizeof(float), cudaMemcpyHostToDevice);
    inPtrs.push_back(in.back()->ptr);

    size_t const n = static_cast<size_t>(c.batch);
    size_t const kk = static_cast<size_t>(k);
    DeviceBuffer num(n * 4);
    DeviceBuffer boxes(n * kk * 16);
    DeviceBuffer scores(n * kk * 4);
    DeviceBuffer classes(n * kk * 4);
    // Poison the outputs: the plugin must write every slot (unused ones as zero).
    cudaMemset(num.ptr, 0x5A, num.bytes);
    cudaMemset(boxes.ptr, 0x5A, boxes.bytes);
    cudaMemset(scores.ptr, 0x5A, scores.bytes);
    cudaMemset(classes.ptr, 0x5A, classes.bytes);
    void* outPtrs[4] = {num.ptr, boxes.ptr, scores.ptr, classes.ptr};
    DeviceBuffer workspace(workspaceBytes);

    std::vector<DataType> const types = ioTypes(c);
    std::vector<PluginTensorDesc> const inDesc = descs(inputDims(c, c.batch), types, 0);
    std::vector<PluginTensorDesc> const outDesc = descs(outputDims(c.batch, k), types, inDesc.size());
    cudaStream_t stream = nullptr;
    cudaStreamCreate(&stream);
    *rc = rt->onShapeChange(inDesc.data(), static_cast<int32_t>(inDesc.size()), outDesc.data(), 4);
    if (*rc == 0)
    {
        *rc = rt->enqueue(inDesc.data(), outDesc.data(), inPtrs.data(), outPtrs, workspace.ptr, stream);
    }
    CHECK(cudaStreamSynchronize(stream) == cudaSuccess);
    cudaStreamDestroy(stream);

    Outputs o;
    o.num.resize(n);
    o.boxes.resize(n * kk * 4);
    o.scores.resize(n * kk);
    o.classes.resize(n * kk);
    cudaMemcpy(o.num.data(), num.ptr, num.bytes, cudaMemcpyDeviceToHost);
    cudaMemcpy(o.boxes.data(), boxes.ptr, boxes.bytes, cudaMemcpyDeviceToHost);
    cudaMemcpy(o.scores.data(), scores.ptr, scores.bytes, cudaMemcpyDeviceToHost);
    cudaMemcpy(o.classes.data(), classes.ptr, classes.bytes, cudaMemcpyDeviceToHost);
    return o;
}

Outputs runReference(fcos4j::Params const& p, Case const& c)
{
    fcos4j::Shape s{};
    s.batch = c.batch;
    s.num_classes = c.classes;
    s.num_levels = kLevels;
    void const* cls[kLevels];
    void const* reg[kLevels];
    void const* ctr[kLevels];
    for (int l = 0; l < kLevels; ++l)
    {
        s.heights[l] = c.heights[l];
        s.widths[l] = c.widths[l];
        cls[l] = c.host(l);
        reg[l] = c.host(kLevels + l);
        ctr[l] = c.host(2 * kLevels + l);
    }
    size_t const n = static_cast<size_t>(c.batch);
    size_t const k = static_cast<size_t>(p.max_detections);
    Outputs o;
    o.num.resize(n);
    o.boxes.resize(n * k * 4);
    o.scores.resize(n * k);
    o.classes.resize(n * k);
    fcos4j::Status const st = fcos4j::referenceRun(p, s, c.half ? fcos4j::DataType::kFloat16 : fcos4j::DataType::kFloat32,
                                                   cls, reg, ctr, c.info.data(), o.num.data(), o.boxes.data(),
                                                   o.scores.data(), o.classes.data(), nullptr);
    CHECK(st.code == fcos4j::kOk);
    return o;
}

// ----- the lifecycle -------------------------------------------------------------------------------------

void lifecycle(fcos4j::Convention convention, bool half, uint32_t seed)
{
    char const* const convName = fcos4j::plugin::conventionName(convention);
    std::printf("lifecycle: %s, %s heads, seed %u\n", convName, half ? "fp16" : "fp32", seed);
    int const maxBatch = 3;
    Case const c = makeCase(convention, half, 2, 7, 96, 160, seed);
    // fp32 runs keep more slots than NMS leaves (zero-filled tail); fp16 runs hit the cap.
    int32_t const k = half ? 40 : 2000;  // 5 levels x nms_pre 300 < 2000

    // 1. Build phase: fields as an ONNX node carries them (convention by name).
    float const score = convention == fcos4j::Convention::kTorchvision ? 0.2F : 0.05F;
    int32_t const nmsPre = 300;
    float const iou = 0.55F;
    int32_t const strides[kLevels] = {8, 16, 32, 64, 128};
    PluginField const fields[] = {
        {"convention", convName, PluginFieldType::kCHAR, static_cast<int32_t>(std::strlen(convName))},
        {"score_threshold", &score, PluginFieldType::kFLOAT32, 1},
        {"nms_pre", &nmsPre, PluginFieldType::kINT32, 1},
        {"iou_threshold", &iou, PluginFieldType::kFLOAT32, 1},
        {"max_detections", &k, PluginFieldType::kINT32, 1},
        {"strides", strides, PluginFieldType::kINT32, kLevels},
    };
    PluginFieldCollection const fc{6, fields};
    nvinfer1::IPluginV3* const built = creator()->createPlugin("fcos_detect", &fc, nvinfer1::TensorRTPhase::kBUILD);
    CHECK(built != nullptr);
    if (built == nullptr)
    {
        return;
    }
    auto* const core = capability<nvinfer1::IPluginV3OneCore>(built, nvinfer1::PluginCapabilityType::kCORE);
    auto* const build = capability<nvinfer1::IPluginV3OneBuild>(built, nvinfer1::PluginCapabilityType::kBUILD);
    auto* const runtime = capability<nvinfer1::IPluginV3OneRuntime>(built, nvinfer1::PluginCapabilityType::kRUNTIME);
    CHECK(std::strcmp(built->getInterfaceInfo().kind, "PLUGIN") == 0);
    CHECK(std::strcmp(core->getInterfaceInfo().kind, "PLUGIN_V3ONE_CORE") == 0);
    CHECK(std::strcmp(build->getInterfaceInfo().kind, "PLUGIN_V3ONE_BUILD") == 0);
    CHECK(std::strcmp(runtime->getInterfaceInfo().kind, "PLUGIN_V3ONE_RUNTIME") == 0);
    CHECK(std::strcmp(core->getPluginName(), "FcosDetect") == 0);
    CHECK(std::strcmp(core->getPluginVersion(), "1") == 0);
    CHECK(std::strcmp(core->getPluginNamespace(), "fcos4j") == 0);
    CHECK(build->getNbOutputs() == 4);

    // Output types.
    std::vector<DataType> const types = ioTypes(c);
    DataType outTypes[4];
    CHECK(build->getOutputDataTypes(outTypes, 4, types.data(), 16) == 0);
    CHECK(outTypes[0] == DataType::kINT32 && outTypes[1] == DataType::kFLOAT && outTypes[2] == DataType::kFLOAT
          && outTypes[3] == DataType::kINT32);

    // Output shapes: [N], [N,K,4], [N,K], [N,K] with N the symbolic batch of the inputs.
    ExprBuilder eb;
    nvinfer1::IDimensionExpr const* const batchSym = eb.impl.symbol("N");
    std::vector<nvinfer1::DimsExprs> inExprs(16);
    for (int t = 0; t < 16; ++t)
    {
        std::vector<Dims> const d = inputDims(c, 0);
        inExprs[static_cast<size_t>(t)].nbDims = d[static_cast<size_t>(t)].nbDims;
        inExprs[static_cast<size_t>(t)].d[0] = batchSym;
        for (int i = 1; i < d[static_cast<size_t>(t)].nbDims; ++i)
        {
            inExprs[static_cast<size_t>(t)].d[i] = eb.impl.constant(d[static_cast<size_t>(t)].d[i]);
        }
    }
    nvinfer1::DimsExprs outExprs[4]{};
    CHECK(build->getOutputShapes(inExprs.data(), 16, nullptr, 0, outExprs, 4, eb) == 0);
    std::string const kName = std::to_string(k);
    CHECK(outExprs[0].nbDims == 1 && exprName(outExprs[0].d[0]) == "N");
    CHECK(outExprs[1].nbDims == 3 && exprName(outExprs[1].d[0]) == "N" && exprName(outExprs[1].d[1]) == kName
          && exprName(outExprs[1].d[2]) == "4");
    CHECK(outExprs[2].nbDims == 2 && exprName(outExprs[2].d[0]) == "N" && exprName(outExprs[2].d[1]) == kName);
    CHECK(outExprs[3].nbDims == 2 && exprName(outExprs[3].d[0]) == "N" && exprName(outExprs[3].d[1]) == kName);
    CHECK(outExprs[1].d[1]->isConstant() && outExprs[1].d[1]->getConstantValue() == k);
    CHECK(eb.impl.operations == 0);

    // Format negotiation, position by position as TensorRT does.
    std::vector<PluginTensorDesc> inDesc = descs(inputDims(c, -1), types, 0);
    std::vector<PluginTensorDesc> outDesc = descs(outputDims(-1, k), types, 16);
    std::vector<PluginTensorDesc> all = inDesc;
    all.insert(all.end(), outDesc.begin(), outDesc.end());
    std::vector<Dims> const minIn = inputDims(c, 1);
    std::vector<Dims> const maxIn = inputDims(c, maxBatch);
    std::vector<Dims> const minOut = outputDims(1, k);
    std::vector<Dims> const maxOut = outputDims(maxBatch, k);
    std::vector<Dims> minAll = minIn;
    minAll.insert(minAll.end(), minOut.begin(), minOut.end());
    std::vector<Dims> maxAll = maxIn;
    maxAll.insert(maxAll.end(), maxOut.begin(), maxOut.end());
    std::vector<DynamicPluginTensorDesc> io = dynDescs(all, minAll, maxAll);
    for (int32_t pos = 0; pos < 20; ++pos)
    {
        CHECK(build->supportsFormatCombination(pos, io.data(), 16, 4));
    }
    {
        std::vector<DynamicPluginTensorDesc> bad = io;
        bad[3].desc.format = TensorFormat::kCHW32;  // a vectorized format for cls_3
        CHECK(!build->supportsFormatCombination(3, bad.data(), 16, 4));
        bad = io;
        bad[7].desc.type = half ? DataType::kFLOAT : DataType::kHALF;  // reg_2 disagrees with cls_0
        CHECK(!build->supportsFormatCombination(7, bad.data(), 16, 4));
        bad = io;
        bad[15].desc.type = DataType::kHALF;  // image_info must stay fp32
        CHECK(!build->supportsFormatCombination(15, bad.data(), 16, 4));
        bad = io;
        bad[16].desc.type = DataType::kFLOAT;  // num_detections is int32
        CHECK(!build->supportsFormatCombination(16, bad.data(), 16, 4));
        bad = io;
        bad[0].desc.type = DataType::kINT8;
        CHECK(!build->supportsFormatCombination(0, bad.data(), 16, 4));
        CHECK(!build->supportsFormatCombination(20, io.data(), 16, 4));
    }
    std::vector<DynamicPluginTensorDesc> const dynIn(io.begin(), io.begin() + 16);
    std::vector<DynamicPluginTensorDesc> const dynOut(io.begin() + 16, io.end());
    CHECK(build->configurePlugin(dynIn.data(), 16, dynOut.data(), 4) == 0);
    CHECK(gLogger.messages.empty());

    // Workspace for the profile's max batch, as the engine would reserve it.
    size_t const workspace = build->getWorkspaceSize(dynIn.data(), 16, dynOut.data(), 4);
    fcos4j::Params expectedParams{};
    expectedParams.convention = convention;
    expectedParams.score_threshold = score;
    expectedParams.nms_pre = nmsPre;
    expectedParams.iou_threshold = iou;
    expectedParams.max_detections = k;
    expectedParams.num_levels = kLevels;
    for (int l = 0; l < kLevels; ++l)
    {
        expectedParams.strides[l] = strides[l];
    }
    fcos4j::Shape maxShape{};
    maxShape.batch = maxBatch;
    maxShape.num_classes = c.classes;
    maxShape.num_levels = kLevels;
    for (int l = 0; l < kLevels; ++l)
    {
        maxShape.heights[l] = c.heights[l];
        maxShape.widths[l] = c.widths[l];
    }
    CHECK(workspace > 0);
    CHECK(workspace == fcos4j::workspaceSize(expectedParams, maxShape));

    // 2. Runtime: a per-context clone, shape change, enqueue; compare with the host reference.
    ResourceContext context;
    nvinfer1::IPluginV3* const attached = runtime->attachToContext(&context);
    CHECK(attached != nullptr && attached != built);
    auto* const rt = capability<nvinfer1::IPluginV3OneRuntime>(attached, nvinfer1::PluginCapabilityType::kRUNTIME);
    int32_t rc = -1;
    Outputs const first = runOnDevice(rt, c, k, workspace, &rc);
    CHECK(rc == 0);
    Outputs const expected = runReference(expectedParams, c);
    CHECK(sameOutputs(first, expected));
    int total = 0;
    for (int32_t v : first.num)
    {
        total += v;
    }
    std::printf("  detections per image: %d, %d (reference: %d, %d)\n", first.num[0], first.num[1],
                expected.num[0], expected.num[1]);
    CHECK(total > 0);  // the case is meant to produce detections
    CHECK(half ? (first.num[0] == k && first.num[1] == k) : (first.num[0] < k && first.num[1] < k));
    // Unused slots are zero (the poisoned buffers were overwritten).
    bool tailZero = true;
    for (size_t n = 0; n < 2; ++n)
    {
        for (size_t i = static_cast<size_t>(first.num[n]); i < static_cast<size_t>(k); ++i)
        {
            size_t const slot = n * static_cast<size_t>(k) + i;
            tailZero = tailZero && first.scores[slot] == 0.0F && first.classes[slot] == 0 && first.boxes[4 * slot] == 0.0F
                && first.boxes[4 * slot + 3] == 0.0F;
        }
    }
    CHECK(tailZero);
    // Scores descending within each image.
    bool sorted = true;
    for (size_t n = 0; n < 2; ++n)
    {
        for (int32_t i = 1; i < first.num[n]; ++i)
        {
            size_t const slot = n * static_cast<size_t>(k) + static_cast<size_t>(i);
            sorted = sorted && first.scores[slot - 1] >= first.scores[slot];
        }
    }
    CHECK(sorted);

    // Dynamic batch: the same context plugin with the profile's other batch sizes, same workspace.
    for (int batch : {1, maxBatch})
    {
        Case const other = makeCase(convention, half, batch, 7, 96, 160, seed + 1000U * static_cast<uint32_t>(batch));
        Outputs const got = runOnDevice(rt, other, k, workspace, &rc);
        CHECK(rc == 0);
        CHECK(sameOutputs(got, runReference(expectedParams, other)));
    }

    // 3. Serialize, drop every instance, recreate as a deserializing runtime would: same outputs.
    FieldsCopy const saved(rt->getFieldsToSerialize());
    CHECK(saved.fc.nbFields == 6);
    delete attached;
    delete built;
    nvinfer1::IPluginV3* const restored = creator()->createPlugin("fcos_detect", &saved.fc,
                                                                  nvinfer1::TensorRTPhase::kRUNTIME);
    CHECK(restored != nullptr);
    if (restored == nullptr)
    {
        return;
    }
    auto* const rt2 = capability<nvinfer1::IPluginV3OneRuntime>(restored, nvinfer1::PluginCapabilityType::kRUNTIME);
    nvinfer1::IPluginV3* const attached2 = rt2->attachToContext(&context);
    auto* const rt3 = capability<nvinfer1::IPluginV3OneRuntime>(attached2, nvinfer1::PluginCapabilityType::kRUNTIME);
    Outputs const second = runOnDevice(rt3, c, k, workspace, &rc);
    CHECK(rc == 0);
    CHECK(sameOutputs(first, second));
    FieldsCopy const savedAgain(rt3->getFieldsToSerialize());
    CHECK(savedAgain.data == saved.data && savedAgain.names == saved.names);

    // 4. A NaN in image 1's cls_2 flags only image 1 (num_detections = -1, zeroed slots).
    Case poisoned = c;
    size_t const hw2 = static_cast<size_t>(c.heights[2]) * static_cast<size_t>(c.widths[2]);
    size_t const at = 1 * static_cast<size_t>(c.classes) * hw2 + 3 * hw2 + 1;
    if (half)
    {
        poisoned.f16[2][at] = 0x7E00;  // half NaN
    }
    else
    {
        poisoned.f32[2][at] = std::nanf("");
    }
    Outputs const bad = runOnDevice(rt3, poisoned, k, workspace, &rc);
    CHECK(rc == 0);  // enqueue itself succeeds; the flag is data (no host sync inside the plugin)
    CHECK(bad.num[0] == first.num[0] && bad.num[1] == -1);
    bool zeroed = true;
    for (size_t i = static_cast<size_t>(k); i < 2 * static_cast<size_t>(k); ++i)
    {
        zeroed = zeroed && bad.scores[i] == 0.0F && bad.classes[i] == 0;
    }
    CHECK(zeroed);
    delete attached2;
    delete restored;
}

// ----- error paths -----------------------------------------------------------------------------------------

void errorPaths()
{
    std::printf("error paths\n");
    gLogger.messages.clear();
    nvinfer1::IPluginCreatorV3One* const cr = creator();
    CHECK(std::strcmp(cr->getInterfaceInfo().kind, "PLUGIN CREATOR_V3ONE") == 0);
    PluginFieldCollection const* const names = cr->getFieldNames();
    CHECK(names != nullptr && names->nbFields == 6);

    // Bad fields: nullptr and a message naming the field.
    char const unknown[] = "yolo";
    PluginField const f1[] = {{"convention", unknown, PluginFieldType::kCHAR, 4}};
    PluginFieldCollection const fc1{1, f1};
    CHECK(cr->createPlugin("L1", &fc1, nvinfer1::TensorRTPhase::kBUILD) == nullptr);
    CHECK(gLogger.saw(Sev::kERROR, {"L1", "convention", "yolo"}));
    int32_t const nineStrides[9] = {8, 16, 32, 64, 128, 256, 512, 1024, 2048};
    PluginField const f2[] = {{"strides", nineStrides, PluginFieldType::kINT32, 9}};
    PluginFieldCollection const fc2{1, f2};
    CHECK(cr->createPlugin("L2", &fc2, nvinfer1::TensorRTPhase::kBUILD) == nullptr);
    CHECK(gLogger.saw(Sev::kERROR, {"L2", "strides"}));
    float const badIou = 1.5F;
    PluginField const f3[] = {{"iou_threshold", &badIou, PluginFieldType::kFLOAT32, 1}};
    PluginFieldCollection const fc3{1, f3};
    CHECK(cr->createPlugin("L3", &fc3, nvinfer1::TensorRTPhase::kBUILD) == nullptr);
    CHECK(gLogger.saw(Sev::kERROR, {"L3", "iou_threshold"}));
    int32_t const maxDet = 10;
    PluginField const f4[] = {{"max_detections", &maxDet, PluginFieldType::kFLOAT32, 1}};
    PluginFieldCollection const fc4{1, f4};
    CHECK(cr->createPlugin("L4", &fc4, nvinfer1::TensorRTPhase::kBUILD) == nullptr);
    CHECK(gLogger.saw(Sev::kERROR, {"L4", "max_detections", "float32"}));

    // Unknown field: accepted with a warning; no fields at all: mmdet defaults.
    int32_t const one = 1;
    PluginField const f5[] = {{"plugin_flavour", &one, PluginFieldType::kINT32, 1}};
    PluginFieldCollection const fc5{1, f5};
    nvinfer1::IPluginV3* const p = cr->createPlugin("L5", &fc5, nvinfer1::TensorRTPhase::kBUILD);
    CHECK(p != nullptr);
    CHECK(gLogger.saw(Sev::kWARNING, {"L5", "plugin_flavour"}));
    if (p == nullptr)
    {
        return;
    }
    auto* const build = capability<nvinfer1::IPluginV3OneBuild>(p, nvinfer1::PluginCapabilityType::kBUILD);
    auto* const runtime = capability<nvinfer1::IPluginV3OneRuntime>(p, nvinfer1::PluginCapabilityType::kRUNTIME);
    FieldsCopy const defaults(runtime->getFieldsToSerialize());
    CHECK(defaults.fc.nbFields == 6);
    CHECK(*reinterpret_cast<int32_t const*>(defaults.data[0].data()) == 0);          // mmdet
    CHECK(*reinterpret_cast<float const*>(defaults.data[1].data()) == 0.05F);        // score threshold
    CHECK(*reinterpret_cast<int32_t const*>(defaults.data[2].data()) == 1000);       // nms_pre
    CHECK(*reinterpret_cast<float const*>(defaults.data[3].data()) == 0.5F);         // iou
    CHECK(*reinterpret_cast<int32_t const*>(defaults.data[4].data()) == 100);        // max detections
    CHECK(defaults.fields[5].length == 5 && reinterpret_cast<int32_t const*>(defaults.data[5].data())[4] == 128);

    Case const c = makeCase(fcos4j::Convention::kMmdet, false, 1, 3, 64, 64, 7);
    std::vector<DataType> types = ioTypes(c);

    // Wrong input count.
    DataType outTypes[4];
    CHECK(build->getOutputDataTypes(outTypes, 4, types.data(), 15) == -1);
    CHECK(gLogger.saw(Sev::kERROR, {"L5", "16 inputs", "15"}));
    // Mixed head types.
    types[6] = DataType::kHALF;
    CHECK(build->getOutputDataTypes(outTypes, 4, types.data(), 16) == -1);
    CHECK(gLogger.saw(Sev::kERROR, {"L5", "reg_1", "float16"}));
    types = ioTypes(c);
    types[15] = DataType::kINT32;
    CHECK(build->getOutputDataTypes(outTypes, 4, types.data(), 16) == -1);
    CHECK(gLogger.saw(Sev::kERROR, {"image_info", "int32"}));
    types = ioTypes(c);

    // Shape errors at runtime, each naming the tensor.
    auto shapeError = [&](std::vector<Dims> in, std::initializer_list<char const*> needles) {
        std::vector<PluginTensorDesc> const inDesc = descs(in, types, 0);
        std::vector<PluginTensorDesc> const outDesc = descs(outputDims(in[0].d[0], 100), types, 16);
        CHECK(runtime->onShapeChange(inDesc.data(), 16, outDesc.data(), 4) == -1);
        CHECK(gLogger.saw(Sev::kERROR, needles));
    };
    std::vector<Dims> in = inputDims(c, 1);
    in[7].d[1] = 3;  // reg_2 with 3 channels
    shapeError(in, {"reg_2", "channels must be 4"});
    in = inputDims(c, 1);
    in[11].d[3] += 1;  // ctr_1 wider than cls_1
    shapeError(in, {"ctr_1", "spatial size", "cls_1"});
    in = inputDims(c, 1);
    in[4].d[1] = 5;  // cls_4 with another class count
    shapeError(in, {"cls_4", "class count"});
    in = inputDims(c, 1);
    in[15] = dims({1, 3});
    shapeError(in, {"image_info", "[1,3]"});
    in = inputDims(c, 1);
    in[2] = dims({1, 3, 8});
    shapeError(in, {"cls_2", "rank 4"});
    in = inputDims(c, 1);
    in[9].d[0] = 2;  // reg_4 with another batch
    shapeError(in, {"reg_4", "batch"});

    // Output shape disagreeing with max_detections.
    {
        std::vector<PluginTensorDesc> const inDesc = descs(inputDims(c, 1), types, 0);
        std::vector<PluginTensorDesc> const outDesc = descs(outputDims(1, 99), types, 16);
        CHECK(runtime->onShapeChange(inDesc.data(), 16, outDesc.data(), 4) == -1);
        CHECK(gLogger.saw(Sev::kERROR, {"boxes", "max_detections"}));
    }
    // Build-time shapes with unknown extents are fine; a known conflict is not.
    {
        std::vector<PluginTensorDesc> inDesc = descs(inputDims(c, -1), types, 0);
        std::vector<PluginTensorDesc> const outDesc = descs(outputDims(-1, 100), types, 16);
        inDesc[12].dims.d[2] = -1;  // ctr_2 height unknown
        std::vector<DynamicPluginTensorDesc> dynIn = dynDescs(inDesc, inputDims(c, 1), inputDims(c, 4));
        std::vector<DynamicPluginTensorDesc> const dynOut = dynDescs(outDesc, outputDims(1, 100), outputDims(4, 100));
        CHECK(build->configurePlugin(dynIn.data(), 16, dynOut.data(), 4) == 0);
        CHECK(gLogger.messages.empty());
        dynIn[13].desc.dims.d[1] = 2;  // ctr_3 with 2 channels
        CHECK(build->configurePlugin(dynIn.data(), 16, dynOut.data(), 4) == -1);
        CHECK(gLogger.saw(Sev::kERROR, {"configurePlugin", "ctr_3", "channels must be 1"}));
        // Workspace query with an impossible max shape gives 0 and says why.
        std::vector<DynamicPluginTensorDesc> huge = dynDescs(inDesc, inputDims(c, 1), inputDims(c, 70000));
        CHECK(build->getWorkspaceSize(huge.data(), 16, dynOut.data(), 4) == 0);
        CHECK(gLogger.saw(Sev::kERROR, {"getWorkspaceSize", "batch"}));
    }
    // Empty batch: enqueue is a successful no-op.
    {
        std::vector<PluginTensorDesc> const inDesc = descs(inputDims(c, 0), types, 0);
        std::vector<PluginTensorDesc> const outDesc = descs(outputDims(0, 100), types, 16);
        CHECK(runtime->onShapeChange(inDesc.data(), 16, outDesc.data(), 4) == 0);
        void const* inputs[16] = {};
        void* outputs[4] = {};
        CHECK(runtime->enqueue(inDesc.data(), outDesc.data(), inputs, outputs, nullptr, nullptr) == 0);
    }
    CHECK(p->getCapabilityInterface(static_cast<nvinfer1::PluginCapabilityType>(7)) == nullptr);
    delete p;
}

} // namespace

int main()
{
#if !FCOS4J_EMULATED
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
    {
        std::printf("SKIP: no CUDA device (this is the GPU run of the lifecycle test)\n");
        return 77;
    }
#endif
    static Finder finder(&gLogger);
    setLoggerFinder(&finder);
    uint32_t seed = 20261125;
    for (fcos4j::Convention conv :
         {fcos4j::Convention::kMmdet, fcos4j::Convention::kFcos, fcos4j::Convention::kTorchvision})
    {
        for (bool half : {false, true})
        {
            gLogger.messages.clear();
            lifecycle(conv, half, seed++);
            for (auto const& m : gLogger.messages)
            {
                std::fprintf(stderr, "  unexpected log [%d] %s\n", static_cast<int>(m.first), m.second.c_str());
            }
            CHECK(gLogger.messages.empty());
        }
    }
    errorPaths();
    setLoggerFinder(nullptr);
    if (gFailures != 0)
    {
        std::fprintf(stderr, "%d of %d checks failed\n", gFailures, gChecks);
        return 1;
    }
    std::printf("PASS (%d checks)\n", gChecks);
    return 0;
}

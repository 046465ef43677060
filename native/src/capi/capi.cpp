// C API (fcos4j.h) over the engine; identical source for libfcos4j.so and libfcos4j_emu.so.
#include "fcos4j/fcos4j.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/engine.h"
#include "kernels/workspace.h"

struct fcos4j_postprocessor {
  fcos4j::Params params;
  fcos4j::Shape maxShape;
  fcos4j::DataType dtype;
  void* workspace = nullptr;
  size_t workspaceBytes = 0;
  cudaStream_t lastStream = nullptr;
  // run_host buffers (allocated on first use): inputs then outputs, one allocation.
  unsigned char* hostIo = nullptr;
  cudaStream_t hostStream = nullptr;  // run_host's own stream
};

namespace {

thread_local std::string tlsError;

int32_t ok() {
  tlsError.clear();
  return FCOS4J_OK;
}

int32_t fail(int32_t code, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  tlsError = buf;
  return code;
}

int32_t cudaFail(cudaError_t e, const char* what) {
  // 100 cudaErrorNoDevice, 35 cudaErrorInsufficientDriver (no driver loaded): by value, the emulation
  // layer does not name the second.
  if (static_cast<int>(e) == 100 || static_cast<int>(e) == 35)
    return fail(FCOS4J_ERR_NO_DEVICE, "fcos4j: %s: no usable CUDA device (%s)", what, cudaGetErrorString(e));
  return fail(FCOS4J_ERR_CUDA, "fcos4j: %s failed: %s", what, cudaGetErrorString(e));
}

int32_t fromStatus(const fcos4j::Status& st) {
  if (st.code == fcos4j::kOk) return ok();
  return fail(st.code, "%s", st.message);
}

bool toParams(const fcos4j_params* p, fcos4j::Params* out) {
  if (!p) return false;
  std::memset(out, 0, sizeof *out);
  out->convention = static_cast<fcos4j::Convention>(p->convention);
  out->score_threshold = p->score_threshold;
  out->nms_pre = p->nms_pre;
  out->iou_threshold = p->iou_threshold;
  out->max_detections = p->max_detections;
  out->num_levels = p->num_levels;
  for (int l = 0; l < FCOS4J_MAX_LEVELS; ++l) out->strides[l] = p->strides[l];
  return true;
}

bool toShape(const fcos4j_shape* s, fcos4j::Shape* out) {
  if (!s) return false;
  std::memset(out, 0, sizeof *out);
  out->batch = s->batch;
  out->num_classes = s->num_classes;
  out->num_levels = s->num_levels;
  for (int l = 0; l < FCOS4J_MAX_LEVELS; ++l) {
    out->heights[l] = s->heights[l];
    out->widths[l] = s->widths[l];
  }
  return true;
}

size_t elemSize(fcos4j::DataType t) { return t == fcos4j::DataType::kFloat16 ? 2 : 4; }

// Host-buffer layout of run_host for a shape: per level cls, reg, ctr; then info and outputs.
struct IoLayout {
  size_t cls[fcos4j::kMaxLevels], reg[fcos4j::kMaxLevels], ctr[fcos4j::kMaxLevels];
  size_t info, num, boxes, scores, classes, total;
};

size_t align256(size_t v) { return (v + 255) / 256 * 256; }

IoLayout ioLayout(const fcos4j::Shape& s, fcos4j::DataType t, int K) {
  IoLayout io{};
  size_t off = 0;
  const size_t e = elemSize(t), N = s.batch;
  for (int l = 0; l < s.num_levels; ++l) {
    const size_t hw = (size_t)s.heights[l] * s.widths[l];
    io.cls[l] = off; off = align256(off + N * s.num_classes * hw * e);
    io.reg[l] = off; off = align256(off + N * 4 * hw * e);
    io.ctr[l] = off; off = align256(off + N * hw * e);
  }
  io.info = off; off = align256(off + N * 16);
  io.num = off; off = align256(off + N * 4);
  io.boxes = off; off = align256(off + N * K * 16);
  io.scores = off; off = align256(off + N * K * 4);
  io.classes = off; off = align256(off + N * K * 4);
  io.total = off;
  return io;
}

bool fits(const fcos4j::Shape& s, const fcos4j::Shape& max) {
  if (s.batch > max.batch || s.num_classes > max.num_classes || s.num_levels != max.num_levels) return false;
  for (int l = 0; l < s.num_levels; ++l)
    if (s.heights[l] > max.heights[l] || s.widths[l] > max.widths[l]) return false;
  return true;
}

int32_t prepare(fcos4j_postprocessor* h, const fcos4j_shape* shape, fcos4j::Shape* s) {
  if (!h) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null postprocessor handle");
  if (!toShape(shape, s)) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null shape");
  const fcos4j::Status st = fcos4j::validate(h->params, *s);
  if (st.code != fcos4j::kOk) return fromStatus(st);
  if (!fits(*s, h->maxShape))
    return fail(FCOS4J_ERR_INVALID_ARGUMENT,
                "fcos4j: shape (batch %d, classes %d, level 0 %dx%d) exceeds the postprocessor's maximum "
                "(batch %d, classes %d, level 0 %dx%d) in some dimension",
                s->batch, s->num_classes, s->heights[0], s->widths[0], h->maxShape.batch,
                h->maxShape.num_classes, h->maxShape.heights[0], h->maxShape.widths[0]);
  return FCOS4J_OK;
}

const char* kindName(int kind) { return kind == 1 ? "cls" : kind == 2 ? "reg" : "ctr"; }

// After the stream is synchronized: turns num_detections == -1 into an error naming image and tensor.
int32_t checkNonFinite(fcos4j_postprocessor* h, const fcos4j::Shape& s, const int32_t* hostNum) {
  for (int n = 0; n < s.batch; ++n) {
    if (hostNum[n] != -1) continue;
    int32_t info[4];
    const fcos4j::Status st = fcos4j::readErrorInfo(h->params, s, h->workspace, n, info);
    if (st.code != fcos4j::kOk) return fromStatus(st);
    const int level = info[1];
    const long long idx = info[2];
    const long long hw = (long long)s.heights[level] * s.widths[level];
    const long long ch = idx / hw, y = (idx % hw) / s.widths[level], x = idx % s.widths[level];
    return fail(FCOS4J_ERR_NON_FINITE_INPUT,
                "fcos4j: non-finite value (%s) in tensor %s_%d of image %d at channel %lld, y %lld, x %lld",
                info[0] == 1 ? "NaN or +Inf" : "NaN or +-Inf", kindName(info[0]), level, n, ch, y, x);
  }
  return ok();
}

}  // namespace

extern "C" {

FCOS4J_API const char* fcos4j_version(void) { return "0.1.0"; }

FCOS4J_API int32_t fcos4j_is_emulated(void) { return FCOS4J_EMULATED; }

FCOS4J_API const char* fcos4j_last_error(void) { return tlsError.c_str(); }

FCOS4J_API int32_t fcos4j_device_count(int32_t* count) {
  if (!count) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null count pointer");
  *count = 0;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-less runtime error state
    return cudaFail(e, "cudaGetDeviceCount");
  }
  *count = n;
  if (n == 0) return fail(FCOS4J_ERR_NO_DEVICE, "fcos4j: no CUDA device");
  return ok();
}

FCOS4J_API int32_t fcos4j_image_info(int32_t convention, int32_t original_height, int32_t original_width,
                                     int32_t resized_height, int32_t resized_width, float out[4]) {
  if (!out) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null output");
  if (convention < 0 || convention > 2) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: unknown convention %d", convention);
  if (original_height < 1 || original_width < 1 || resized_height < 1 || resized_width < 1)
    return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: image sizes must be positive (original %dx%d, resized %dx%d)",
                original_height, original_width, resized_height, resized_width);
  fcos4j::imageInfoFor(static_cast<fcos4j::Convention>(convention), original_height, original_width, resized_height,
                       resized_width, out);
  return ok();
}

FCOS4J_API int32_t fcos4j_device_alloc(size_t bytes, void** out) {
  if (!out) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null output pointer");
  *out = nullptr;
  const cudaError_t e = cudaMalloc(out, bytes == 0 ? 1 : bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return cudaFail(e, "cudaMalloc");
  }
  return ok();
}

FCOS4J_API int32_t fcos4j_device_free(void* ptr) {
  if (!ptr) return ok();
  const cudaError_t e = cudaFree(ptr);
  return e == cudaSuccess ? ok() : cudaFail(e, "cudaFree");
}

FCOS4J_API int32_t fcos4j_copy_to_device(void* dst, const void* src, size_t bytes, void* stream) {
  if ((!dst || !src) && bytes) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null copy pointer");
  const cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream));
  return e == cudaSuccess ? ok() : cudaFail(e, "cudaMemcpyAsync (host to device)");
}

FCOS4J_API int32_t fcos4j_copy_to_host(void* dst, const void* src, size_t bytes, void* stream) {
  if ((!dst || !src) && bytes) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null copy pointer");
  const cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream));
  return e == cudaSuccess ? ok() : cudaFail(e, "cudaMemcpyAsync (device to host)");
}

FCOS4J_API int32_t fcos4j_stream_create(void** out) {
  if (!out) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null output pointer");
  cudaStream_t s = nullptr;
  const cudaError_t e = cudaStreamCreate(&s);
  if (e != cudaSuccess) return cudaFail(e, "cudaStreamCreate");
  *out = s;
  return ok();
}

FCOS4J_API int32_t fcos4j_stream_destroy(void* stream) {
  if (!stream) return ok();
  const cudaError_t e = cudaStreamDestroy(static_cast<cudaStream_t>(stream));
  return e == cudaSuccess ? ok() : cudaFail(e, "cudaStreamDestroy");
}

FCOS4J_API int32_t fcos4j_stream_synchronize(void* stream) {
  const cudaError_t e = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
  return e == cudaSuccess ? ok() : cudaFail(e, "cudaStreamSynchronize");
}

FCOS4J_API int32_t fcos4j_postprocessor_create(const fcos4j_params* params, const fcos4j_shape* max_shape,
                                               int32_t dtype, fcos4j_postprocessor** out) {
  if (!out) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null output handle pointer");
  *out = nullptr;
  fcos4j::Params p;
  fcos4j::Shape s;
  if (!toParams(params, &p) || !toShape(max_shape, &s))
    return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null params or shape");
  if (dtype != FCOS4J_FLOAT32 && dtype != FCOS4J_FLOAT16)
    return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: unknown dtype %d (0 float32, 1 float16)", dtype);
  const fcos4j::Status st = fcos4j::validate(p, s);
  if (st.code != fcos4j::kOk) return fromStatus(st);
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    return fail(FCOS4J_ERR_NO_DEVICE, "fcos4j: no usable CUDA device (driver missing or no GPU)");
  }
  auto* h = new (std::nothrow) fcos4j_postprocessor();
  if (!h) return fail(FCOS4J_ERR_INTERNAL, "fcos4j: out of host memory");
  h->params = p;
  h->maxShape = s;
  h->dtype = static_cast<fcos4j::DataType>(dtype);
  h->workspaceBytes = fcos4j::workspaceSize(p, s);
  const cudaError_t e = cudaMalloc(&h->workspace, h->workspaceBytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    delete h;
    return cudaFail(e, "cudaMalloc of the post-processing workspace");
  }
  *out = h;
  return ok();
}

FCOS4J_API void fcos4j_postprocessor_destroy(fcos4j_postprocessor* h) {
  if (!h) return;
  if (h->lastStream) cudaStreamSynchronize(h->lastStream);
  cudaDeviceSynchronize();
  cudaFree(h->workspace);
  cudaFree(h->hostIo);
  if (h->hostStream) cudaStreamDestroy(h->hostStream);
  delete h;
}

FCOS4J_API int32_t fcos4j_postprocessor_workspace_size(const fcos4j_postprocessor* h, size_t* bytes) {
  if (!h || !bytes) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null handle or output");
  *bytes = h->workspaceBytes;
  return ok();
}

FCOS4J_API int32_t fcos4j_postprocessor_run(fcos4j_postprocessor* h, const fcos4j_shape* shape,
                                            const void* const* cls, const void* const* reg,
                                            const void* const* ctr, const float* image_info,
                                            int32_t* num_detections, float* boxes, float* scores,
                                            int32_t* classes, void* stream) {
  fcos4j::Shape s;
  const int32_t rc = prepare(h, shape, &s);
  if (rc != FCOS4J_OK) return rc;
  h->lastStream = static_cast<cudaStream_t>(stream);
  return fromStatus(fcos4j::enqueue(h->params, s, h->dtype, cls, reg, ctr, image_info, num_detections, boxes,
                                    scores, classes, h->workspace, h->workspaceBytes, h->lastStream));
}

FCOS4J_API int32_t fcos4j_postprocessor_run_sync(fcos4j_postprocessor* h, const fcos4j_shape* shape,
                                                 const void* const* cls, const void* const* reg,
                                                 const void* const* ctr, const float* image_info,
                                                 int32_t* num_detections, float* boxes, float* scores,
                                                 int32_t* classes, void* stream) {
  int32_t rc = fcos4j_postprocessor_run(h, shape, cls, reg, ctr, image_info, num_detections, boxes, scores,
                                        classes, stream);
  if (rc != FCOS4J_OK) return rc;
  fcos4j::Shape s;
  toShape(shape, &s);
  std::vector<int32_t> hostNum((size_t)s.batch);
  cudaError_t e = cudaMemcpyAsync(hostNum.data(), num_detections, sizeof(int32_t) * hostNum.size(),
                                  cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream));
  if (e == cudaSuccess) e = cudaStreamSynchronize(static_cast<cudaStream_t>(stream));
  if (e != cudaSuccess) return cudaFail(e, "synchronizing the post-processing stream");
  return checkNonFinite(h, s, hostNum.data());
}

FCOS4J_API int32_t fcos4j_postprocessor_run_host(fcos4j_postprocessor* h, const fcos4j_shape* shape,
                                                 const void* const* cls, const void* const* reg,
                                                 const void* const* ctr, const float* image_info,
                                                 int32_t* num_detections, float* boxes, float* scores,
                                                 int32_t* classes) {
  fcos4j::Shape s;
  int32_t rc = prepare(h, shape, &s);
  if (rc != FCOS4J_OK) return rc;
  if (!cls || !reg || !ctr || !image_info || !num_detections || !boxes || !scores || !classes)
    return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null host buffer");
  for (int l = 0; l < s.num_levels; ++l)
    if (!cls[l] || !reg[l] || !ctr[l]) return fail(FCOS4J_ERR_INVALID_ARGUMENT, "fcos4j: null head tensor of level %d", l);
  const int K = h->params.max_detections;
  if (!h->hostIo) {
    const IoLayout maxIo = ioLayout(h->maxShape, h->dtype, K);
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, maxIo.total);
    if (e != cudaSuccess) {
      cudaGetLastError();
      return cudaFail(e, "cudaMalloc of the run_host buffers");
    }
    h->hostIo = static_cast<unsigned char*>(p);
    const cudaError_t se = cudaStreamCreate(&h->hostStream);
    if (se != cudaSuccess) return cudaFail(se, "cudaStreamCreate for run_host");
  }
  const IoLayout io = ioLayout(s, h->dtype, K);
  const size_t e = elemSize(h->dtype), N = s.batch;
  const void* dc[fcos4j::kMaxLevels];
  const void* dr[fcos4j::kMaxLevels];
  const void* dt[fcos4j::kMaxLevels];
  cudaError_t ce = cudaSuccess;
  for (int l = 0; l < s.num_levels && ce == cudaSuccess; ++l) {
    const size_t hw = (size_t)s.heights[l] * s.widths[l];
    dc[l] = h->hostIo + io.cls[l];
    dr[l] = h->hostIo + io.reg[l];
    dt[l] = h->hostIo + io.ctr[l];
    ce = cudaMemcpy(h->hostIo + io.cls[l], cls[l], N * s.num_classes * hw * e, cudaMemcpyHostToDevice);
    if (ce == cudaSuccess) ce = cudaMemcpy(h->hostIo + io.reg[l], reg[l], N * 4 * hw * e, cudaMemcpyHostToDevice);
    if (ce == cudaSuccess) ce = cudaMemcpy(h->hostIo + io.ctr[l], ctr[l], N * hw * e, cudaMemcpyHostToDevice);
  }
  if (ce == cudaSuccess) ce = cudaMemcpy(h->hostIo + io.info, image_info, N * 16, cudaMemcpyHostToDevice);
  if (ce != cudaSuccess) return cudaFail(ce, "cudaMemcpy of the head tensors");
  int32_t* dNum = reinterpret_cast<int32_t*>(h->hostIo + io.num);
  float* dBoxes = reinterpret_cast<float*>(h->hostIo + io.boxes);
  float* dScores = reinterpret_cast<float*>(h->hostIo + io.scores);
  int32_t* dClasses = reinterpret_cast<int32_t*>(h->hostIo + io.classes);
  rc = fcos4j_postprocessor_run(h, shape, dc, dr, dt, reinterpret_cast<const float*>(h->hostIo + io.info), dNum,
                                dBoxes, dScores, dClasses, h->hostStream);
  if (rc != FCOS4J_OK) return rc;
  ce = cudaStreamSynchronize(h->hostStream);
  if (ce != cudaSuccess) return cudaFail(ce, "cudaStreamSynchronize in run_host");
  ce = cudaMemcpy(num_detections, dNum, N * 4, cudaMemcpyDeviceToHost);
  if (ce == cudaSuccess) ce = cudaMemcpy(boxes, dBoxes, N * K * 16, cudaMemcpyDeviceToHost);
  if (ce == cudaSuccess) ce = cudaMemcpy(scores, dScores, N * K * 4, cudaMemcpyDeviceToHost);
  if (ce == cudaSuccess) ce = cudaMemcpy(classes, dClasses, N * K * 4, cudaMemcpyDeviceToHost);
  if (ce != cudaSuccess) return cudaFail(ce, "cudaMemcpy of the outputs");
  return checkNonFinite(h, s, num_detections);
}

}  // extern "C"

// Each emulated primitive against expectations computed independently on the host from the CUDA
// programming guide's definitions.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "fcos4j/cuda_compat.h"
#include "harness.h"

namespace {

// ---------------------------------------------------------------------------------------------
// Shuffles
// ---------------------------------------------------------------------------------------------
__global__ void shfl_kernel(int mode, int arg, int width, int* out) {
  const int lane = threadIdx.x & 31;
  const int v = static_cast<int>(threadIdx.x) * 10 + 1;
  int r = 0;
  switch (mode) {
    case 0: r = __shfl_sync(0xffffffffu, v, arg, width); break;
    case 1: r = __shfl_up_sync(0xffffffffu, v, static_cast<unsigned>(arg), width); break;
    case 2: r = __shfl_down_sync(0xffffffffu, v, static_cast<unsigned>(arg), width); break;
    default: r = __shfl_xor_sync(0xffffffffu, v, arg, width); break;
  }
  (void)lane;
  out[threadIdx.x] = r;
}

// Source lane per the programming guide (same for every warp; returns the lane within the warp).
int expected_source(int mode, int lane, int arg, int width) {
  const int base = lane / width * width;
  switch (mode) {
    case 0: return base + ((arg % width) + width) % width;
    case 1: return (lane - base) >= arg ? lane - arg : lane;
    case 2: return (lane - base) + arg < width ? lane + arg : lane;
    default: {
      const int j = lane ^ arg;
      return j < base + width ? j : lane;  // earlier groups may be read, later ones return own value
    }
  }
}

EMU_CASE(shfl_modes_and_widths) {
  int* out = nullptr;
  CHECK_EQ(cudaMalloc(&out, 64 * sizeof(int)), cudaSuccess);
  for (int mode = 0; mode < 4; ++mode)
    for (int width = 1; width <= 32; width *= 2)
      for (int arg = 0; arg < 34; ++arg) {
        if (mode == 3 && arg > 31) continue;
        FCOS4J_LAUNCH(shfl_kernel, 1, 64, 0, nullptr, mode, arg, width, out);
        CHECK_EQ(cudaGetLastError(), cudaSuccess);
        for (int t = 0; t < 64; ++t) {
          const int lane = t % 32, warpBase = t / 32 * 32;
          const int src = warpBase + expected_source(mode, lane, arg, width);
          if (out[t] != src * 10 + 1) {
            CHECK_EQ(out[t], src * 10 + 1);
            std::fprintf(stderr, "  mode %d width %d arg %d thread %d\n", mode, width, arg, t);
            cudaFree(out);
            return;
          }
        }
      }
  cudaFree(out);
}

__global__ void shfl_types_kernel(double* d, long long* ll, float* f, unsigned short* h) {
  const unsigned t = threadIdx.x;
  d[t] = __shfl_xor_sync(0xffffffffu, d[t], 1);
  ll[t] = __shfl_down_sync(0xffffffffu, ll[t], 3);
  f[t] = __shfl_sync(0xffffffffu, f[t], 31 - static_cast<int>(t));
  __half hv = __ushort_as_half(h[t]);
  hv = __shfl_up_sync(0xffffffffu, hv, 2);
  h[t] = __half_as_ushort(hv);
}

EMU_CASE(shfl_types) {
  double d[32];
  long long ll[32];
  float f[32];
  unsigned short h[32];
  for (int i = 0; i < 32; ++i) {
    d[i] = 1e300 / (i + 1);
    ll[i] = (1ll << 40) * (i + 1) - i;
    f[i] = -1.5f * static_cast<float>(i) + 0.1f;
    h[i] = static_cast<unsigned short>(0x3c00 + i);
  }
  double d0[32];
  long long ll0[32];
  float f0[32];
  unsigned short h0[32];
  std::memcpy(d0, d, sizeof d);
  std::memcpy(ll0, ll, sizeof ll);
  std::memcpy(f0, f, sizeof f);
  std::memcpy(h0, h, sizeof h);
  FCOS4J_LAUNCH(shfl_types_kernel, 1, 32, 0, nullptr, d, ll, f, h);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  for (int i = 0; i < 32; ++i) {
    CHECK(d[i] == d0[i ^ 1]);
    CHECK(ll[i] == ll0[i + 3 < 32 ? i + 3 : i]);
    CHECK(f[i] == f0[31 - i]);
    CHECK(h[i] == h0[i >= 2 ? i - 2 : i]);
  }
}

// ---------------------------------------------------------------------------------------------
// Votes and reductions
// ---------------------------------------------------------------------------------------------
__global__ void vote_kernel(unsigned* out) {
  const unsigned lane = threadIdx.x & 31;
  const unsigned w = threadIdx.x / 32;
  unsigned* o = out + threadIdx.x * 10;
  if (lane % 2 == 0) {  // only even lanes take part, with a matching partial mask
    const unsigned even = 0x55555555u;
    o[0] = __ballot_sync(even, lane % 3 == 0);
    o[1] = __any_sync(even, lane == 4 + w);
    o[2] = __all_sync(even, lane < 31);
    o[3] = __all_sync(even, lane < 30);
    o[4] = __reduce_add_sync(even, lane + w);
    o[5] = __reduce_min_sync(even, lane + 7);
    o[6] = __reduce_max_sync(even, lane * 3);
    o[7] = static_cast<unsigned>(__reduce_min_sync(even, static_cast<int>(lane) - 20));
    o[8] = static_cast<unsigned>(__reduce_max_sync(even, -static_cast<int>(lane)));
    o[9] = __reduce_or_sync(even, 1u << (lane / 2));
  } else {
    o[0] = __ballot_sync(0xffffffffu & ~0x55555555u, true);
  }
}

EMU_CASE(vote_and_reduce) {
  std::vector<unsigned> out(64 * 10, 0);
  FCOS4J_LAUNCH(vote_kernel, 1, 64, 0, nullptr, out.data());
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  for (unsigned t = 0; t < 64; ++t) {
    const unsigned lane = t % 32, w = t / 32;
    const unsigned* o = &out[t * 10];
    if (lane % 2) {
      CHECK_EQ(o[0], 0xaaaaaaaau);
      continue;
    }
    unsigned ballot = 0, sum = 0, mn = ~0u, mx = 0, bits = 0;
    int smin = 1 << 30, smax = -(1 << 30);
    for (unsigned l = 0; l < 32; l += 2) {
      if (l % 3 == 0) ballot |= 1u << l;
      sum += l + w;
      mn = std::min(mn, l + 7);
      mx = std::max(mx, l * 3);
      smin = std::min(smin, static_cast<int>(l) - 20);
      smax = std::max(smax, -static_cast<int>(l));
      bits |= 1u << (l / 2);
    }
    CHECK_EQ(o[0], ballot);
    CHECK_EQ(o[1], w == 0 ? 1u : 0u);  // warp 1 asks for lane 5, which is odd
    CHECK_EQ(o[2], 1u);
    CHECK_EQ(o[3], 0u);
    CHECK_EQ(o[4], sum);
    CHECK_EQ(o[5], mn);
    CHECK_EQ(o[6], mx);
    CHECK_EQ(static_cast<int>(o[7]), smin);
    CHECK_EQ(static_cast<int>(o[8]), smax);
    CHECK_EQ(o[9], bits);
  }
  // __any_sync(lane == 4 + w): warp 1 asks for lane 5, which is odd: no even lane matches
  CHECK_EQ(out[32 * 10 + 1], 0u);
}

// ---------------------------------------------------------------------------------------------
// Barriers
// ---------------------------------------------------------------------------------------------
__global__ void syncthreads_ops_kernel(int* out, int mod) {
  const int t = static_cast<int>(threadIdx.x);
  if (t >= 90) return;  // exited threads leave the barrier count
  const int c = __syncthreads_count(t % mod == 0);
  const int a = __syncthreads_and(t < 1000 / mod);
  const int o = __syncthreads_or(t == mod);
  out[t * 3 + 0] = c;
  out[t * 3 + 1] = a;
  out[t * 3 + 2] = o;
}

EMU_CASE(syncthreads_ops) {
  for (int mod : {5, 7, 200}) {
    std::vector<int> out(96 * 3, -1);
    FCOS4J_LAUNCH(syncthreads_ops_kernel, 1, 96, 0, nullptr, out.data(), mod);
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    int count = 0;
    bool all = true, any = false;
    for (int t = 0; t < 90; ++t) {
      count += t % mod == 0;
      all = all && (t < 1000 / mod);
      any = any || t == mod;
    }
    for (int t = 0; t < 90; ++t) {
      CHECK_EQ(out[t * 3 + 0], count);
      CHECK_EQ(out[t * 3 + 1], all ? 1 : 0);
      CHECK_EQ(out[t * 3 + 2], any ? 1 : 0);
    }
    CHECK_EQ(out[90 * 3], -1);
  }
}

// Halves of a warp synchronise separately at different call sites, then exchange through shared memory.
__global__ void syncwarp_kernel(int* out) {
  FCOS4J_SHARED(int, s, 64);
  const unsigned t = threadIdx.x, lane = t & 31;
  s[t] = static_cast<int>(t * t);
  if (lane < 16) {
    __syncwarp(0x0000ffffu);
    out[t] = s[t ^ 1] + s[(t & ~15u) + (15 - (t & 15))];
  } else {
    __syncwarp(0xffff0000u);
    out[t] = s[t ^ 1] + s[(t & ~15u) + (15 - (t & 15))];
  }
  __syncwarp();
  s[t] = -1;
}

EMU_CASE(syncwarp_partial) {
  const uint64_t old = fcos4j_emu_get_schedule_seed();
  for (uint64_t seed : {0ull, 1ull, 2ull, 99ull}) {
    fcos4j_emu_set_schedule_seed(seed);
    std::vector<int> out(64, 0);
    FCOS4J_LAUNCH(syncwarp_kernel, 3, 64, 0, nullptr, out.data());
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    for (int t = 0; t < 64; ++t) {
      const int a = t ^ 1, b = (t & ~15) + (15 - (t & 15));
      CHECK_EQ(out[t], a * a + b * b);
    }
  }
  fcos4j_emu_set_schedule_seed(old);
}

// ---------------------------------------------------------------------------------------------
// Indexing, atomics, shared memory, dynamic shared memory
// ---------------------------------------------------------------------------------------------
__global__ void index_kernel(unsigned* out) {
  const unsigned bl = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned tl = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  unsigned* o = out + (bl * blockDim.x * blockDim.y * blockDim.z + tl) * 4;
  o[0] = threadIdx.x | threadIdx.y << 8 | threadIdx.z << 16;
  o[1] = blockIdx.x | blockIdx.y << 8 | blockIdx.z << 16;
  o[2] = blockDim.x | blockDim.y << 8 | blockDim.z << 16;
  o[3] = gridDim.x | gridDim.y << 8 | gridDim.z << 16 | static_cast<unsigned>(warpSize) << 24;
}

EMU_CASE(thread_indexing_3d) {
  const dim3 grid(2, 3, 2), block(4, 3, 5);
  const unsigned nb = 12, nt = 60;
  std::vector<unsigned> out(nb * nt * 4, 0xdeadbeefu);
  FCOS4J_LAUNCH(index_kernel, grid, block, 0, nullptr, out.data());
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  for (unsigned bz = 0; bz < 2; ++bz)
    for (unsigned by = 0; by < 3; ++by)
      for (unsigned bx = 0; bx < 2; ++bx)
        for (unsigned tz = 0; tz < 5; ++tz)
          for (unsigned ty = 0; ty < 3; ++ty)
            for (unsigned tx = 0; tx < 4; ++tx) {
              const unsigned bl = bx + 2 * (by + 3 * bz), tl = tx + 4 * (ty + 3 * tz);
              const unsigned* o = &out[(bl * nt + tl) * 4];
              CHECK_EQ(o[0], tx | ty << 8 | tz << 16);
              CHECK_EQ(o[1], bx | by << 8 | bz << 16);
              CHECK_EQ(o[2], 4u | 3u << 8 | 5u << 16);
              CHECK_EQ(o[3], 2u | 3u << 8 | 2u << 16 | 32u << 24);
            }
}

struct Counters {
  int add;
  unsigned sub;
  float fadd;
  double dadd;
  int imax, imin;
  unsigned long long ullmax;
  unsigned orbits[8];
  unsigned inc;
  int cas_count;
  long long llmin;
};

__global__ void atomics_kernel(Counters* c) {
  const int g = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(&c->add, 3);
  atomicSub(&c->sub, 2u);
  atomicAdd(&c->fadd, 1.0f);
  atomicAdd(&c->dadd, 0.5);
  atomicMax(&c->imax, g * 7 - 1000);
  atomicMin(&c->imin, 5000 - g);
  atomicMax(&c->ullmax, static_cast<unsigned long long>(g) << 33);
  atomicOr(&c->orbits[g % 8], 1u << (g % 32));
  atomicInc(&c->inc, 99u);
  int old = c->cas_count, assumed;
  do {
    assumed = old;
    old = atomicCAS(&c->cas_count, assumed, assumed + 1);
  } while (old != assumed);
  atomicMin(&c->llmin, -static_cast<long long>(g) * 1000000000ll);
}

EMU_CASE(atomics_across_blocks) {
  const int prev = fcos4j_emu_get_threads();
  fcos4j_emu_set_threads(4);  // blocks really run concurrently
  const int blocks = 64, threads = 128, n = blocks * threads;
  Counters* c = nullptr;
  CHECK_EQ(cudaMalloc(&c, sizeof(Counters)), cudaSuccess);
  CHECK_EQ(cudaMemset(c, 0, sizeof(Counters)), cudaSuccess);
  c->sub = 1u << 30;
  c->imax = INT32_MIN;
  c->imin = INT32_MAX;
  FCOS4J_LAUNCH(atomics_kernel, blocks, threads, 0, nullptr, c);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  CHECK_EQ(c->add, 3 * n);
  CHECK_EQ(c->sub, (1u << 30) - 2u * n);
  CHECK(c->fadd == static_cast<float>(n));
  CHECK(c->dadd == 0.5 * n);
  CHECK_EQ(c->imax, (n - 1) * 7 - 1000);
  CHECK_EQ(c->imin, 5000 - (n - 1));
  CHECK_EQ(c->ullmax, static_cast<unsigned long long>(n - 1) << 33);
  for (int k = 0; k < 8; ++k) {
    unsigned bits = 0;
    for (int g = k; g < n; g += 8) bits |= 1u << (g % 32);
    CHECK_EQ(c->orbits[k], bits);
  }
  CHECK_EQ(c->inc, static_cast<unsigned>(n % 100));
  CHECK_EQ(c->cas_count, n);
  CHECK_EQ(c->llmin, -static_cast<long long>(n - 1) * 1000000000ll);
  cudaFree(c);
  fcos4j_emu_set_threads(prev);
}

// Reverses each block's slice through static shared memory and a dynamic region of two types.
__global__ void shared_kernel(const int* in, int* out, long long* out2) {
  FCOS4J_SHARED(int, tile, 128);
  FCOS4J_DYNAMIC_SHARED(long long, dyn);
  const unsigned t = threadIdx.x, n = blockDim.x;
  const unsigned g = blockIdx.x * n + t;
  tile[t] = in[g];
  dyn[t] = static_cast<long long>(in[g]) * 1000000007ll;
  __syncthreads();
  out[g] = tile[n - 1 - t];
  out2[g] = dyn[(t + 1) % n];
}

EMU_CASE(shared_static_and_dynamic) {
  const int blocks = 5, n = 128;
  std::vector<int> in(blocks * n), out(blocks * n);
  std::vector<long long> out2(blocks * n);
  for (int i = 0; i < blocks * n; ++i) in[i] = i * 3 - 7;
  for (uint64_t seed : {0ull, 5ull}) {
    const uint64_t old = fcos4j_emu_get_schedule_seed();
    fcos4j_emu_set_schedule_seed(seed);
    FCOS4J_LAUNCH(shared_kernel, blocks, n, n * sizeof(long long), nullptr, in.data(), out.data(), out2.data());
    fcos4j_emu_set_schedule_seed(old);
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    for (int b = 0; b < blocks; ++b)
      for (int t = 0; t < n; ++t) {
        CHECK_EQ(out[b * n + t], in[b * n + n - 1 - t]);
        CHECK_EQ(out2[b * n + t], static_cast<long long>(in[b * n + (t + 1) % n]) * 1000000007ll);
      }
  }
}

__global__ void big_dyn_kernel(unsigned* sums, unsigned bytes) {
  FCOS4J_DYNAMIC_SHARED(unsigned char, buf);
  for (unsigned i = threadIdx.x; i < bytes; i += blockDim.x) buf[i] = static_cast<unsigned char>(i * 7u);
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned s = 0;
    for (unsigned i = 0; i < bytes; ++i) s += buf[i];
    sums[blockIdx.x] = s;
  }
}

EMU_CASE(dynamic_smem_optin) {
  const unsigned bytes = 100 * 1024;
  unsigned sums[2] = {0, 0};
  FCOS4J_LAUNCH(big_dyn_kernel, 2, 256, bytes, nullptr, sums, bytes);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidValue);  // above 48 KiB without the opt-in
  CHECK_HAS(fcos4j_emu_last_error_message(), "dynamic shared memory");
  CHECK_EQ(cudaFuncSetAttribute(big_dyn_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 300 * 1024),
           cudaErrorInvalidValue);
  CHECK_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  CHECK_EQ(cudaFuncSetAttribute(big_dyn_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)),
           cudaSuccess);
  FCOS4J_LAUNCH(big_dyn_kernel, 2, 256, bytes, nullptr, sums, bytes);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  unsigned expect = 0;
  for (unsigned i = 0; i < bytes; ++i) expect += static_cast<unsigned char>(i * 7u);
  CHECK_EQ(sums[0], expect);
  CHECK_EQ(sums[1], expect);
  int optin = 0;
  CHECK_EQ(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), cudaSuccess);
  CHECK_EQ(optin, 227 * 1024);
}

// ---------------------------------------------------------------------------------------------
// __half
// ---------------------------------------------------------------------------------------------
unsigned short ref_f2h(float f) {  // the compiler's own IEEE binary16 conversion (round to nearest even)
  _Float16 h = static_cast<_Float16>(f);
  unsigned short b;
  std::memcpy(&b, &h, 2);
  return b;
}

__global__ void half_kernel(const float* in, unsigned short* out, float* back, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  const __half h = __float2half_rn(in[i]);
  out[i] = __half_as_ushort(h);
  back[i] = __half2float(h);
}

EMU_CASE(half_conversions_exhaustive) {
  // every half -> float is exact, and back again (NaN becomes the canonical 0x7fff, as on the GPU)
  for (unsigned b = 0; b < 65536; ++b) {
    const unsigned short hb = static_cast<unsigned short>(b);
    _Float16 ref;
    std::memcpy(&ref, &hb, 2);
    const float f = __half2float(__ushort_as_half(hb));
    const float rf = static_cast<float>(ref);
    const bool nan = (hb & 0x7fff) > 0x7c00;
    if (nan) {
      CHECK(std::isnan(f));
      CHECK_EQ(__half_as_ushort(__float2half(f)), 0x7fff);
    } else {
      CHECK(std::memcmp(&f, &rf, 4) == 0);
      CHECK_EQ(__half_as_ushort(__float2half(f)), hb);
    }
  }
  // every rounding decision: midpoints between neighbouring halves and their float neighbours
  int bad = 0;
  for (unsigned b = 0; b < 0x7c00; ++b) {
    const float lo = __half2float(__ushort_as_half(static_cast<unsigned short>(b)));
    const float hi = __half2float(__ushort_as_half(static_cast<unsigned short>(b + 1)));
    const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);  // exact in float
    for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, 1e9f)})
      for (float s : {x, -x})
        if (__half_as_ushort(__float2half(s)) != ref_f2h(s) && ++bad < 5)
          std::fprintf(stderr, "  float %a -> 0x%04x, expected 0x%04x\n", static_cast<double>(s),
                       __half_as_ushort(__float2half(s)), ref_f2h(s));
  }
  CHECK_EQ(bad, 0);
  // a sample of all floats (every 4099th bit pattern) including huge, tiny and special values
  for (uint64_t u = 0; u <= 0xffffffffull; u += 4099) {
    const unsigned bits = static_cast<unsigned>(u);
    float f;
    std::memcpy(&f, &bits, 4);
    const unsigned short got = __half_as_ushort(__float2half(f));
    if (std::isnan(f)) {
      if (got != 0x7fff && ++bad < 5) std::fprintf(stderr, "  NaN %08x -> 0x%04x\n", bits, got);
    } else if (got != ref_f2h(f) && ++bad < 5) {
      std::fprintf(stderr, "  float %08x -> 0x%04x, expected 0x%04x\n", bits, got, ref_f2h(f));
    }
  }
  CHECK_EQ(bad, 0);
  // the conversions inside a kernel
  std::vector<float> in = {0.0f, -0.0f, 1.0f, 65504.0f, 65520.0f, 5.96e-8f, 2.98e-8f, 2.99e-8f, -3.0e-5f,
                           INFINITY, -INFINITY, NAN, 0.1f, 1.0009765625f, 1.00048828125f, 1.00146484375f};
  const int n = static_cast<int>(in.size());
  std::vector<unsigned short> out(n);
  std::vector<float> back(n);
  FCOS4J_LAUNCH(half_kernel, 1, 32, 0, nullptr, in.data(), out.data(), back.data(), n);
  CHECK_EQ(cudaGetLastError(), cudaSuccess);
  for (int i = 0; i < n; ++i) {
    if (std::isnan(in[i])) {
      CHECK_EQ(out[i], 0x7fff);
      CHECK(std::isnan(back[i]));
    } else {
      CHECK_EQ(out[i], ref_f2h(in[i]));
    }
  }
  CHECK_EQ(out[3], 0x7bff);  // 65504 = max half
  CHECK_EQ(out[4], 0x7c00);  // 65520 rounds to inf
  CHECK_EQ(out[6], 0x0000);  // 2^-25 (tie) rounds to even zero
  CHECK_EQ(out[7], 0x0001);  // just above the tie
  CHECK_EQ(out[14], 0x3c00);  // 1 + 2^-11: tie, rounds to even (1.0)
  CHECK_EQ(out[15], 0x3c02);  // 1 + 3*2^-11: tie, rounds to even (1 + 2^-9)
}

// ---------------------------------------------------------------------------------------------
// Schedules: a correct kernel gives the same result under every seed
// ---------------------------------------------------------------------------------------------
__global__ void block_sum_kernel(const int* in, int* out, int n) {
  FCOS4J_SHARED(int, partial, 32);
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  int v = i < n ? in[i] : 0;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < (blockDim.x + 31) / 32 ? partial[lane] : 0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) out[blockIdx.x] = v;
  }
}

EMU_CASE(seeds_same_result_for_correct_kernel) {
  const int n = 5000, threads = 256, blocks = (n + threads - 1) / threads;
  std::vector<int> in(n);
  std::mt19937 rng(42);
  for (int& x : in) x = static_cast<int>(rng() % 2001) - 1000;
  std::vector<int> expect(blocks, 0);
  for (int i = 0; i < n; ++i) expect[i / threads] += in[i];
  const uint64_t old = fcos4j_emu_get_schedule_seed();
  for (uint64_t seed = 0; seed < 12; ++seed) {
    fcos4j_emu_set_schedule_seed(seed);
    std::vector<int> out(blocks, 0);
    FCOS4J_LAUNCH(block_sum_kernel, blocks, threads, 0, nullptr, in.data(), out.data(), n);
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    for (int b = 0; b < blocks; ++b) CHECK_EQ(out[b], expect[b]);
  }
  fcos4j_emu_set_schedule_seed(old);
}

__global__ void grid_stride_kernel(const float* in, float* out, int n) {
  for (int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x); i < n;
       i += static_cast<int>(gridDim.x * blockDim.x))
    out[i] = sqrtf(in[i]) * 2.0f + 1.0f;
}

EMU_CASE(many_blocks_parallel_pool) {
  const int prev = fcos4j_emu_get_threads();
  const int n = 200000;
  std::vector<float> in(n), out(n);
  for (int i = 0; i < n; ++i) in[i] = static_cast<float>(i) * 0.37f;
  for (int threads : {1, 2, 5}) {
    fcos4j_emu_set_threads(threads);
    CHECK_EQ(fcos4j_emu_get_threads(), threads);
    std::fill(out.begin(), out.end(), -1.0f);
    fcos4j_emu_stats before{}, after{};
    fcos4j_emu_get_stats(&before);
    FCOS4J_LAUNCH(grid_stride_kernel, 1000, 64, 0, nullptr, in.data(), out.data(), n);
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    fcos4j_emu_get_stats(&after);
    CHECK_EQ(after.blocks - before.blocks, 1000u);
    CHECK_EQ(after.threads - before.threads, 64000u);
    int bad = 0;
    for (int i = 0; i < n; ++i) bad += out[i] != std::sqrt(in[i]) * 2.0f + 1.0f;
    CHECK_EQ(bad, 0);
  }
  fcos4j_emu_set_threads(prev);
}

}  // namespace

namespace {
// Threads spin on a shared flag that the last thread sets: works because __nanosleep yields.
__global__ void nanosleep_spin_kernel(int* out) {
  FCOS4J_SHARED(int, flag, 1);
  if (threadIdx.x == 0) flag[0] = 0;
  __syncthreads();
  if (threadIdx.x == blockDim.x - 1) {
    atomicExch(&flag[0], 42);
  } else {
    int spins = 0;
    while (atomicAdd(&flag[0], 0) == 0) {
      __nanosleep(100);
      ++spins;
    }
    out[threadIdx.x] = spins > 0 ? flag[0] : -flag[0];
  }
}

EMU_CASE(nanosleep_yields) {
  const uint64_t old = fcos4j_emu_get_schedule_seed();
  for (uint64_t seed : {0ull, 7ull}) {
    fcos4j_emu_set_schedule_seed(seed);
    std::vector<int> out(64, 0);
    FCOS4J_LAUNCH(nanosleep_spin_kernel, 2, 64, 0, nullptr, out.data());
    CHECK_EQ(cudaGetLastError(), cudaSuccess);
    for (int t = 0; t < 63; ++t) CHECK_EQ(std::abs(out[t]), 42);
    if (seed == 0) CHECK_EQ(out[0], 42);  // round robin: thread 0 had to wait for thread 63
  }
  fcos4j_emu_set_schedule_seed(old);
}
}  // namespace

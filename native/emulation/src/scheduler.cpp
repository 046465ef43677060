// Grid execution: blocks in parallel on a persistent worker pool, the threads of a block as
// cooperatively scheduled fibers (Boost.Context fcontext) that switch only at barriers, warp
// collectives and (in race-hunting mode) shared-memory accesses. See README.md.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "internal.h"

namespace fcos4j_emu {
namespace detail {

__thread ThreadView* tls_thread __attribute__((tls_model("initial-exec"))) = nullptr;
bool g_preempt = false;

namespace {

namespace ctx = boost::context;

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------
std::atomic<uint64_t> st_launches{0}, st_blocks{0}, st_threads{0}, st_switches{0}, st_stacks{0};

// ---------------------------------------------------------------------------------------------
// Fiber stacks: mmap'ed with a guard page below, pooled per worker thread and reused across blocks.
// ---------------------------------------------------------------------------------------------
size_t stack_bytes() {
  static const size_t bytes = [] {
    long kb = 64;
    if (const char* e = std::getenv("FCOS4J_EMU_STACK_KB")) {
      char* end = nullptr;
      long v = std::strtol(e, &end, 10);
      if (end != e && v >= 16 && v <= 1024 * 1024) kb = v;
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t b = static_cast<size_t>(kb) * 1024;
    return (b + page - 1) / page * page;
  }();
  return bytes;
}

struct StackPool {
  std::vector<ctx::stack_context> free;
  ~StackPool() {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    for (auto& s : free) munmap(static_cast<char*>(s.sp) - s.size - page, s.size + page);
  }
};
thread_local StackPool t_stacks;

struct PooledStack {
  ctx::stack_context allocate() {
    if (!t_stacks.free.empty()) {
      ctx::stack_context s = t_stacks.free.back();
      t_stacks.free.pop_back();
      return s;
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t size = stack_bytes();
    void* base = mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    mprotect(base, page, PROT_NONE);  // guard page: a stack overflow faults instead of corrupting memory
    st_stacks.fetch_add(1, std::memory_order_relaxed);
    ctx::stack_context s;
    s.size = size;
    s.sp = static_cast<char*>(base) + page + size;
    return s;
  }
  void deallocate(ctx::stack_context& s) noexcept { t_stacks.free.push_back(s); }
};

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------
struct KernelFault {  // thrown inside a fiber; fails the block
  cudaError_t code;
  std::string message;
  bool sticky;
};
struct KernelAbort {};  // unwinds the remaining fibers of a failed block

// ---------------------------------------------------------------------------------------------
// Launch, block and fiber records
// ---------------------------------------------------------------------------------------------
struct Launch {
  LaunchSite site;
  const void* key;
  dim3 grid, block;
  size_t smem;
  Thunk thunk;
  void* closure;
  uint64_t seed;
  uint64_t number;
  size_t smem_total_limit;  // static + dynamic allowed
  uint64_t total_blocks;
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<size_t> static_smem{0};
  std::mutex err_mu;
  uint64_t err_block = UINT64_MAX;
  cudaError_t err_code = cudaSuccess;
  std::string err_msg;
  bool err_sticky = true;
};

enum class St : uint8_t { Ready, Barrier, Warp, Preempted, Exited };

// collective op codes stored in Fiber::op while in St::Warp
constexpr int kOpShfl = 0;       // + kind (0 idx, 1 up, 2 down, 3 xor)
constexpr int kOpVote = 10;      // + vote kind
constexpr int kOpSyncwarp = 30;

struct Block;

struct Fiber {
  ThreadView view;
  unsigned linear = 0, lane = 0, warp = 0;
  St st = St::Ready;
  Site site{nullptr, 0, nullptr};
  int op = 0;
  unsigned mask = 0;
  int b = 0, width = 32;
  unsigned long long val = 0, result = 0;
  ctx::fiber self;  // the fiber (resumed by the scheduler)
  ctx::fiber sink;  // the scheduler (resumed by the fiber)
  Block* blk = nullptr;
};

__thread Fiber* tls_fiber __attribute__((tls_model("initial-exec"))) = nullptr;

struct WarpState {
  unsigned exists = 0, exited = 0, barrier = 0, waiting = 0;
};

struct SharedSlot {
  const SharedDecl* decl;
  void* ptr;
};

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct Block {
  Launch* L = nullptr;
  uint3 idx{0, 0, 0};
  uint64_t linear = 0;
  unsigned nthreads = 0;
  std::vector<Fiber> fibers;
  std::vector<WarpState> warps;
  std::vector<unsigned> ready, round;
  unsigned live = 0, at_barrier = 0;
  bool aborted = false;
  bool seeded = false;
  uint64_t rng = 0;
  std::vector<SharedSlot> shared;
  std::vector<unsigned char> arena;  // dynamic region first, then static arrays
  size_t arena_used = 0, static_bytes = 0, dyn_bytes = 0;
  bool failed = false;
  cudaError_t code = cudaSuccess;
  std::string msg;
  bool sticky = true;

  void fail(cudaError_t c, std::string m, bool is_sticky) {
    if (!failed) {
      failed = true;
      code = c;
      msg = std::move(m);
      sticky = is_sticky;
    }
    aborted = true;
  }
};

// ---------------------------------------------------------------------------------------------
// Message helpers
// ---------------------------------------------------------------------------------------------
std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

const char* base_name(const char* path) {
  if (!path) return "?";
  const char* s = std::strrchr(path, '/');
  return s ? s + 1 : path;
}

std::string where(const Site& s) { return fmt("%s at %s:%d", s.what, base_name(s.file), s.line); }

std::string block_prefix(const Block& b) {
  return fmt("kernel '%s' (launched at %s:%d) block (%u,%u,%u)", b.L->site.kernel, base_name(b.L->site.file),
             b.L->site.line, b.idx.x, b.idx.y, b.idx.z);
}

std::string thread_name(const Fiber& f) {
  return fmt("thread (%u,%u,%u) [linear %u, warp %u, lane %u]", f.view.thread_idx.x, f.view.thread_idx.y,
             f.view.thread_idx.z, f.linear, f.warp, f.lane);
}

std::string ranges(const std::vector<unsigned>& ids) {
  std::string out;
  size_t i = 0;
  while (i < ids.size()) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += (i == j) ? fmt("%u", ids[i]) : fmt("%u-%u", ids[i], ids[j]);
    i = j + 1;
  }
  return out;
}

bool same_site(const Site& a, const Site& b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0) &&
         (a.what == b.what || std::strcmp(a.what, b.what) == 0);
}

const char* state_name(St s) {
  switch (s) {
    case St::Ready: return "running";
    case St::Barrier: return "waiting at a barrier";
    case St::Warp: return "waiting in a warp collective";
    case St::Preempted: return "preempted";
    case St::Exited: return "exited";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Fiber side: parking and faults
// ---------------------------------------------------------------------------------------------
Fiber& current(const char* what) {
  Fiber* f = tls_fiber;
  if (!f) {
    std::fprintf(stderr, "fcos4j-emu: %s called outside of an emulated kernel\n", what);
    std::abort();  // programming error in host code, not reachable from data
  }
  return *f;
}

void park(Fiber& f) {
  f.sink = std::move(f.sink).resume();
  if (f.blk->aborted) throw KernelAbort{};
}

[[noreturn]] void fault(Fiber& f, cudaError_t code, const std::string& what, bool sticky = true) {
  throw KernelFault{code, "fcos4j-emu: " + block_prefix(*f.blk) + " " + thread_name(f) + ": " + what, sticky};
}

void check_mask(Fiber& f, const Site& s, unsigned mask) {
  Block& b = *f.blk;
  const WarpState& w = b.warps[f.warp];
  if (!(mask & (1u << f.lane)))
    fault(f, cudaErrorIllegalInstruction,
          fmt("%s: mask 0x%08x does not contain the calling lane %u", where(s).c_str(), mask, f.lane));
  if (mask & ~w.exists)
    fault(f, cudaErrorIllegalInstruction,
          fmt("%s: mask 0x%08x names lanes 0x%08x that do not exist (the block has %u threads)", where(s).c_str(),
              mask, mask & ~w.exists, b.nthreads));
  if (mask & w.exited)
    fault(f, cudaErrorIllegalInstruction,
          fmt("%s: mask 0x%08x names lanes 0x%08x that have exited", where(s).c_str(), mask, mask & w.exited));
}

unsigned long long collective(const Site& s, int op, unsigned mask, unsigned long long v, int b, int width) {
  Fiber& f = current(s.what);
  check_mask(f, s, mask);
  f.site = s;
  f.op = op;
  f.mask = mask;
  f.val = v;
  f.b = b;
  f.width = width;
  f.st = St::Warp;
  park(f);
  return f.result;
}

// ---------------------------------------------------------------------------------------------
// Scheduler side
// ---------------------------------------------------------------------------------------------
void resume(Block& b, Fiber& f) {
  tls_thread = &f.view;
  tls_fiber = &f;
  f.st = St::Ready;
  f.self = std::move(f.self).resume();
  tls_fiber = nullptr;
  tls_thread = nullptr;
  (void)b;
}

unsigned shfl_source(int kind, unsigned lane, int bval, int width) {
  const int segmask = (32 - width) & 0x1f;
  const int clamp = (kind == 1) ? 0 : 0x1f;
  const int l = static_cast<int>(lane);
  const int maxLane = (l & segmask) | (clamp & ~segmask);
  const int minLane = l & segmask;
  int j;
  bool p;
  switch (kind) {
    case 0: j = minLane | (bval & 0x1f & ~segmask); p = j <= maxLane; break;
    case 1: j = l - bval; p = j >= maxLane; break;
    case 2: j = l + bval; p = j <= maxLane; break;
    default: j = l ^ bval; p = j <= maxLane; break;
  }
  return p ? static_cast<unsigned>(j) : lane;
}

// All lanes of f's mask wait in collectives: validate the rendezvous and compute the results.
void complete_collective(Block& b, Fiber& f) {
  WarpState& w = b.warps[f.warp];
  const unsigned M = f.mask;
  Fiber* lanes = &b.fibers[f.warp * 32u];
  // Lanes in another intrinsic, or in the same intrinsic at another call site with another mask, may
  // still be on their way (independent thread scheduling): wait; quiescent() reports a real deadlock.
  // The same call site with a different mask or width is a bug: report it now.
  for (unsigned m = M; m; m &= m - 1) {
    Fiber& g = lanes[__builtin_ctz(m)];
    if (g.op != f.op) return;
    const bool here = same_site(g.site, f.site);
    if (!here && g.mask != M) return;
    if (g.mask != M || g.width != f.width) {
      b.fail(cudaErrorIllegalInstruction,
             "fcos4j-emu: " + block_prefix(b) + ": warp " + std::to_string(f.warp) +
                 " collective mismatch: lane " + std::to_string(f.lane) +
                 fmt(" is in %s with mask 0x%08x width %d", where(f.site).c_str(), M, f.width) + " but lane " +
                 std::to_string(g.lane) +
                 fmt(" (named in that mask) is in %s with mask 0x%08x width %d", where(g.site).c_str(), g.mask,
                     g.width),
             true);
      return;
    }
  }
  const int op = f.op;
  if (op >= kOpShfl && op < kOpShfl + 4) {
    if (f.width < 1 || f.width > 32 || (f.width & (f.width - 1))) {
      b.fail(cudaErrorIllegalInstruction,
             "fcos4j-emu: " + block_prefix(b) + ": " + where(f.site) + fmt(": width %d is not a power of 2 in [1,32]", f.width),
             true);
      return;
    }
    for (unsigned m = M; m; m &= m - 1) {
      Fiber& g = lanes[__builtin_ctz(m)];
      const unsigned src = shfl_source(op - kOpShfl, g.lane, g.b, g.width);
      if (!(M & (1u << src))) {
        b.fail(cudaErrorIllegalInstruction,
               "fcos4j-emu: " + block_prefix(b) + " " + thread_name(g) + ": " + where(g.site) +
                   fmt(" reads lane %u which is not in the mask 0x%08x (undefined on the GPU)", src, M),
               true);
        return;
      }
      g.result = lanes[src].val;
    }
  } else if (op >= kOpVote && op < kOpSyncwarp) {
    const int kind = op - kOpVote;
    unsigned ballot = 0, sum = 0, umin = 0xffffffffu, umax = 0, band = 0xffffffffu, bor = 0, bxor = 0;
    int smin = INT32_MAX, smax = INT32_MIN;
    for (unsigned m = M; m; m &= m - 1) {
      const Fiber& g = lanes[__builtin_ctz(m)];
      const unsigned v = static_cast<unsigned>(g.val);
      if (v) ballot |= 1u << g.lane;
      sum += v;
      umin = std::min(umin, v);
      umax = std::max(umax, v);
      band &= v;
      bor |= v;
      bxor ^= v;
      smin = std::min(smin, static_cast<int>(v));
      smax = std::max(smax, static_cast<int>(v));
    }
    unsigned r = 0;
    switch (kind) {
      case 0: r = ballot; break;
      case 1: r = ballot != 0; break;
      case 2: r = ballot == M; break;
      case 3: r = sum; break;
      case 4: r = umin; break;
      case 5: r = umax; break;
      case 6: r = band; break;
      case 7: r = bor; break;
      case 8: r = bxor; break;
      case 9: r = static_cast<unsigned>(smin); break;
      case 10: r = static_cast<unsigned>(smax); break;
      default: break;
    }
    for (unsigned m = M; m; m &= m - 1) lanes[__builtin_ctz(m)].result = r;
  }
  for (unsigned m = M; m; m &= m - 1) {
    Fiber& g = lanes[__builtin_ctz(m)];
    g.st = St::Ready;
    b.ready.push_back(g.linear);
  }
  w.waiting &= ~M;
}

// Nothing can run: either every live thread waits at a barrier (release it) or the block is deadlocked.
void quiescent(Block& b) {
  if (b.at_barrier == b.live) {
    const Fiber* first = nullptr;
    bool same = true;
    for (const Fiber& f : b.fibers) {
      if (f.st != St::Barrier) continue;
      if (!first) first = &f;
      else if (!same_site(f.site, first->site) || f.op != first->op) same = false;
    }
    if (!same) {
      // group the waiting threads by call site
      std::vector<const Fiber*> reps;
      std::vector<std::vector<unsigned>> ids;
      for (const Fiber& f : b.fibers) {
        if (f.st != St::Barrier) continue;
        size_t k = 0;
        while (k < reps.size() && !same_site(reps[k]->site, f.site)) ++k;
        if (k == reps.size()) {
          reps.push_back(&f);
          ids.emplace_back();
        }
        ids[k].push_back(f.linear);
      }
      std::string m = "fcos4j-emu: " + block_prefix(b) + ": divergent barrier: ";
      for (size_t k = 0; k < reps.size(); ++k)
        m += (k ? "; " : "") + std::string("threads ") + ranges(ids[k]) + " wait at " + where(reps[k]->site);
      b.fail(cudaErrorLaunchFailure, m, true);
      return;
    }
    unsigned count = 0;
    for (const Fiber& f : b.fibers)
      if (f.st == St::Barrier && f.val) ++count;
    const unsigned live = b.live;
    for (Fiber& f : b.fibers) {
      if (f.st != St::Barrier) continue;
      switch (f.op) {
        case 1: f.result = count; break;
        case 2: f.result = count == live; break;
        case 3: f.result = count != 0; break;
        default: f.result = 0; break;
      }
      f.st = St::Ready;
      b.ready.push_back(f.linear);
    }
    for (WarpState& w : b.warps) w.barrier = 0;
    b.at_barrier = 0;
    return;
  }
  // Deadlock: some thread waits in a warp collective that can never complete.
  for (const Fiber& f : b.fibers) {
    if (f.st != St::Warp) continue;
    const WarpState& w = b.warps[f.warp];
    const Fiber* lanes = &b.fibers[f.warp * 32u];
    std::string reason;
    // a lane parked at a barrier is a barrier/collective deadlock; an exited lane or one in another
    // rendezvous is a misuse of the collective's mask
    cudaError_t code = cudaErrorIllegalInstruction;
    for (unsigned m = f.mask & ~w.waiting; m; m &= m - 1) {
      const Fiber& g = lanes[__builtin_ctz(m)];
      reason = fmt("lane %u named in the mask is %s", g.lane, state_name(g.st));
      if (g.st == St::Barrier) {
        reason += " (" + where(g.site) + ")";
        code = cudaErrorLaunchFailure;
      }
      break;
    }
    if (reason.empty()) {  // all lanes of the mask wait, but one of them in another rendezvous
      for (unsigned m = f.mask; m; m &= m - 1) {
        const Fiber& g = lanes[__builtin_ctz(m)];
        if (g.op != f.op || g.mask != f.mask) {
          reason = fmt("lane %u named in the mask waits in %s with mask 0x%08x", g.lane, where(g.site).c_str(), g.mask);
          break;
        }
      }
    }
    std::vector<unsigned> barrier_ids;
    for (const Fiber& g : b.fibers)
      if (g.st == St::Barrier) barrier_ids.push_back(g.linear);
    std::string m = "fcos4j-emu: " + block_prefix(b) + " " + thread_name(f) + ": deadlock: waits in " + where(f.site) +
                    fmt(" with mask 0x%08x but ", f.mask) + reason;
    if (!barrier_ids.empty()) m += "; threads " + ranges(barrier_ids) + " wait at a barrier";
    b.fail(code, m, true);
    return;
  }
  b.fail(cudaErrorLaunchFailure, "fcos4j-emu: " + block_prefix(b) + ": internal scheduler error (no runnable thread)",
         true);
}

struct BlockRunner {
  Block b;

  void run(Launch& L, uint64_t linear) {
    b.L = &L;
    b.linear = linear;
    const uint64_t gx = L.grid.x, gy = L.grid.y;
    b.idx = uint3{static_cast<unsigned>(linear % gx), static_cast<unsigned>((linear / gx) % gy),
                  static_cast<unsigned>(linear / (gx * gy))};
    const unsigned bx = L.block.x, by = L.block.y, bz = L.block.z;
    const unsigned n = bx * by * bz;
    b.nthreads = n;
    b.aborted = false;
    b.failed = false;
    b.code = cudaSuccess;
    b.msg.clear();
    b.seeded = L.seed != 0;
    b.rng = L.seed ^ (L.number * 0xd1b54a32d192ed03ull) ^ (linear * 0x8cb92ba72f3d8dd7ull);
    b.shared.clear();
    b.static_bytes = 0;
    b.dyn_bytes = L.smem;
    if (b.arena.size() < kOptinSmemLimit + kStaticSmemLimit + 4096) b.arena.resize(kOptinSmemLimit + kStaticSmemLimit + 4096);
    b.arena_used = (L.smem + 127) / 128 * 128;
    std::memset(b.arena.data(), 0xff, L.smem);  // uninitialised shared memory reads as NaN / -1
    b.fibers.clear();
    b.fibers.resize(n);
    b.warps.assign((n + 31) / 32, WarpState{});
    b.ready.clear();
    b.live = n;
    b.at_barrier = 0;
    PooledStack alloc;
    for (unsigned i = 0; i < n; ++i) {
      Fiber& f = b.fibers[i];
      f.view.thread_idx = uint3{i % bx, (i / bx) % by, i / (bx * by)};
      f.view.block_idx = b.idx;
      f.view.block_dim = L.block;
      f.view.grid_dim = L.grid;
      f.linear = i;
      f.lane = i % 32;
      f.warp = i / 32;
      f.blk = &b;
      f.st = St::Ready;
      b.warps[f.warp].exists |= 1u << f.lane;
      Fiber* fp = &f;
      try {
      f.self = ctx::fiber(std::allocator_arg, alloc, [fp](ctx::fiber&& sink) {
        fp->sink = std::move(sink);
        Block& blk = *fp->blk;
        try {
          if (!blk.aborted) blk.L->thunk(blk.L->closure);
        } catch (KernelAbort&) {
        } catch (KernelFault& e) {
          blk.fail(e.code, e.message, e.sticky);
        } catch (ctx::detail::forced_unwind&) {
          throw;
        } catch (std::exception& e) {
          blk.fail(cudaErrorLaunchFailure,
                   "fcos4j-emu: " + block_prefix(blk) + " " + thread_name(*fp) + ": C++ exception: " + e.what(), true);
        } catch (...) {
          blk.fail(cudaErrorLaunchFailure,
                   "fcos4j-emu: " + block_prefix(blk) + " " + thread_name(*fp) + ": unknown C++ exception", true);
        }
        fp->st = St::Exited;
        return std::move(fp->sink);
      });
      } catch (std::bad_alloc&) {  // mmap of a fiber stack failed: fail the launch, unwind what exists
        b.fail(cudaErrorMemoryAllocation,
               "fcos4j-emu: " + block_prefix(b) + fmt(": cannot map a %zu-byte fiber stack for thread %u", stack_bytes(), i),
               false);
        b.live = i;
        break;
      }
      b.ready.push_back(i);
    }
    uint64_t switches = 0;
    for (;;) {
      while (!b.ready.empty()) {
        b.round.swap(b.ready);
        b.ready.clear();
        if (b.seeded) {
          for (size_t i = b.round.size(); i > 1; --i) std::swap(b.round[i - 1], b.round[splitmix(b.rng) % i]);
        }
        for (unsigned id : b.round) {
          Fiber& f = b.fibers[id];
          resume(b, f);
          switches += 2;
          WarpState& w = b.warps[f.warp];
          switch (f.st) {
            case St::Exited:
              --b.live;
              w.exited |= 1u << f.lane;
              break;
            case St::Barrier:
              ++b.at_barrier;
              w.barrier |= 1u << f.lane;
              break;
            case St::Warp:
              w.waiting |= 1u << f.lane;
              if (!b.aborted && (f.mask & ~w.waiting) == 0) complete_collective(b, f);
              break;
            case St::Preempted:
              f.st = St::Ready;
              b.ready.push_back(id);
              break;
            case St::Ready:
              break;
          }
        }
      }
      if (b.live == 0) break;
      if (b.aborted) {  // unwind every remaining fiber (each throws KernelAbort where it is parked)
        for (Fiber& f : b.fibers)
          if (f.st != St::Exited) b.ready.push_back(f.linear);
        continue;
      }
      quiescent(b);
    }
    b.fibers.clear();  // all fibers finished: their stacks are back in the pool
    st_blocks.fetch_add(1, std::memory_order_relaxed);
    st_threads.fetch_add(n, std::memory_order_relaxed);
    st_switches.fetch_add(switches, std::memory_order_relaxed);
    size_t seen = L.static_smem.load(std::memory_order_relaxed);
    while (b.static_bytes > seen && !L.static_smem.compare_exchange_weak(seen, b.static_bytes)) {
    }
    if (b.failed) {
      std::lock_guard<std::mutex> lk(L.err_mu);
      if (linear < L.err_block) {
        L.err_block = linear;
        L.err_code = b.code;
        L.err_msg = b.msg;
        L.err_sticky = b.sticky;
      }
      L.failed.store(true);
    }
  }
};

// Per OS thread, reused across launches, freed when the thread ends (hosts such as the JVM may launch
// from short-lived threads).
thread_local std::unique_ptr<BlockRunner> t_runner;

void work(Launch& L) {
  if (!t_runner) t_runner = std::make_unique<BlockRunner>();
  for (;;) {
    if (L.failed.load(std::memory_order_relaxed)) break;  // a faulting grid stops, like on the GPU
    const uint64_t i = L.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= L.total_blocks) break;
    t_runner->run(L, i);
  }
}

// ---------------------------------------------------------------------------------------------
// Worker pool
// ---------------------------------------------------------------------------------------------
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void run(Launch& L, int threads) {
    const uint64_t helpers = std::min<uint64_t>(static_cast<uint64_t>(threads - 1), L.total_blocks - 1);
    if (helpers == 0) {
      work(L);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      while (workers_.size() < helpers) {
        const size_t idx = workers_.size();
        workers_.emplace_back([this, idx, g = gen_] { loop(idx, g); });
      }
      job_ = &L;
      wanted_ = helpers;
      active_ = helpers;
      ++gen_;
    }
    cv_.notify_all();
    work(L);
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [this] { return active_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(size_t idx, uint64_t seen) {  // `seen`: the generation before the worker was created
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || gen_ != seen; });
      if (stop_) return;
      seen = gen_;
      if (idx >= wanted_) continue;
      Launch* L = job_;
      lk.unlock();
      work(*L);
      lk.lock();
      if (--active_ == 0) done_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::vector<std::thread> workers_;
  Launch* job_ = nullptr;
  uint64_t gen_ = 0;
  size_t wanted_ = 0, active_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool p;
  return p;
}

std::mutex g_launch_mu;  // launches run one at a time (each is synchronous)
uint64_t g_launch_number = 0;

std::string launch_name(const LaunchSite& s) {
  return fmt("kernel '%s' (launched at %s:%d)", s.kernel, base_name(s.file), s.line);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Device-side entry points
// ---------------------------------------------------------------------------------------------
void syncthreads(const Site& s) { (void)syncthreads_op(s, 0, 0); }

int syncthreads_op(const Site& s, int op, int pred) {
  Fiber& f = current(s.what);
  f.site = s;
  f.op = op;
  f.val = pred ? 1u : 0u;
  f.st = St::Barrier;
  park(f);
  return static_cast<int>(f.result);
}

void syncwarp(const Site& s, unsigned mask) { (void)collective(s, kOpSyncwarp, mask, 0, 0, 32); }

unsigned long long shfl(const Site& s, int kind, unsigned mask, unsigned long long v, int b, int width) {
  return collective(s, kOpShfl + kind, mask, v, b, width);
}

unsigned vote(const Site& s, int kind, unsigned mask, unsigned v) {
  return static_cast<unsigned>(collective(s, kOpVote + kind, mask, v, 0, 32));
}

unsigned activemask() {
  Fiber& f = current("__activemask");
  const WarpState& w = f.blk->warps[f.warp];
  return w.exists & ~w.exited;
}

void trap(const Site& s) {
  Fiber& f = current(s.what);
  fault(f, cudaErrorLaunchFailure, where(s) + " (kernel trap)");
}

void preempt_point() {
  Fiber* f = tls_fiber;
  if (!f || !f->blk->seeded) return;
  if ((splitmix(f->blk->rng) & 3u) != 0) return;  // race hunting: preempt 1 in 4 accesses
  f->st = St::Preempted;
  park(*f);
}

void yield_point() {
  Fiber* f = tls_fiber;
  if (!f) return;
  f->st = St::Preempted;
  park(*f);
}

void* shared_static_ptr(const SharedDecl* d) {
  Fiber& f = current("FCOS4J_SHARED");
  Block& b = *f.blk;
  for (const SharedSlot& s : b.shared)
    if (s.decl == d) return s.ptr;
  const size_t bytes = d->elem_size * d->count;
  if (d->count == 0)
    fault(f, cudaErrorInvalidValue,
          fmt("shared array '%s' (%s:%d) has zero elements", d->name, base_name(d->file), d->line), false);
  const size_t align = std::max<size_t>(d->align, 16);
  size_t off = (b.arena_used + align - 1) / align * align;
  const size_t before = b.static_bytes;
  b.static_bytes += bytes;  // learnt even when it does not fit: later launches are refused up front
  if (before + bytes > kStaticSmemLimit)
    fault(f, cudaErrorLaunchOutOfResources,
          fmt("static shared memory exceeds %zu bytes with array '%s' (%s:%d, %zu bytes); nvcc rejects such a kernel",
              kStaticSmemLimit, d->name, base_name(d->file), d->line, bytes),
          false);
  if (before + bytes + b.dyn_bytes > b.L->smem_total_limit)
    fault(f, cudaErrorInvalidValue,
          fmt("static (%zu bytes with array '%s' at %s:%d) + dynamic (%zu bytes) shared memory exceeds the "
              "kernel's limit of %zu bytes (raise it with cudaFuncSetAttribute(MaxDynamicSharedMemorySize))",
              before + bytes, d->name, base_name(d->file), d->line, b.dyn_bytes, b.L->smem_total_limit),
          false);
  void* p = b.arena.data() + off;
  std::memset(p, 0xff, bytes);
  b.arena_used = off + bytes;
  b.shared.push_back(SharedSlot{d, p});
  return p;
}

void* shared_dynamic_ptr(const SharedDecl* d, size_t* bytes) {
  Fiber& f = current("FCOS4J_DYNAMIC_SHARED");
  (void)d;
  *bytes = f.blk->dyn_bytes;
  return f.blk->arena.data();
}

void shared_oob(const SharedDecl* d, long long index, bool is_unsigned, size_t count) {
  Fiber& f = current("shared array subscript");
  const std::string idx = is_unsigned ? fmt("%llu", static_cast<unsigned long long>(index)) : fmt("%lld", index);
  fault(f, cudaErrorIllegalAddress,
        fmt("out-of-bounds access to %s shared array '%s' (declared at %s:%d): index %s, size %zu elements",
            d->count ? "static" : "dynamic", d->name, base_name(d->file), d->line, idx.c_str(), count));
}

void launch_impl(const LaunchSite& site, const void* key, dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                 Thunk thunk, void* closure) {
  if (tls_fiber) {
    record_error(cudaErrorNotSupported, "fcos4j-emu: " + launch_name(site) + ": launch from device code is not emulated",
                 false);
    return;
  }
  if (cudaError_t e = sticky_error(); e != cudaSuccess) {
    record_error(e,
                 "fcos4j-emu: " + launch_name(site) + ": not run, an earlier kernel fault is sticky (clear it with "
                 "cudaDeviceReset): " + last_message(),
                 false);
    return;
  }
  if (!is_valid_stream(stream)) {
    record_error(cudaErrorInvalidResourceHandle, "fcos4j-emu: " + launch_name(site) + ": invalid stream", false);
    return;
  }
  const unsigned long long nthreads = 1ull * block.x * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0 || block.x > 1024 || block.y > 1024 || block.z > 64 ||
      nthreads > kMaxThreadsPerBlock) {
    record_error(cudaErrorInvalidConfiguration,
                 "fcos4j-emu: " + launch_name(site) +
                     fmt(": invalid block dimensions (%u,%u,%u): each >= 1, x,y <= 1024, z <= 64, product <= 1024",
                         block.x, block.y, block.z),
                 false);
    return;
  }
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
    record_error(cudaErrorInvalidConfiguration,
                 "fcos4j-emu: " + launch_name(site) +
                     fmt(": invalid grid dimensions (%u,%u,%u): each >= 1, x <= 2^31-1, y,z <= 65535", grid.x, grid.y,
                         grid.z),
                 false);
    return;
  }
  const KernelLimits lim = kernel_limits(key);
  if (smem > lim.max_dynamic_smem) {
    record_error(cudaErrorInvalidValue,
                 "fcos4j-emu: " + launch_name(site) +
                     fmt(": %zu bytes of dynamic shared memory requested, the kernel allows %zu (raise it with "
                         "cudaFuncSetAttribute(MaxDynamicSharedMemorySize), at most %zu)",
                         smem, lim.max_dynamic_smem, kOptinSmemLimit),
                 false);
    return;
  }
  std::lock_guard<std::mutex> lk(g_launch_mu);
  Launch L;
  L.site = site;
  L.key = key;
  L.grid = grid;
  L.block = block;
  L.smem = smem;
  L.thunk = thunk;
  L.closure = closure;
  L.seed = schedule_seed();
  L.number = ++g_launch_number;
  // without the opt-in, static + dynamic must fit the default 48 KiB
  L.smem_total_limit = std::max(kStaticSmemLimit, std::min(kOptinSmemLimit, lim.max_dynamic_smem + lim.static_smem));
  L.total_blocks = 1ull * grid.x * grid.y * grid.z;
  g_preempt = L.seed != 0;
  st_launches.fetch_add(1, std::memory_order_relaxed);
  pool().run(L, configured_threads());
  g_preempt = false;
  if (L.static_smem.load() > 0) note_static_smem(key, L.static_smem.load());
  if (L.failed.load()) record_error(L.err_code, L.err_msg, L.err_sticky);
}

}  // namespace detail
}  // namespace fcos4j_emu

extern "C" void fcos4j_emu_get_stats(fcos4j_emu_stats* out) {
  using namespace fcos4j_emu::detail;
  if (!out) return;
  out->launches = st_launches.load();
  out->blocks = st_blocks.load();
  out->threads = st_threads.load();
  out->context_switches = st_switches.load();
  out->stacks_mapped = st_stacks.load();
}

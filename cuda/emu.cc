//go:build cudaemu && !cuda

// emu.cc runs the kernels of kernels/*.cu on the CPU, for tests without a GPU
// (`go test -tags cudaemu`). See kernels/emu.h for what the kernels see.
//
// A launch runs its blocks one after another. The threads of a block are
// fibers on the calling OS thread, switched only at barriers:
// __syncthreads waits for every thread of the block that has not exited,
// __shfl_xor_sync for every such thread of the warp, barSync (a named
// barrier) for its count of threads. That is one valid CUDA schedule, so a
// kernel that is correct on the GPU is correct here, and a barrier some
// threads never reach is reported instead of hanging. When a named barrier
// opens, the scheduler goes back to the first fiber (blocks with an even
// bx + by) or the last (the others), so that warp groups that synchronise
// only among themselves run as far apart as the barriers allow, in both
// orders: a group reading what another has not yet written shows.

// Nothing fused: products meet sums rounded, as the kernels' __dmul_rn and
// __dadd_rn and Go's float64() conversions ask.
#pragma GCC optimize("fp-contract=off")

#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "emu.h"

#include "../kernels/kernels.cu"
#include "../kernels/hopper.cu"

#include "emu_launch.h"

emuDim3 emuThreadIdx, emuBlockIdx, emuBlockDim, emuGridDim;

// Fiber contexts. On x86-64 a fiber switch is emuSwitch below: it saves the
// callee-saved registers and the stack pointer, about 20 instructions, where
// swapcontext also saves and restores the signal mask with a system call
// (the emulator switches fibers millions of times per test). Elsewhere, and
// under AddressSanitizer (which must see stack switches), ucontext.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define EMU_FAST_SWITCH 1
// emuSwitch(from, to) stores the running context's stack pointer in *from
// and resumes the context whose stack pointer is to.
extern "C" void emuSwitch(void** from, void* to);
asm(R"(
    .text
    .globl emuSwitch
    .type emuSwitch, @function
emuSwitch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size emuSwitch, .-emuSwitch
)");
struct Context {
    void* sp;
};
#else
#define EMU_FAST_SWITCH 0
struct Context {
    ucontext_t uc;
};
#endif

namespace {

enum State { Running, AtBlockBarrier, AtWarpBarrier, AtNamedBarrier, AtWarpgroupBarrier, Exited };

struct Fiber {
    Context ctx;
    State state;
    unsigned gen;  // the barrier generation the fiber waits to pass
    int bar;       // the named barrier it waits at (AtNamedBarrier)
};

const size_t kStack = 256 << 10;   // bytes of stack per fiber
const int kMaxThreads = 1024;

Context scheduler;
std::vector<Fiber> fibers;
std::vector<char> stacks;
int current, threads, live;
int blockArrived;
unsigned blockGen;
int warpArrived[kMaxThreads / 32], warpLive[kMaxThreads / 32];
unsigned warpGen[kMaxThreads / 32];
// Warpgroups (4 warps, 128 threads) meet inside wgmmaWait.
int groupArrived[kMaxThreads / 128], groupLive[kMaxThreads / 128];
unsigned groupGen[kMaxThreads / 128];
const int kNamedBarriers = 16;  // ids 1..15; 0 is __syncthreads
int namedArrived[kNamedBarriers], namedCount[kNamedBarriers];
unsigned namedGen[kNamedBarriers];
// Per named barrier and warp, in the barrier's current generation: the lanes
// that have arrived and the call site of the first (bar.sync and bar.arrive
// are .aligned: a warp's lanes reach them together, at one instruction).
// namedWarpLive: the warp's live lanes when its first lane arrived (an
// arriving warp may exit before the barrier opens).
int namedWarpArrived[kNamedBarriers][kMaxThreads / 32], namedWarpLive[kNamedBarriers][kMaxThreads / 32];
const void* namedWarpSite[kNamedBarriers][kMaxThreads / 32];
bool rescan;  // a named barrier opened: the scheduler starts its scan again
float shuffle[kMaxThreads];
std::vector<float> shared;
std::string failure;

// Asynchronous copies (cp.async) land at either end of the window the GPU
// allows, alternating by block: in blocks with an even bx + by a copy is
// held until its thread waits for its group (so a read that needs a missing
// wait sees NaN or stale data, whatever barriers come between), in the others
// it lands when issued (so a copy into a buffer other threads still read
// shows). The source is read when the copy is issued (kernels do not write
// what they copy in the same launch).
struct PendingCopy {
    float* dst;
    float data[4];
    int n;      // floats
    int group;  // the commit group: copies issued after `committed` commits
};
std::vector<PendingCopy> pending[kMaxThreads];
int committed[kMaxThreads];
bool copiesLand;  // the block's copies land when issued

// A recorded wgmma of one thread: where its accumulators are, the operands'
// descriptors, its A fragment (RS), whether it adds to D or replaces it
// (scale-d), and its commit group (the thread's commits before it).
struct WgmmaOp {
    float* d;
    int n;  // N: 128 or 64
    unsigned long long descA, descB;
    bool regs;
    unsigned a[4];
    bool accumulate;
    int group;
};
std::vector<WgmmaOp> wgmmaOps[kMaxThreads];
int wgmmaCommits[kMaxThreads];  // the thread's wgmmaCommit calls in this block
void (*body)(void**);
void** bodyArgs;

// switchTo saves the running context in from and resumes to.
void switchTo(Context& from, Context& to) {
#if EMU_FAST_SWITCH
    emuSwitch(&from.sp, to.sp);
#else
    swapcontext(&from.uc, &to.uc);
#endif
}

// yield returns to the scheduler in state s.
void yield(State s, unsigned gen) {
    Fiber& f = fibers[current];
    f.state = s;
    f.gen = gen;
    switchTo(f.ctx, scheduler);
}

void releaseBlockIfComplete() {
    if (blockArrived > 0 && blockArrived == live) {
        blockArrived = 0;
        blockGen++;
    }
}

void releaseWarpIfComplete(int w) {
    if (warpArrived[w] > 0 && warpArrived[w] == warpLive[w]) {
        warpArrived[w] = 0;
        warpGen[w]++;
    }
}

void releaseGroupIfComplete(int g) {
    if (groupArrived[g] > 0 && groupArrived[g] == groupLive[g]) {
        groupArrived[g] = 0;
        groupGen[g]++;
    }
}

void warpgroupBarrier() {
    int g = current / 128;
    unsigned gen = groupGen[g];
    groupArrived[g]++;
    releaseGroupIfComplete(g);
    if (groupGen[g] == gen) yield(AtWarpgroupBarrier, gen);
}

void warpBarrier() {
    int w = current / 32;
    unsigned gen = warpGen[w];
    warpArrived[w]++;
    releaseWarpIfComplete(w);
    if (warpGen[w] == gen) yield(AtWarpBarrier, gen);
}

void trampoline() {
    body(bodyArgs);
    int w = current / 32;
    live--;
    warpLive[w]--;
    groupLive[current / 128]--;
    releaseBlockIfComplete();
    releaseWarpIfComplete(w);
    releaseGroupIfComplete(current / 128);
    fibers[current].state = Exited;
    switchTo(fibers[current].ctx, scheduler);
}

// start makes fiber i's context begin in trampoline on its own stack.
void start(int i) {
    char* base = stacks.data() + (size_t)i * kStack;
#if EMU_FAST_SWITCH
    // From the top: a fake return address (so that trampoline starts with
    // rsp = 8 mod 16, as after a call), trampoline for emuSwitch's ret, and
    // six zero registers for its pops.
    uintptr_t top = ((uintptr_t)(base + kStack)) & ~(uintptr_t)15;
    void** sp = (void**)top;
    *--sp = nullptr;
    *--sp = (void*)&trampoline;
    for (int r = 0; r < 6; r++) *--sp = nullptr;
    fibers[i].ctx.sp = sp;
#else
    ucontext_t& uc = fibers[i].ctx.uc;
    getcontext(&uc);
    uc.uc_stack.ss_sp = base;
    uc.uc_stack.ss_size = kStack;
    uc.uc_link = nullptr;
    makecontext(&uc, trampoline, 0);
#endif
}

bool runnable(const Fiber& f, int i) {
    switch (f.state) {
    case Running:
        return true;
    case AtBlockBarrier:
        return blockGen != f.gen;
    case AtWarpBarrier:
        return warpGen[i / 32] != f.gen;
    case AtNamedBarrier:
        return namedGen[f.bar] != f.gen;
    case AtWarpgroupBarrier:
        return groupGen[i / 128] != f.gen;
    default:
        return false;
    }
}

// runBlock runs every thread of block (bx, by) to its end; false on a
// deadlock (failure says which threads wait where).
bool runBlock(unsigned bx, unsigned by, int sharedBytes) {
    emuBlockIdx = {bx, by, 0};
    std::memset(shared.data(), 0xff, sharedBytes);  // NaN: unwritten shared memory shows
    live = threads;
    blockArrived = 0;
    for (int i = 0; i < threads; i++) {
        pending[i].clear();
        committed[i] = 0;
        wgmmaOps[i].clear();
        wgmmaCommits[i] = 0;
    }
    copiesLand = (bx + by) % 2 == 1;
    for (int w = 0; w < (threads + 31) / 32; w++) {
        warpArrived[w] = 0;
        warpLive[w] = std::min(32, threads - 32 * w);
    }
    for (int g = 0; g < (threads + 127) / 128; g++) {
        groupArrived[g] = 0;
        groupLive[g] = std::min(128, threads - 128 * g);
    }
    for (int b = 0; b < kNamedBarriers; b++) {
        namedArrived[b] = 0;
        for (int w = 0; w < kMaxThreads / 32; w++) namedWarpArrived[b][w] = 0;
    }
    for (int i = 0; i < threads; i++) {
        start(i);
        fibers[i].state = Running;
    }
    const bool descending = (bx + by) % 2 == 1;  // the scan's order (see the top of the file)
    int exited = 0;
    while (exited < threads) {
        bool progress = false;
        rescan = false;
        for (int n = 0; n < threads; n++) {
            const int i = descending ? threads - 1 - n : n;
            Fiber& f = fibers[i];
            if (!runnable(f, i)) continue;
            progress = true;
            current = i;
            emuThreadIdx = {(unsigned)i, 0, 0};
            f.state = Running;
            switchTo(scheduler, f.ctx);
            if (f.state == Exited) exited++;
            if (rescan) {
                rescan = false;
                n = -1;
            }
        }
        if (!progress) {
            int atBlock = 0, atWarp = 0, atNamed = 0, atGroup = 0, firstWarp = -1, firstNamed = -1;
            for (int i = 0; i < threads; i++) {
                if (fibers[i].state == AtBlockBarrier) atBlock++;
                if (fibers[i].state == AtWarpgroupBarrier) atGroup++;
                if (fibers[i].state == AtWarpBarrier) {
                    atWarp++;
                    if (firstWarp < 0) firstWarp = i;
                }
                if (fibers[i].state == AtNamedBarrier) {
                    atNamed++;
                    if (firstNamed < 0) firstNamed = i;
                }
            }
            char msg[400];
            std::snprintf(msg, sizeof msg,
                          "deadlock in block (%u,%u): %d of %d live threads wait at __syncthreads, %d at a warp "
                          "shuffle (first thread %d), %d at a named barrier (first thread %d, barrier %d), %d in "
                          "wgmmaWait, %d exited",
                          bx, by, atBlock, live, atWarp, firstWarp, atNamed, firstNamed,
                          firstNamed < 0 ? -1 : fibers[firstNamed].bar, atGroup, exited);
            failure = msg;
            return false;
        }
    }
    for (int i = 0; i < threads; i++) {
        if (!wgmmaOps[i].empty()) {
            failure = "thread " + std::to_string(i) + " of block (" + std::to_string(bx) + "," + std::to_string(by) +
                      ") ended with wgmmas it never waited for (wgmmaWait, wgmmaWaitGroup)";
            return false;
        }
    }
    return true;
}

}  // namespace

void __syncthreads() {
    unsigned gen = blockGen;
    blockArrived++;
    releaseBlockIfComplete();
    if (blockGen == gen) yield(AtBlockBarrier, gen);
}

// namedArrive counts the calling thread at named barrier id of count
// threads and opens it when the count is reached; it returns the
// generation the thread waits to pass. site is the call's return address:
// every lane of a warp must arrive from the same one, and a warp counts
// only whole (its live lanes) when the barrier opens.
static unsigned namedArrive(const char* op, int id, int count, const void* site) {
    if (id < 1 || id >= kNamedBarriers || count <= 0 || count % 32 != 0 || count > threads) {
        std::fprintf(stderr, "emu: %s(%d, %d) from thread %d of %d: want id 1..%d and a count of whole warps\n", op,
                     id, count, current, threads, kNamedBarriers - 1);
        std::abort();
    }
    if (namedArrived[id] == 0) namedCount[id] = count;
    if (namedCount[id] != count) {
        std::fprintf(stderr, "emu: %s(%d, %d) from thread %d: the barrier's other threads gave count %d\n", op, id,
                     count, current, namedCount[id]);
        std::abort();
    }
    const int w = current / 32;
    if (namedWarpArrived[id][w]++ == 0) {
        namedWarpSite[id][w] = site;
        namedWarpLive[id][w] = warpLive[w];
    } else if (namedWarpSite[id][w] != site) {
        std::fprintf(stderr, "emu: %s(%d, %d) from thread %d: lanes of warp %d reach barrier %d from different places (divergent .aligned barrier)\n",
                     op, id, count, current, w, id);
        std::abort();
    }
    unsigned gen = namedGen[id];
    if (++namedArrived[id] == count) {
        for (int v = 0; v < (threads + 31) / 32; v++) {
            if (namedWarpArrived[id][v] != 0 && namedWarpArrived[id][v] != namedWarpLive[id][v]) {
                std::fprintf(stderr, "emu: barrier %d opened with %d of the %d live lanes of warp %d\n", id,
                             namedWarpArrived[id][v], namedWarpLive[id][v], v);
                std::abort();
            }
            namedWarpArrived[id][v] = 0;
        }
        namedArrived[id] = 0;
        namedGen[id]++;
        rescan = true;
    }
    return gen;
}

void barSync(int id, int count) {
    unsigned gen = namedArrive("barSync", id, count, __builtin_return_address(0));
    if (namedGen[id] == gen) {
        fibers[current].bar = id;
        yield(AtNamedBarrier, gen);
    }
}

void barArrive(int id, int count) { namedArrive("barArrive", id, count, __builtin_return_address(0)); }

float __shfl_xor_sync(unsigned mask, float v, int laneMask) {
    int partner = current ^ laneMask;
    if (mask != 0xffffffffu || laneMask < 0 || laneMask > 31 || partner >= threads) {
        std::fprintf(stderr, "emu: __shfl_xor_sync(mask=%#x, lane mask %d) from thread %d of %d: only full warps\n",
                     mask, laneMask, current, threads);
        std::abort();
    }
    shuffle[current] = v;
    warpBarrier();
    float r = shuffle[partner];
    warpBarrier();
    return r;
}

float* emuDynamicShared() { return shared.data(); }

void emuCpAsync(float* dst, const float* src, int n) {
    if (copiesLand) {
        std::memcpy(dst, src, sizeof(float) * n);
        return;
    }
    PendingCopy c{dst, {}, n, committed[current]};
    std::memcpy(c.data, src, sizeof(float) * n);
    pending[current].push_back(c);
}

void emuCpAsyncCommit() { committed[current]++; }

// emuCpAsyncWaitGroup completes the calling thread's copies of every
// committed group but the newest n (cp.async.wait_group n).
void emuCpAsyncWaitGroup(int n) {
    std::vector<PendingCopy>& p = pending[current];
    size_t done = 0;
    while (done < p.size() && p[done].group < committed[current] - n) {
        std::memcpy(p[done].dst, p[done].data, sizeof(float) * p[done].n);
        done++;
    }
    p.erase(p.begin(), p.begin() + done);
}

// __trap ends the process, as a trapped kernel ends the GPU context: a
// kernel traps only on a launch its code does not support.
void __trap() {
    std::fprintf(stderr, "emu: __trap in block (%u,%u) thread %d of %d\n", emuBlockIdx.x, emuBlockIdx.y, current, threads);
    std::abort();
}

// tensorCoreSum returns c + sum of the 8 products as the tensor cores add
// them (Fasi, Higham, Mikaitis and Pranesh, "Numerical behavior of NVIDIA
// tensor cores", PeerJ Comput. Sci. 2021, for TF32 on the A100): the
// products are exact; every addend is aligned to the one of largest
// magnitude and the bits below that one's float32 precision are dropped
// (truncation); the sum is rounded toward zero to float32. Not round to
// nearest: over many calls into one accumulator the errors do not cancel.
// On the H200 this rounding is what failed `degen compare` for the
// tensor-core sequence kernels (bench/RESULTS.md, fourth session).
//
// DEGEN_EMU_TC_BITS (default 23, float32's) sets how many bits below the
// largest addend's leading bit survive: fewer model a tensor core that keeps
// less, to measure how much a kernel's accuracy depends on it.
static int tensorCoreBits() {
    const char* s = std::getenv("DEGEN_EMU_TC_BITS");
    if (s == nullptr || *s == 0) return 23;
    int bits = std::atoi(s);
    if (bits < 8 || bits > 40) {
        std::fprintf(stderr, "emu: DEGEN_EMU_TC_BITS=%s: want 8 to 40\n", s);
        std::abort();
    }
    return bits;
}
static const int kTensorCoreBits = tensorCoreBits();

static float tensorCoreSum(float c, const float a[8], const float b[8]) {
    double t[9], plain = 0, big = 0;
    t[0] = c;
    for (int k = 0; k < 8; k++) t[k + 1] = (double)a[k] * (double)b[k];  // exact: 11-bit by 11-bit significands
    for (double v : t) {
        plain += v;
        big = std::max(big, std::fabs(v));
    }
    if (!std::isfinite(plain) || big == 0) return (float)plain;  // Inf and NaN propagate; all zero
    const double ulp = std::ldexp(1.0, std::ilogb(big) - kTensorCoreBits), perUlp = 1 / ulp;  // powers of two: exact
    double sum = 0;
    for (double v : t) sum += (double)(int64_t)(v * perUlp) * ulp;  // truncated; exact: nine multiples of ulp below 2^(emax+1)
    float r = (float)sum;  // to nearest; step back where that went away from zero
    if (std::fabs((double)r) > std::fabs(sum)) r = std::nextafter(r, 0.f);
    return r;
}

// mmaTF32 gathers the warp's fragments (one warp barrier), and every lane
// computes its four elements of D from the whole of A and B (layout in
// kernels/compat.cuh; the sums as tensorCoreSum); a second barrier frees the
// scratch for the next call.
void mmaTF32(float d[4], const unsigned a[4], const unsigned b[2]) {
    static unsigned fragA[kMaxThreads][4], fragB[kMaxThreads][2];
    int lane = current % 32, warp0 = current - lane;
    if (warp0 + 32 > threads) {
        std::fprintf(stderr, "emu: mma.sync from thread %d of %d: only full warps\n", current, threads);
        std::abort();
    }
    for (int r = 0; r < 4; r++) fragA[current][r] = a[r];
    for (int r = 0; r < 2; r++) fragB[current][r] = b[r];
    warpBarrier();
    auto A = [&](int m, int k) { return __uint_as_float(fragA[warp0 + (m % 8) * 4 + k % 4][m / 8 + 2 * (k / 4)]); };
    auto B = [&](int k, int n) { return __uint_as_float(fragB[warp0 + n * 4 + k % 4][k / 4]); };
    int g = lane / 4, q = lane % 4;
    for (int r = 0; r < 4; r++) {
        int m = g + 8 * (r / 2), n = 2 * q + r % 2;
        float av[8], bv[8];
        for (int k = 0; k < 8; k++) {
            av[k] = A(m, k);
            bv[k] = B(k, n);
        }
        d[r] = tensorCoreSum(d[r], av, bv);
    }
    warpBarrier();
}

// ---- wgmma (kernels/compat.cuh, kernels/emu.h) ----

// wgmmaDesc encodes p's offset in the dynamic shared memory as the GPU
// encodes its shared address (wgmmaDescBits, kernels/compat.cuh).
unsigned long long wgmmaDesc(const float* p, int lbo, int sbo) {
    const long off = (const char*)p - (const char*)shared.data();
    if (off < 0 || off >= (long)shared.size() * 4 || off % 16 != 0 || lbo % 16 != 0 || sbo % 16 != 0) {
        std::fprintf(stderr, "emu: wgmmaDesc from thread %d: the operand must start 16-byte aligned in the dynamic shared memory (offset %ld of %zu bytes; lbo %d, sbo %d multiples of 16)\n",
                     current, off, shared.size() * 4, lbo, sbo);
        std::abort();
    }
    return wgmmaDescBits((unsigned)off, lbo, sbo);
}

namespace {

// operand returns element (r, k) of the K-major TF32 operand that desc
// describes (kernels/compat.cuh, wgmmaDesc), as the tensor cores read it:
// the TF32 bits only.
float operand(unsigned long long desc, int r, int k) {
    const long start = (long)(desc & 0x3fff) << 4, lbo = (long)((desc >> 16) & 0x3fff) << 4,
               sbo = (long)((desc >> 32) & 0x3fff) << 4;
    const long byte = start + (r / 8) * sbo + (k / 4) * lbo + (r % 8) * 16 + (k % 4) * 4;
    if (byte < 0 || byte + 4 > (long)shared.size() * 4) {
        std::fprintf(stderr, "emu: wgmma in block (%u,%u) reads byte %ld of %zu of shared memory (row %d, k %d)\n",
                     emuBlockIdx.x, emuBlockIdx.y, byte, shared.size() * 4, r, k);
        std::abort();
    }
    unsigned bits;
    std::memcpy(&bits, (const char*)shared.data() + byte, 4);
    return __uint_as_float(bits & 0xffffe000u);
}

void recordWgmma(WgmmaOp op) {
    if ((current / 128 + 1) * 128 > threads) {
        std::fprintf(stderr, "emu: wgmma from thread %d of %d: only whole warpgroups of 128 threads\n", current, threads);
        std::abort();
    }
    op.group = wgmmaCommits[current];
    wgmmaOps[current].push_back(op);
}

}  // namespace

void wgmmaSS128(float d[64], unsigned long long descA, unsigned long long descB, int accumulate) {
    recordWgmma(WgmmaOp{d, 128, descA, descB, false, {}, accumulate != 0, 0});
}

void wgmmaSS64(float d[32], unsigned long long descA, unsigned long long descB, int accumulate) {
    recordWgmma(WgmmaOp{d, 64, descA, descB, false, {}, accumulate != 0, 0});
}

void wgmmaRS128(float d[64], const unsigned a[4], unsigned long long descB) {
    recordWgmma(WgmmaOp{d, 128, 0, descB, true, {a[0], a[1], a[2], a[3]}, true, 0});
}

void wgmmaRS64(float d[32], const unsigned a[4], unsigned long long descB) {
    recordWgmma(WgmmaOp{d, 64, 0, descB, true, {a[0], a[1], a[2], a[3]}, true, 0});
}

void wgmmaCommit() { wgmmaCommits[current]++; }

// emuWgmmaWaitGroup (wgmmaWaitGroup<n>, wgmmaWait) completes the
// warpgroup's recorded products in every committed group but the newest n:
// each thread computes its N / 2 accumulators of each of those products in
// order (fragment layout in kernels/compat.cuh), reading shared memory now
// and the A fragments its warpgroup recorded. Products not yet committed
// stay pending, as wgmma.wait_group leaves them.
void emuWgmmaWaitGroup(int pendingGroups) {
    const int g0 = current / 128 * 128, t = current - g0, w = t / 32, g = (t % 32) / 4, q = t % 4;
    warpgroupBarrier();
    const int done = wgmmaCommits[current] - pendingGroups;  // groups below this one complete
    size_t n = 0;
    while (n < wgmmaOps[current].size() && wgmmaOps[current][n].group < done) n++;
    for (int u = 0; u < 128; u++) {
        if (wgmmaCommits[g0 + u] != wgmmaCommits[current] || wgmmaOps[g0 + u].size() != wgmmaOps[current].size()) {
            std::fprintf(stderr, "emu: wgmmaWaitGroup: thread %d issued %zu wgmmas in %d groups, thread %d of its warpgroup %zu in %d\n",
                         current, wgmmaOps[current].size(), wgmmaCommits[current], g0 + u, wgmmaOps[g0 + u].size(),
                         wgmmaCommits[g0 + u]);
            std::abort();
        }
    }
    for (size_t i = 0; i < n; i++) {
        const WgmmaOp& op = wgmmaOps[current][i];
        auto A = [&](int m, int k) {
            if (!op.regs) return operand(op.descA, m, k);
            // the thread of the warpgroup that holds A[m][k], and which register
            const int ww = m / 16, mm = m % 16, lane = (mm % 8) * 4 + k % 4;
            return __uint_as_float(wgmmaOps[g0 + 32 * ww + lane][i].a[mm / 8 + 2 * (k / 4)] & 0xffffe000u);
        };
        for (int j = 0; j < op.n / 8; j++)
            for (int r = 0; r < 4; r++) {
                const int m = 16 * w + g + 8 * (r / 2), nn = 8 * j + 2 * q + r % 2;
                float av[8], bv[8];
                for (int k = 0; k < 8; k++) {
                    av[k] = A(m, k);
                    bv[k] = operand(op.descB, nn, k);
                }
                op.d[4 * j + r] = tensorCoreSum(op.accumulate ? op.d[4 * j + r] : 0.f, av, bv);
            }
    }
    warpgroupBarrier();  // every thread has read the others' fragments
    wgmmaOps[current].erase(wgmmaOps[current].begin(), wgmmaOps[current].begin() + n);
}

extern "C" {

// emuKernelSignature returns the parameter types of kernel name, one letter
// each (P pointer, I int, F float, U unsigned long long), or null.
const char* emuKernelSignature(const char* name) {
    const EmuKernel* k = emuFind(name);
    return k ? k->signature : nullptr;
}

// emuLaunch runs kernel name over grid (gx, gy) with block threads and
// sharedBytes of dynamic shared memory; args point at one 8-byte slot per
// parameter, as cuLaunchKernel's kernelParams. It returns null or a message
// (valid until the next launch).
const char* emuLaunch(const char* name, int gx, int gy, int block, int sharedBytes, void** args) {
    const EmuKernel* k = emuFind(name);
    if (!k) return "no such kernel in the emulator";
    if (gx <= 0 || gy <= 0 || block <= 0 || block > kMaxThreads || sharedBytes < 0) return "invalid launch shape";
    threads = block;
    if ((int)fibers.size() < block) {
        fibers.resize(block);
        stacks.resize((size_t)block * kStack);
    }
    shared.assign((size_t)sharedBytes / sizeof(float), 0.f);
    emuBlockDim = {(unsigned)block, 1, 1};
    emuGridDim = {(unsigned)gx, (unsigned)gy, 1};
    body = k->call;
    bodyArgs = args;
    for (int by = 0; by < gy; by++)
        for (int bx = 0; bx < gx; bx++)
            if (!runBlock(bx, by, sharedBytes)) return failure.c_str();
    return nullptr;
}

}  // extern "C"

// emu.h maps the CUDA C that kernels/*.cu use onto the CPU emulator in
// cuda/emu.cc (built only with `-tags cudaemu`). Every CUDA thread of a block
// runs as a fiber on one OS thread; __syncthreads and __shfl_xor_sync switch
// fibers at their barriers, blocks run one after another. __shared__
// variables become statics (one block at a time, so one copy serves every
// block); the dynamic shared memory is fresh per block and filled with NaN
// so that reading what no thread wrote shows up in results.
//
// What it checks: indexing, bounds, barrier placement (a barrier that not
// every live thread reaches is reported as a deadlock), launch arguments,
// shared-memory sizes, and asynchronous copies landing at either end of
// their window (a missing cp.async wait, a copy overwriting data still in
// use). What it cannot: timing, the memory model beyond barriers and
// cp.async, tanhf's and the libm functions' last bits on the GPU.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static

struct emuDim3 {
    unsigned x, y, z;
};
extern emuDim3 emuThreadIdx, emuBlockIdx, emuBlockDim, emuGridDim;
#define threadIdx emuThreadIdx
#define blockIdx emuBlockIdx
#define blockDim emuBlockDim
#define gridDim emuGridDim

void __syncthreads();
void barSync(int id, int count);
void barArrive(int id, int count);
void __trap();
float __shfl_xor_sync(unsigned mask, float v, int laneMask);
float* emuDynamicShared();
#define DYNAMIC_SHARED(name) float* name = emuDynamicShared()

struct __attribute__((aligned(16))) float4 {
    float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
struct __attribute__((aligned(8))) float2 {
    float x, y;
};
inline float2 make_float2(float x, float y) { return float2{x, y}; }

using std::max;
using std::min;

// TF32 and the tensor cores' mma.sync.m16n8k8, emulated (cuda/emu.cc): the
// fragment layout is the one compat.cuh documents; the sums truncate as the
// tensor cores' do (tensorCoreSum), not round to nearest.
inline float __uint_as_float(unsigned u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline unsigned __float_as_uint(float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    return u;
}
// cvt.rna.tf32.f32: to nearest, ties away from zero; NaN stays NaN (the
// integer rounding alone would carry a NaN's payload into the sign bit).
inline unsigned toTF32(float x) {
    if (std::isnan(x)) return 0x7fffffffu;
    return (__float_as_uint(x) + 0x1000u) & 0xffffe000u;
}
void mmaTF32(float d[4], const unsigned a[4], const unsigned b[2]);

// Hopper's warpgroup MMA (kernels/compat.cuh documents the real ones),
// emulated in cuda/emu.cc: descriptors address the dynamic shared memory;
// the wgmma wrappers only record the product (and, for RS, a copy of the A
// fragment) in the thread's open group, which wgmmaCommit closes;
// wgmmaWaitGroup<N> computes the warpgroup's recorded products in order but
// those of its newest N committed groups (wgmmaWait: all), reading shared
// memory then, so a kernel that rewrites an operand before waiting gets wrong
// results here, as it may on the GPU. The sums round as tensorCoreSum does
// per 8 products (unverified for wgmma). Fences are no-ops: the emulator
// cannot check their placement.
unsigned long long wgmmaDesc(const float* p, int lbo, int sbo);
inline void wgmmaFenceProxy() {}
inline void wgmmaFence() {}
void wgmmaCommit();
template <int N>
inline void wgmmaFenceOperands(float (&)[N]) {}
void emuWgmmaWaitGroup(int n);
inline void wgmmaWait() { emuWgmmaWaitGroup(0); }
template <int N>
inline void wgmmaWaitGroup() { emuWgmmaWaitGroup(N); }
void wgmmaSS128(float d[64], unsigned long long descA, unsigned long long descB, int accumulate);
void wgmmaSS64(float d[32], unsigned long long descA, unsigned long long descB, int accumulate);
void wgmmaRS128(float d[64], const unsigned a[4], unsigned long long descB);
void wgmmaRS64(float d[32], const unsigned a[4], unsigned long long descB);

// cp.async: a copy reaches shared memory when its thread waits for its
// group, or in every other block at once (cuda/emu.cc), so a missing wait
// or a copy into a buffer still being read changes results.
void emuCpAsync(float* dst, const float* src, int n);
void emuCpAsyncCommit();
void emuCpAsyncWaitGroup(int n);
inline void cpAsync4(float* dst, const float* src) { emuCpAsync(dst, src, 1); }
inline void cpAsync8(float* dst, const float* src) { emuCpAsync(dst, src, 2); }
inline void cpAsync16(float* dst, const float* src) { emuCpAsync(dst, src, 4); }
inline void cpAsyncCommit() { emuCpAsyncCommit(); }
template <int N>
inline void cpAsyncWaitGroup() { emuCpAsyncWaitGroup(N); }
inline void cpAsyncWait() {
    emuCpAsyncCommit();
    emuCpAsyncWaitGroup(0);
}

// Correctly rounded double operations (cuda/emu.cc turns fp-contract off,
// so nothing is fused).
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __double2float_rn(double a) { return (float)a; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
// sin and sincos (kernels/tasks.cu) are glibc's here, libdevice's on the GPU:
// their last bits may differ from each other and from Go's math package.

// compat.cuh holds the few things that nvcc and the CPU emulator build
// differently. nvcc (kernels/genptx.sh) gets the real CUDA: asynchronous
// copies in inline PTX and the dynamic shared-memory array. A host C++
// compiler (cuda/emu.cc, `go test -tags cudaemu`) gets kernels/emu.h, which
// maps CUDA's keywords, built-in indices, barriers and shuffles onto the
// emulator, so the same kernel source runs on the CPU for tests.
#pragma once

#ifdef __CUDACC__

// DYNAMIC_SHARED(name) declares the block's dynamic shared memory (the
// launch's Shared bytes) as a 16-byte aligned float array.
#define DYNAMIC_SHARED(name) extern __shared__ __align__(16) float name[]

// cpAsync4 copies one float from global to shared memory without going
// through registers (sm_80+); cpAsync16 copies four (both 16-byte aligned).
// cpAsyncWait waits for the calling thread's copies; other threads see them
// after a __syncthreads. cpAsyncCommit closes the thread's current group of
// copies; cpAsyncWaitGroup<N> waits for all its committed groups but the
// newest N (for pipelines of several stages in flight).
__device__ __forceinline__ void cpAsync4(float* dst, const float* src) {
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(d), "l"(src));
}
__device__ __forceinline__ void cpAsync16(float* dst, const float* src) {
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(d), "l"(src));
}
__device__ __forceinline__ void cpAsyncWait() {
    asm volatile("cp.async.commit_group;\n" ::);
    asm volatile("cp.async.wait_all;\n" ::);
}
__device__ __forceinline__ void cpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cpAsyncWaitGroup() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// barSync waits at named barrier id (1..15; __syncthreads is barrier 0)
// until count threads (a multiple of 32) have arrived at it, with
// __syncthreads' memory ordering among them; barArrive counts the calling
// thread towards the barrier without waiting (no memory ordering).
__device__ __forceinline__ void barSync(int id, int count) {
    asm volatile("bar.sync %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}
__device__ __forceinline__ void barArrive(int id, int count) {
    asm volatile("bar.arrive %0, %1;\n" ::"r"(id), "r"(count) : "memory");
}

// toTF32 rounds x to TensorFloat-32 (10 mantissa bits, to nearest, ties
// away from zero) and returns its bits.
__device__ __forceinline__ unsigned toTF32(float x) {
    unsigned r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
    return r;
}

// mmaTF32 is one warp-wide mma.sync.m16n8k8 on the tensor cores,
// d (16x8) += a (16x8, TF32) b (8x8, TF32), float32 accumulation. Each lane
// holds, with g = lane / 4 and q = lane % 4 (PTX ISA, "Matrix Fragments for
// mma.m16n8k8", .tf32):
//
//	a[r] = A[g + 8 (r % 2)][q + 4 (r / 2)]   r = 0..3
//	b[r] = B[q + 4 r][g]                     r = 0..1
//	d[r] = D[g + 8 (r / 2)][2 q + r % 2]     r = 0..3
__device__ __forceinline__ void mmaTF32(float d[4], const unsigned a[4], const unsigned b[2]) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

#else

#include "emu.h"

#endif

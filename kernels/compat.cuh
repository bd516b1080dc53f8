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
// after a __syncthreads.
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

#else

#include "emu.h"

#endif

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
// through registers (sm_80+); cpAsync8 copies two (both 8-byte aligned),
// cpAsync16 four (both 16-byte aligned).
// cpAsyncWait waits for the calling thread's copies; other threads see them
// after a __syncthreads. cpAsyncCommit closes the thread's current group of
// copies; cpAsyncWaitGroup<N> waits for all its committed groups but the
// newest N (for pipelines of several stages in flight).
__device__ __forceinline__ void cpAsync4(float* dst, const float* src) {
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(d), "l"(src));
}
__device__ __forceinline__ void cpAsync8(float* dst, const float* src) {
    unsigned d = (unsigned)__cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8;\n" ::"r"(d), "l"(src));
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

// ---- Hopper's warpgroup MMA (wgmma, PTX ISA 8.0, target sm_90a): only
// kernels/hopper.cu uses these; genptx.sh rewrites its PTX's version and
// target, since the CUDA 11.8 nvcc here passes inline PTX through unread but
// knows neither. A warpgroup is 4 consecutive warps (128 threads); every
// thread of it calls each of these together.
//
// wgmmaFenceProxy makes the calling thread's shared-memory stores visible
// to wgmma's reads (the async proxy); then a barrier, then the wgmma.
__device__ __forceinline__ void wgmmaFenceProxy() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
// wgmmaFence orders the accumulators' and A fragments' register writes
// before the next wgmma; wgmmaCommit closes a group of issued wgmmas;
// wgmmaWait waits for every committed group (only then may the
// accumulators be read or the operands' shared memory be rewritten).
__device__ __forceinline__ void wgmmaFence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmmaCommit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmmaWait() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }
// wgmmaWaitGroup<N> waits for every committed group but the newest N, so
// that a kernel can read one group's accumulators while the next runs.
template <int N>
__device__ __forceinline__ void wgmmaWaitGroup() {
    asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// wgmmaFenceOperands ties every accumulator to a point after the preceding
// wgmmaWait: the compiler sees wgmma's results only as asm outputs, so
// without it, it could move a read of d above the wait.
template <int N>
__device__ __forceinline__ void wgmmaFenceOperands(float (&d)[N]) {
#pragma unroll
    for (int i = 0; i < N; i++) asm volatile("" : "+f"(d[i])::"memory");
}

// wgmmaSS128, wgmmaSS64, wgmmaRS128 and wgmmaRS64 issue
// wgmma.mma_async.m64nNk8.f32.tf32.tf32 (N = 128 or 64), D (64 x N) += A
// (64 x 8) B (8 x N), float32 accumulation, B K-major in shared memory
// (descB), A K-major in shared memory (descA, SS) or in registers (RS). The
// SS forms take accumulate: 0 makes it D = A B (wgmma's scale-d), so that a
// partial sum starts from zero without writing the accumulators between
// wgmmas (which would make ptxas serialize them). With warp w of the warpgroup,
// g = lane / 4, q = lane % 4:
//
//	a[r]         = A[16 w + g + 8 (r % 2)][q + 4 (r / 2)]         r = 0..3
//	d[4 j + r]   = D[16 w + g + 8 (r / 2)][8 j + 2 q + r % 2]     j < N / 8
//
// (per warp, mma.sync.m16n8k8's fragments; wgmma_selftest checks it on a GPU).
__device__ __forceinline__ void wgmmaSS128(float d[64], unsigned long long descA, unsigned long long descB, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32 {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, %64, %65, p, 1, 1;\n}\n"
        : "+f"(d[0]),"+f"(d[1]),"+f"(d[2]),"+f"(d[3]),"+f"(d[4]),"+f"(d[5]),"+f"(d[6]),"+f"(d[7]),"+f"(d[8]),"+f"(d[9]),"+f"(d[10]),"+f"(d[11]),"+f"(d[12]),"+f"(d[13]),"+f"(d[14]),"+f"(d[15]),"+f"(d[16]),"+f"(d[17]),"+f"(d[18]),"+f"(d[19]),"+f"(d[20]),"+f"(d[21]),"+f"(d[22]),"+f"(d[23]),"+f"(d[24]),"+f"(d[25]),"+f"(d[26]),"+f"(d[27]),"+f"(d[28]),"+f"(d[29]),"+f"(d[30]),"+f"(d[31]),"+f"(d[32]),"+f"(d[33]),"+f"(d[34]),"+f"(d[35]),"+f"(d[36]),"+f"(d[37]),"+f"(d[38]),"+f"(d[39]),"+f"(d[40]),"+f"(d[41]),"+f"(d[42]),"+f"(d[43]),"+f"(d[44]),"+f"(d[45]),"+f"(d[46]),"+f"(d[47]),"+f"(d[48]),"+f"(d[49]),"+f"(d[50]),"+f"(d[51]),"+f"(d[52]),"+f"(d[53]),"+f"(d[54]),"+f"(d[55]),"+f"(d[56]),"+f"(d[57]),"+f"(d[58]),"+f"(d[59]),"+f"(d[60]),"+f"(d[61]),"+f"(d[62]),"+f"(d[63])
        : "l"(descA), "l"(descB), "r"(accumulate));
}
__device__ __forceinline__ void wgmmaSS64(float d[32], unsigned long long descA, unsigned long long descB, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32 {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, %32, %33, p, 1, 1;\n}\n"
        : "+f"(d[0]),"+f"(d[1]),"+f"(d[2]),"+f"(d[3]),"+f"(d[4]),"+f"(d[5]),"+f"(d[6]),"+f"(d[7]),"+f"(d[8]),"+f"(d[9]),"+f"(d[10]),"+f"(d[11]),"+f"(d[12]),"+f"(d[13]),"+f"(d[14]),"+f"(d[15]),"+f"(d[16]),"+f"(d[17]),"+f"(d[18]),"+f"(d[19]),"+f"(d[20]),"+f"(d[21]),"+f"(d[22]),"+f"(d[23]),"+f"(d[24]),"+f"(d[25]),"+f"(d[26]),"+f"(d[27]),"+f"(d[28]),"+f"(d[29]),"+f"(d[30]),"+f"(d[31])
        : "l"(descA), "l"(descB), "r"(accumulate));
}
__device__ __forceinline__ void wgmmaRS128(float d[64], const unsigned a[4], unsigned long long descB) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32 {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63}, {%64, %65, %66, %67}, %68, p, 1, 1;\n}\n"
        : "+f"(d[0]),"+f"(d[1]),"+f"(d[2]),"+f"(d[3]),"+f"(d[4]),"+f"(d[5]),"+f"(d[6]),"+f"(d[7]),"+f"(d[8]),"+f"(d[9]),"+f"(d[10]),"+f"(d[11]),"+f"(d[12]),"+f"(d[13]),"+f"(d[14]),"+f"(d[15]),"+f"(d[16]),"+f"(d[17]),"+f"(d[18]),"+f"(d[19]),"+f"(d[20]),"+f"(d[21]),"+f"(d[22]),"+f"(d[23]),"+f"(d[24]),"+f"(d[25]),"+f"(d[26]),"+f"(d[27]),"+f"(d[28]),"+f"(d[29]),"+f"(d[30]),"+f"(d[31]),"+f"(d[32]),"+f"(d[33]),"+f"(d[34]),"+f"(d[35]),"+f"(d[36]),"+f"(d[37]),"+f"(d[38]),"+f"(d[39]),"+f"(d[40]),"+f"(d[41]),"+f"(d[42]),"+f"(d[43]),"+f"(d[44]),"+f"(d[45]),"+f"(d[46]),"+f"(d[47]),"+f"(d[48]),"+f"(d[49]),"+f"(d[50]),"+f"(d[51]),"+f"(d[52]),"+f"(d[53]),"+f"(d[54]),"+f"(d[55]),"+f"(d[56]),"+f"(d[57]),"+f"(d[58]),"+f"(d[59]),"+f"(d[60]),"+f"(d[61]),"+f"(d[62]),"+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB));
}
__device__ __forceinline__ void wgmmaRS64(float d[32], const unsigned a[4], unsigned long long descB) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32 {%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, {%32, %33, %34, %35}, %36, p, 1, 1;\n}\n"
        : "+f"(d[0]),"+f"(d[1]),"+f"(d[2]),"+f"(d[3]),"+f"(d[4]),"+f"(d[5]),"+f"(d[6]),"+f"(d[7]),"+f"(d[8]),"+f"(d[9]),"+f"(d[10]),"+f"(d[11]),"+f"(d[12]),"+f"(d[13]),"+f"(d[14]),"+f"(d[15]),"+f"(d[16]),"+f"(d[17]),"+f"(d[18]),"+f"(d[19]),"+f"(d[20]),"+f"(d[21]),"+f"(d[22]),"+f"(d[23]),"+f"(d[24]),"+f"(d[25]),"+f"(d[26]),"+f"(d[27]),"+f"(d[28]),"+f"(d[29]),"+f"(d[30]),"+f"(d[31])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(descB));
}

#else

#include "emu.h"

#endif

// wgmmaDesc (below on the GPU, cuda/emu.cc in the emulator) describes an
// operand of 8-row by 16-byte core matrices in shared memory (PTX ISA,
// "Matrix Descriptor Format"), without swizzling:
// the start address >> 4 (bits 0-13), the byte offset between core
// matrices adjacent along K (lbo, bits 16-29) and along M or N (sbo, bits
// 32-45). A K-major TF32 operand X (rows r, columns k) then holds X[r][k]
// at byte (r / 8) sbo + (k / 4) lbo + (r % 8) 16 + (k % 4) 4. p must be in
// the dynamic shared memory (the emulator resolves descriptors there).
// wgmmaDescBits packs the fields from the shared address, for both.
__host__ __device__ __forceinline__ unsigned long long wgmmaDescBits(unsigned addr, int lbo, int sbo) {
    return (unsigned long long)((addr >> 4) & 0x3fff) | (unsigned long long)((lbo >> 4) & 0x3fff) << 16 |
           (unsigned long long)((sbo >> 4) & 0x3fff) << 32;
}

#ifdef __CUDACC__
__device__ __forceinline__ unsigned long long wgmmaDesc(const float* p, int lbo, int sbo) {
    return wgmmaDescBits((unsigned)__cvta_generic_to_shared(p), lbo, sbo);
}
#endif

// hopper.cu: kernels that use Hopper's warpgroup MMA (wgmma, PTX ISA 8.0,
// target sm_90a; the wrappers and their fragment layouts are in compat.cuh).
// A separate translation unit and module (kernels/hopper.ptx,
// kernels.HopperPTX): genptx.sh compiles it with the same CUDA 11.8 nvcc,
// which passes the inline wgmma PTX through unread, then rewrites the PTX's
// .version and .target, which 11.8 cannot name. kernels/check-hopper.sh
// assembles the result with ptxas from CUDA 12.4. The CPU emulator runs
// these kernels too (cuda/emu.cc models wgmma); only a GPU can say whether
// the layouts assumed here are the hardware's: wgmma_selftest checks them.
#include "compat.cuh"

#define WG_K_MAJOR(r, k) (((r) / 8) * 64 + ((k) / 4) * 32 + ((r) % 8) * 4 + (k) % 4)
// WG_K_MAJOR is the float offset of element (r, k) of a K-major operand of
// K = 8 in core matrices (compat.cuh, wgmmaDesc) with lbo = 128 bytes (the
// second core matrix along K right after the first) and sbo = 256 (the next
// 8 rows after both).
#define WG_LBO 128
#define WG_SBO 256

// wgmma_selftest computes D = A B (A 64 x 8, B 8 x 128, D 64 x 128, all
// row-major in global memory) with one wgmma.m64n128k8 in TF32, one
// warpgroup (128 threads): B staged K-major in shared memory, and A too
// (fromRegs = 0, wgmmaSS) or in registers (fromRegs != 0, wgmmaRS). With
// values exact in TF32 and exact sums, a test checks the product, which
// checks on a GPU that the descriptor and fragment layouts of compat.cuh
// are the hardware's. Dynamic shared memory: (64 + 128) x 8 floats.
extern "C" __global__ void __launch_bounds__(128) wgmma_selftest(const float* __restrict__ A,
                                                                const float* __restrict__ Bm,
                                                                float* __restrict__ D, int fromRegs) {
    DYNAMIC_SHARED(sm);
    float* As = sm;            // 64 x 8, K-major
    float* Bs = sm + 64 * 8;   // 128 x 8 (B transposed), K-major
    const int t = threadIdx.x, w = t / 32, g = (t % 32) / 4, q = t % 4;
    for (int e = t; e < 64 * 8; e += 128) As[WG_K_MAJOR(e / 8, e % 8)] = __uint_as_float(toTF32(A[e]));
    for (int e = t; e < 128 * 8; e += 128) {
        const int n = e / 8, k = e % 8;
        Bs[WG_K_MAJOR(n, k)] = __uint_as_float(toTF32(Bm[k * 128 + n]));
    }
    wgmmaFenceProxy();
    __syncthreads();
    float d[64];
    for (int i = 0; i < 64; i++) d[i] = 0.f;
    wgmmaFence();
    if (fromRegs) {
        unsigned a[4];
        for (int r = 0; r < 4; r++) a[r] = toTF32(A[(16 * w + g + 8 * (r % 2)) * 8 + q + 4 * (r / 2)]);
        wgmmaRS(d, a, wgmmaDesc(Bs, WG_LBO, WG_SBO));
    } else {
        wgmmaSS(d, wgmmaDesc(As, WG_LBO, WG_SBO), wgmmaDesc(Bs, WG_LBO, WG_SBO));
    }
    wgmmaCommit();
    wgmmaWait();
    for (int j = 0; j < 16; j++)
        for (int r = 0; r < 4; r++) D[(16 * w + g + 8 * (r / 2)) * 128 + 8 * j + 2 * q + r % 2] = d[4 * j + r];
}

#define PROBE_WG_UNROLL 16  // wgmmas per loop iteration of probe_wgmma

// probe_wgmma (bench/gpu/peak), blocks of 256 threads (two warpgroups),
// 6144 bytes of dynamic shared memory: each warpgroup runs iters x
// PROBE_WG_UNROLL wgmma.m64n128k8 TF32 products, D += A B, with A (64 x 8)
// and B (128 x 8) in shared memory, every element 1.0, into 64 float32
// accumulators per thread from zero; each thread writes the sum of its
// accumulators to out[global thread]: 64 x 8 x PROBE_WG_UNROLL x iters,
// since every element of a product of all-ones matrices is K = 8 whatever
// the layout, so the value counts the products that ran.
extern "C" __global__ void __launch_bounds__(256) probe_wgmma(float* __restrict__ out, int iters) {
    DYNAMIC_SHARED(tile);  // A: 512 floats, then B: 1024
    for (int e = threadIdx.x; e < 1536; e += blockDim.x) tile[e] = 1.f;
    wgmmaFenceProxy();
    __syncthreads();
    const unsigned long long descA = wgmmaDesc(tile, WG_LBO, WG_SBO), descB = wgmmaDesc(tile + 512, WG_LBO, WG_SBO);
    float d[64];
    for (int i = 0; i < 64; i++) d[i] = 0.f;
    for (int it = 0; it < iters; it++) {
        wgmmaFence();
#pragma unroll
        for (int u = 0; u < PROBE_WG_UNROLL; u++) wgmmaSS(d, descA, descB);
        wgmmaCommit();
        wgmmaWait();
    }
    float sum = 0.f;
    for (int i = 0; i < 64; i++) sum += d[i];
    out[(size_t)blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

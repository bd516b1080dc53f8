// probe.cu: the card's arithmetic ceilings, which bound what any kernel of
// rnn.cu can reach (bench/gpu/peak times it): float32 FMAs on the CUDA cores,
// mma.sync.m16n8k8 TF32 products on the tensor cores (the instruction every
// tensor-core kernel here uses, 3xTF32 being three of them), and both at once
// in one block, which says whether the two pipes add up.

#define PROBE_THREADS 256  // threads per block of probe: 8 warps
#define PROBE_CHAINS 8     // independent accumulators per thread (FFMA) or per warp (mma)
#define PROBE_UNROLL 16    // rounds per loop iteration, so that the loop's own instructions are few

// probe runs, in each block of PROBE_THREADS threads, warps 0 .. mmaWarps-1
// on the tensor cores and the others on the CUDA cores:
//
//   - an FMA warp's thread runs PROBE_CHAINS independent chains
//     c = fmaf(c, in[0], in[1]) from c = in[2] + chain, itersFma x
//     PROBE_UNROLL rounds each;
//   - an mma warp runs PROBE_CHAINS independent accumulators
//     acc = A B + acc, mmaTF32 with every element of A and B in[3] (as TF32),
//     from zero, itersMma x PROBE_UNROLL rounds each.
//
// Each thread writes the sum of its accumulators to out[global thread], so
// nothing is dead code, and a test checks the count of operations through
// the values (with in = {1, 1, c0, 1}, c = c0 + chain + rounds, acc = 8 rounds).
extern "C" __global__ void __launch_bounds__(PROBE_THREADS) probe(const float* __restrict__ in, float* __restrict__ out,
                                                                 int itersFma, int itersMma, int mmaWarps) {
    const int warp = threadIdx.x / 32;
    float sum = 0.f;
    if (warp < mmaWarps) {
        const unsigned v = toTF32(in[3]);
        const unsigned a[4] = {v, v, v, v}, b[2] = {v, v};
        float acc[PROBE_CHAINS][4];
        for (int c = 0; c < PROBE_CHAINS; c++)
            for (int r = 0; r < 4; r++) acc[c][r] = 0.f;
        for (int it = 0; it < itersMma; it++) {
#pragma unroll
            for (int u = 0; u < PROBE_UNROLL; u++)
#pragma unroll
                for (int c = 0; c < PROBE_CHAINS; c++) mmaTF32(acc[c], a, b);
        }
        for (int c = 0; c < PROBE_CHAINS; c++)
            for (int r = 0; r < 4; r++) sum += acc[c][r];
    } else {
        const float m = in[0], k = in[1];
        float acc[PROBE_CHAINS];
        for (int c = 0; c < PROBE_CHAINS; c++) acc[c] = in[2] + c;
        for (int it = 0; it < itersFma; it++) {
#pragma unroll
            for (int u = 0; u < PROBE_UNROLL; u++)
#pragma unroll
                for (int c = 0; c < PROBE_CHAINS; c++) acc[c] = fmaf(acc[c], m, k);
        }
        for (int c = 0; c < PROBE_CHAINS; c++) sum += acc[c];
    }
    out[(size_t)blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

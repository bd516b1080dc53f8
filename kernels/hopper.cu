// hopper.cu: kernels that use Hopper's warpgroup MMA (wgmma, PTX ISA 8.0,
// target sm_90a; the wrappers and their fragment layouts are in compat.cuh).
// A separate translation unit and module (kernels/hopper.ptx,
// kernels.HopperPTX): genptx.sh compiles it with the same CUDA 11.8 nvcc,
// which passes the inline wgmma PTX through unread, then rewrites the PTX's
// .version and .target, which 11.8 cannot name. kernels/check-hopper.sh
// assembles the result with ptxas from CUDA 12.4. The CPU emulator runs
// these kernels too (cuda/emu.cc models wgmma); only a GPU can say whether
// the layouts assumed here are the hardware's: wgmma_selftest checks them.
#include "common.cuh"

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
// (fromRegs = 0, wgmmaSS128) or in registers (fromRegs != 0, wgmmaRS128). With
// values exact in TF32 and exact sums, a test checks the product, which
// checks on a GPU that the descriptor and fragment layouts of compat.cuh
// are the hardware's. Dynamic shared memory: (64 + 128) x 8 floats.
extern "C" __global__ void __launch_bounds__(128) wgmma_selftest(const float* __restrict__ A,
                                                                const float* __restrict__ Bm,
                                                                float* __restrict__ D, int fromRegs) {
    DYNAMIC_SHARED(operands);
    float* As = operands;           // 64 x 8, K-major
    float* Bs = operands + 64 * 8;  // 128 x 8 (B transposed), K-major
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
        wgmmaRS128(d, a, wgmmaDesc(Bs, WG_LBO, WG_SBO));
    } else {
        wgmmaSS128(d, wgmmaDesc(As, WG_LBO, WG_SBO), wgmmaDesc(Bs, WG_LBO, WG_SBO), 1);
    }
    wgmmaCommit();
    wgmmaWait();
    wgmmaFenceOperands(d);
    for (int j = 0; j < 16; j++)
        for (int r = 0; r < 4; r++) D[(16 * w + g + 8 * (r / 2)) * 128 + 8 * j + 2 * q + r % 2] = d[4 * j + r];
}

// wgmma_chain_selftest computes D2 = (A B1) B2 (A 64 x 8, B1 8 x 128, B2
// 128 x 64, D2 64 x 64, row-major in global memory) with two warpgroup MMAs,
// one warpgroup (128 threads), the second taking its A operand straight from
// the first's accumulators, as a wgmma forward would carry a_{t-1} from one
// step to the next. The accumulator layout (compat.cuh) gives lane (g, q)
// units 8 j + 2 q and 8 j + 2 q + 1 of k-block j, the A fragment wants
// columns q and q + 4; so K is permuted within each block of 8: A's column
// q of block j holds unit 8 j + 2 q, column q + 4 unit 8 j + 2 q + 1, and B2's
// rows are staged in that order (WG_UNIT). Then a[0..3] of block j are
// d[4j], d[4j+2], d[4j+1], d[4j+3], without shuffles. With small integers
// everything is exact (|A B1| <= 512 fits TF32), so a test checks the
// product, on a GPU the hardware's. Dynamic shared memory: (64 + 128) x 8 +
// 64 x 128 floats.
#define WG_UNIT(c) (((c) & ~7) + 2 * ((c) & 3) + (((c) >> 2) & 1))  // the unit in permuted K slot c
extern "C" __global__ void __launch_bounds__(128) wgmma_chain_selftest(const float* __restrict__ A,
                                                                      const float* __restrict__ B1,
                                                                      const float* __restrict__ B2,
                                                                      float* __restrict__ D2) {
    DYNAMIC_SHARED(chain);
    float* As = chain;               // 64 x 8, K-major
    float* B1s = chain + 64 * 8;     // 128 x 8 (B1 transposed), K-major
    float* B2s = chain + 192 * 8;    // 64 x 128 (B2 transposed, K permuted), K-major, 32 core matrices along K
    const int t = threadIdx.x, w = t / 32, g = (t % 32) / 4, q = t % 4;
    for (int e = t; e < 64 * 8; e += 128) As[WG_K_MAJOR(e / 8, e % 8)] = __uint_as_float(toTF32(A[e]));
    for (int e = t; e < 128 * 8; e += 128) B1s[WG_K_MAJOR(e / 8, e % 8)] = __uint_as_float(toTF32(B1[(e % 8) * 128 + e / 8]));
    for (int e = t; e < 64 * 128; e += 128) {
        const int n = e / 128, c = e % 128;  // row n of B2^T, permuted K slot c
        B2s[(n / 8) * 32 * 32 + (c / 4) * 32 + (n % 8) * 4 + c % 4] = __uint_as_float(toTF32(B2[WG_UNIT(c) * 64 + n]));
    }
    wgmmaFenceProxy();
    __syncthreads();
    float d1[64], d2[32];
    for (int i = 0; i < 64; i++) d1[i] = 0.f;
    for (int i = 0; i < 32; i++) d2[i] = 0.f;
    wgmmaFence();
    wgmmaSS128(d1, wgmmaDesc(As, WG_LBO, WG_SBO), wgmmaDesc(B1s, WG_LBO, WG_SBO), 1);
    wgmmaCommit();
    wgmmaWait();
    wgmmaFenceOperands(d1);
    unsigned a[16][4];
    for (int j = 0; j < 16; j++) {
        a[j][0] = toTF32(d1[4 * j]);
        a[j][1] = toTF32(d1[4 * j + 2]);
        a[j][2] = toTF32(d1[4 * j + 1]);
        a[j][3] = toTF32(d1[4 * j + 3]);
    }
    wgmmaFence();
    // B2^T's core matrices: 128 bytes apart along K, 32 of them (4096 bytes) per 8 rows.
    for (int j = 0; j < 16; j++) wgmmaRS64(d2, a[j], wgmmaDesc(B2s + 64 * j, 128, 4096));
    wgmmaCommit();
    wgmmaWait();
    wgmmaFenceOperands(d2);
    for (int j = 0; j < 8; j++)
        for (int r = 0; r < 4; r++) D2[(16 * w + g + 8 * (r / 2)) * 64 + 8 * j + 2 * q + r % 2] = d2[4 * j + r];
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
        for (int u = 0; u < PROBE_WG_UNROLL; u++) wgmmaSS128(d, descA, descB, 1);
        wgmmaCommit();
        wgmmaWait();
    }
    wgmmaFenceOperands(d);
    float sum = 0.f;
    for (int i = 0; i < 64; i++) sum += d[i];
    out[(size_t)blockIdx.x * blockDim.x + threadIdx.x] = sum;
}

// ---- Weight gradients on the warpgroup MMA (3xTF32; DEGEN_WGMMA=on, gpu/plan.go) ----

#define GW_STAGES 4  // shared stages of raw rows: three in flight while one is used
#define GW_ROWS 32   // rows (trial-steps) per stage, summed on the tensor cores per float32 add (GM_SUM_ROWS)
#define GW_PAD 8     // delta row padding: the A-fragment loads of a warp hit 32 banks (GM_PAD)
#define GW_LBO 128   // bytes between the core matrices of the K-major B buffers along K
// GW_SBO: bytes between their 8-row groups: the GW_ROWS / 4 core matrices
// along K of a group, plus 16 so that the transposing 16-byte stores of a
// quarter warp fall in different banks.
#define GW_SBO (GW_ROWS / 4 * 128 + 16)

// gradWeightsWgmma is gradWeightsMma (rnn.cu: the same gradients, grid,
// small-gradient work and summation: 3xTF32 products, small ones first,
// summed on the tensor cores over each stage of GW_ROWS rows from zero and
// then added to float32 accumulators) with the dW_hh products on the
// warpgroup MMA:
//
//	dW_hh[i0.., j0..] = kappa D^T A   (D: deltas, A: activations, K rows)
//
// TILE / 64 warpgroups (2 TILE threads); warpgroup wg owns the tile's rows
// 64 wg .. 64 wg + 63 and all TILE columns, one wgmma.m64nTILEk8 per
// product and 8 rows. D^T comes from registers (wgmmaRS), each lane loading
// and splitting its fragment from the staged delta rows. The activations
// must be K-major in shared memory, so after each stage lands, every
// thread transposes one 4 x 4 block of it (4 rows, 4 units) and splits it
// into the big and small B buffers. Dynamic shared memory (floats):
// GW_STAGES x (GW_ROWS x (TILE + GW_PAD) deltas, GW_ROWS x TILE
// activations, GW_ROWS x 4 x and dy), then two B buffers of TILE / 8 x
// GW_SBO / 4 (gpu/plan.go: gradWgmmaShared).
template <int TILE>
__device__ __forceinline__ void gradWeightsWgmma(const float* __restrict__ delta, const float* __restrict__ states,
                                                 const float* __restrict__ x, int shared, const float* __restrict__ dy,
                                                 const float* __restrict__ gamma, float* __restrict__ grad, int T,
                                                 int B, int I, int H, int O, int P, int rate) {
    constexpr int NT = 2 * TILE, MX = 4, NRG = NT / TILE;  // threads; x and dy columns per row; small-gradient row groups
    constexpr int LDD = TILE + GW_PAD, LDA = TILE;
    constexpr int STAGE = GW_ROWS * LDD + GW_ROWS * LDA + 2 * GW_ROWS * MX;  // floats per stage
    constexpr int BBUF = TILE / 8 * (GW_SBO / 4);                           // floats per B buffer
    constexpr int NACC = TILE / 2;                                           // accumulators per thread
    DYNAMIC_SHARED(sm);
    if (blockDim.x != NT) __trap();  // the warpgroups cover the tile only with 2 TILE threads
    const int tid = threadIdx.x;
    const GradTile gt = gradTile(TILE, delta, states, x, shared, dy, gamma, T, B, I, H, O, rate);
    const int s = gt.s, i0 = gt.i0, j0 = gt.j0, K = gt.K;
    const float kappa = gt.kappa;
    const int stages = (K + GW_ROWS - 1) / GW_ROWS;
    const int col = tid % TILE, rg = tid / TILE;
    const int m0 = 64 * (tid / 128), t = tid % 128, w = t / 32, g = (t % 32) / 4, q = t % 4;

    // Stage st: Ds [k][i] (GW_ROWS x LDD), As [k][j] (GW_ROWS x LDA), Xs and
    // Ys [k][MX] (x and dy, zero beyond I and O); then the B buffers.
    auto Ds = [&](int st) { return sm + st * STAGE; };
    auto As = [&](int st) { return sm + st * STAGE + GW_ROWS * LDD; };
    auto Xs = [&](int st) { return sm + st * STAGE + GW_ROWS * (LDD + LDA); };
    auto Ys = [&](int st) { return sm + st * STAGE + GW_ROWS * (LDD + LDA + MX); };
    float* Bbig = sm + GW_STAGES * STAGE;
    float* Bsmall = Bbig + BBUF;

    // fetch starts the copies of stage number n (rows GW_ROWS n ..) into
    // buffer n % GW_STAGES (an empty group past the last stage).
    auto fetch = [&](int n) {
        const int st = n % GW_STAGES;
        fetchGradRows<TILE, NT, GW_ROWS, MX>(n < stages, n * GW_ROWS, Ds(st), LDD, As(st), LDA, Xs(st), Ys(st), gt, B, I, H, O,
                                        tid);
    };

    float acc[NACC], part[NACC];
#pragma unroll
    for (int r = 0; r < NACC; r++) acc[r] = 0.f;
    float accX[MX], accY[MX], accB = 0.f, accBo = 0.f;
#pragma unroll
    for (int k = 0; k < MX; k++) {
        accX[k] = 0.f;
        accY[k] = 0.f;
    }
    // The transposing thread's block: rows 4 kc .. of the stage, units 4 nc ..
    const int kc = tid / (TILE / 4), nc = tid % (TILE / 4);

#pragma unroll
    for (int n = 0; n < GW_STAGES - 1; n++) fetch(n);
    for (int n = 0; n < stages; n++) {
        const int st = n % GW_STAGES;
        cpAsyncWaitGroup<GW_STAGES - 2>();  // this thread's copies of stage n have landed
        // Every thread's stage n is in place; every thread is done with
        // stage n - 1 (whose buffer the next fetch refills) and every
        // warpgroup's products of it have completed (the B buffers are free).
        __syncthreads();
        fetch(n + GW_STAGES - 1);
        {
            float v[4][4];  // v[k][u]: row 4 kc + k, unit 4 nc + u
#pragma unroll
            for (int k = 0; k < 4; k++) {
                const float4 r = *reinterpret_cast<const float4*>(As(st) + (4 * kc + k) * LDA + 4 * nc);
                v[k][0] = r.x;
                v[k][1] = r.y;
                v[k][2] = r.z;
                v[k][3] = r.w;
            }
#pragma unroll
            for (int u = 0; u < 4; u++) {
                const int nn = 4 * nc + u, at = (nn / 8) * (GW_SBO / 4) + kc * 32 + (nn % 8) * 4;
                unsigned big[4], small[4];
#pragma unroll
                for (int k = 0; k < 4; k++) tf32Split(v[k][u], big[k], small[k]);
                *reinterpret_cast<float4*>(Bbig + at) =
                    make_float4(__uint_as_float(big[0]), __uint_as_float(big[1]), __uint_as_float(big[2]), __uint_as_float(big[3]));
                *reinterpret_cast<float4*>(Bsmall + at) = make_float4(__uint_as_float(small[0]), __uint_as_float(small[1]),
                                                                      __uint_as_float(small[2]), __uint_as_float(small[3]));
            }
        }
        wgmmaFenceProxy();
        __syncthreads();  // the B buffers hold stage n
        // Every input of the stage's products first: ptxas serializes the
        // wgmmas (waits after each) when an instruction between them defines
        // one of their registers.
        unsigned aBig[GW_ROWS / 8][4], aSmall[GW_ROWS / 8][4];
        unsigned long long dBig[GW_ROWS / 8], dSmall[GW_ROWS / 8];
#pragma unroll
        for (int s8 = 0; s8 < GW_ROWS / 8; s8++) {
#pragma unroll
            for (int r = 0; r < 4; r++)
                tf32Split(Ds(st)[(8 * s8 + q + 4 * (r / 2)) * LDD + m0 + 16 * w + g + 8 * (r % 2)], aBig[s8][r], aSmall[s8][r]);
            // Along K, 8 rows are two core matrices: 64 floats per step.
            dBig[s8] = wgmmaDesc(Bbig + 64 * s8, GW_LBO, GW_SBO);
            dSmall[s8] = wgmmaDesc(Bsmall + 64 * s8, GW_LBO, GW_SBO);
        }
#pragma unroll
        for (int r = 0; r < NACC; r++) part[r] = 0.f;
        wgmmaFence();
#pragma unroll
        for (int s8 = 0; s8 < GW_ROWS / 8; s8++) {
            // The small products first, so that they are not lost against the big one.
            if constexpr (TILE == 128) {
                wgmmaRS128(part, aSmall[s8], dBig[s8]);
                wgmmaRS128(part, aBig[s8], dSmall[s8]);
                wgmmaRS128(part, aBig[s8], dBig[s8]);
            } else {
                wgmmaRS64(part, aSmall[s8], dBig[s8]);
                wgmmaRS64(part, aBig[s8], dSmall[s8]);
                wgmmaRS64(part, aBig[s8], dBig[s8]);
            }
        }
        wgmmaCommit();
        // While the products run: the small gradients, from the raw rows on
        // the CUDA cores (nothing the wgmmas read or write).
        addSmallGradients<GW_ROWS, NRG, MX>(Ds(st), LDD, As(st), LDA, Xs(st), Ys(st), gt, O, col, rg, accX, accY, accB, accBo);
        wgmmaWait();
        wgmmaFenceOperands(part);
#pragma unroll
        for (int r = 0; r < NACC; r++) acc[r] += part[r];
    }
    cpAsyncWaitGroup<0>();  // the empty groups past the last stage
    float* gr = grad + (size_t)s * P;
#pragma unroll
    for (int j = 0; j < TILE / 8; j++)
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int i = i0 + m0 + 16 * w + g + 8 * (r / 2), jj = j0 + 8 * j + 2 * q + r % 2;
            if (i < H && jj < H) gr[i * H + jj] = kappa * acc[4 * j + r];
        }
    if (!gt.doIn && !gt.doOut) return;
    __syncthreads();  // every thread is done with the stages: red reuses them
    finishSmallGradients<TILE, NT, MX>(accX, accY, accB, accBo, sm, gt, gr, T, B, I, H, O, rate, tid);
}

// rnn_grad_wgmma_t128 (H > 64: two warpgroups, 128 x 128 tiles) and
// rnn_grad_wgmma_t64 (one warpgroup, 64 x 64 tiles).
extern "C" __global__ void __launch_bounds__(256, 1) rnn_grad_wgmma_t128(GRAD_PARAMS) { gradWeightsWgmma<128>(GRAD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) rnn_grad_wgmma_t64(GRAD_PARAMS) { gradWeightsWgmma<64>(GRAD_ARGS); }

// ---- The forward on the warpgroup MMA (3xTF32; DEGEN_WGMMA=fwd or on, gpu/plan.go) ----

#define FW_TRIALS 64  // trials per chunk: one warpgroup, wgmma's M

// seqOffset is the float offset of element (r, k) of a K-major operand of
// KP columns in core matrices (compat.cuh, wgmmaDesc) with lbo = 128 bytes
// (the core matrices of an 8-row group one after another along K) and sbo =
// 32 KP bytes (the 8-row groups one after another): the layout of the
// warpgroup-MMA sequence kernels' operands.
template <int KP>
__device__ __forceinline__ int seqOffset(int r, int k) {
    return (r / 8) * (KP * 8) + (k / 4) * 32 + (r % 8) * 4 + k % 4;
}

// wgmmaSSN is wgmmaSS128 or wgmmaSS64 for N = 128 or 64.
template <int N>
__device__ __forceinline__ void wgmmaSSN(float (&d)[N / 2], unsigned long long descA, unsigned long long descB,
                                         int accumulate) {
    if constexpr (N == 128)
        wgmmaSS128(d, descA, descB, accumulate);
    else
        wgmmaSS64(d, descA, descB, accumulate);
}

// storeSplitPair writes the TF32 big and small parts (tf32Split) of v0 and
// v1 to elements k and k + 1 (k even) of row r of the K-major buffers big
// and small: one 8-byte store each.
template <int KP>
__device__ __forceinline__ void storeSplitPair(float* big, float* small, int r, int k, float v0, float v1) {
    unsigned b0, s0, b1, s1;
    tf32Split(v0, b0, s0);
    tf32Split(v1, b1, s1);
    const int at = seqOffset<KP>(r, k);
    *reinterpret_cast<float2*>(big + at) = make_float2(__uint_as_float(b0), __uint_as_float(b1));
    *reinterpret_cast<float2*>(small + at) = make_float2(__uint_as_float(s0), __uint_as_float(s1));
}

// issueKBlock issues k-block kb's three 3xTF32 products of
// recurrentProducts into p, small ones first, the first from zero (scale-d
// 0), and commits them as one group.
template <int HP>
__device__ __forceinline__ void issueKBlock(float (&p)[HP / 2], int kb, unsigned long long descAbig,
                                            unsigned long long descAsmall, unsigned long long descWbig,
                                            unsigned long long descWsmall) {
    wgmmaSSN<HP>(p, descAsmall + 16 * kb, descWbig + 16 * kb, 0);
    wgmmaSSN<HP>(p, descAbig + 16 * kb, descWsmall + 16 * kb, 1);
    wgmmaSSN<HP>(p, descAbig + 16 * kb, descWbig + 16 * kb, 1);
    wgmmaCommit();
}

// storeRowPair writes v0 and v1 to elements i and i + 1 (i even) of a
// global row of H floats, those below H: one 8-byte store when H is even
// (pairs), else element by element.
__device__ __forceinline__ void storeRowPair(float* row, int i, int H, bool pairs, float v0, float v1) {
    if (i >= H) return;
    if (pairs) {
        *reinterpret_cast<float2*>(row + i) = make_float2(v0, v1);
    } else {
        row[i] = v0;
        if (i + 1 < H) row[i + 1] = v1;
    }
}

// recurrentProducts computes z = A W^T (64 trials x HP units, K = KP) for
// the warpgroup in 3xTF32 from the K-major (seqOffset) big and small parts
// of A (descA*) and W (descW*), which address their k-block 0; k-block kb
// starts 256 bytes (16 in the descriptor's address field) further. Each
// k-block's three products are summed on the tensor cores from zero, then
// added to z in float32. With NPART = 2 partial sums they alternate, so that
// one k-block's adds run while the next one's products do; NPART = 1 saves
// their registers (HP / 2 per thread) for kernels that keep a state in
// registers, and waits for each k-block. Lane (g, q) of warp w gets
// z[4 j + r] = z[16 w + g + 8 (r / 2)][8 j + 2 q + r % 2].
template <int HP, int KP, int NPART>
__device__ __forceinline__ void recurrentProducts(float (&z)[HP / 2], unsigned long long descAbig,
                                                  unsigned long long descAsmall, unsigned long long descWbig,
                                                  unsigned long long descWsmall) {
    constexpr int NACC = HP / 2, NKB = KP / 8;
    float part[NPART][NACC];
    wgmmaFence();
#pragma unroll
    for (int kb = 0; kb < NPART; kb++) issueKBlock<HP>(part[kb], kb, descAbig, descAsmall, descWbig, descWsmall);
#pragma unroll
    for (int kb = 0; kb < NKB; kb++) {
        if (NPART == 2 && kb + 1 < NKB)
            wgmmaWaitGroup<1>();  // k-block kb + 1 may still run
        else
            wgmmaWaitGroup<0>();
        float(&p)[NACC] = part[kb % NPART];
        wgmmaFenceOperands(p);
#pragma unroll
        for (int r = 0; r < NACC; r++) z[r] = kb == 0 ? p[r] : z[r] + p[r];
        if (kb + NPART < NKB) {
            wgmmaFence();
            issueKBlock<HP>(p, kb + NPART, descAbig, descAsmall, descWbig, descWsmall);
        }
    }
}

// recurrentParts is recurrentProducts' NPART for the sequence kernels: the
// rate cell at HP = 128 keeps its state (h or q, HP / 2 per thread) in
// registers, where two partial sums would not fit beside it.
template <int HP, bool RATE>
__host__ __device__ constexpr int recurrentParts() {
    return RATE && HP == 128 ? 1 : 2;
}

// forwardWgmma is rnn_forward (rnn.cu: the same outputs) for H <= HP (64 or
// 128), I < 8 and O <= 4, with each step's GEMM
//
//	z = [a_{t-1} | x_t | 1] [kappa W_hh^T; W_ih^T; b]   (64 trials x HP units)
//
// on the warpgroup MMA: one warpgroup (128 threads) per network, chunks of
// FW_TRIALS trials one after another. 3xTF32: both operands are split into
// TF32 big and small parts in shared memory, K-major (seqOffset), and each
// k-block of 8 is summed on the tensor cores, then added in float32
// (recurrentProducts). Summing the whole K on the tensor cores, as the
// mma.sync sequence kernels do, failed `degen compare` (5.6 times the
// tolerance on the H200, 6.8 on the emulator): the tensor cores truncate.
// Per k-block the same kernels used 0.41 of it on the emulator, the float32
// CPU backend 0.36.
//
// The epilogue runs rnn_forward's update (tanh, or the rate cell's leaky
// step, h in registers), stores the states, writes a_t and x_{t+1}
// split into the A buffers for the next step, and computes the readout,
// loss and dL/dy from registers: lane (g, q) holds units 8 j + 2 q and
// 8 j + 2 q + 1 of trials 16 w + g and 16 w + g + 8 (compat.cuh), so a
// trial's units lie in the four lanes of a quad and two xor shuffles finish
// W_out a. x_{t+1}, y_t and M_t are loaded into registers before the
// products, which hide the loads. Dynamic shared memory (floats; gpu/plan.go
// forwardWgmmaShared): Wbig, Wsmall HP x (HP + 8), Abig, Asmall 64 x
// (HP + 8), Wo HP x 4 (c W_out^T, zero beyond H and O), red 32. RATE: the
// cell, fixed per kernel (the launcher picks the kernel by it).
template <int HP, bool RATE>
__device__ __forceinline__ void forwardWgmma(FWD_PARAMS) {
    constexpr int KP = HP + 8, NACC = HP / 2, SBO = KP * 32;
    DYNAMIC_SHARED(sm);
    if (blockDim.x != 128 || rate != (int)RATE) __trap();  // one warpgroup covers the 64 x HP tile
    const int s = blockIdx.x, tid = threadIdx.x, w = tid / 32, g = (tid % 32) / 4, q = tid % 4;
    const Lay L = layout(H, I, O);
    const ForwardNet net = forwardNet(params, x, y, mask, shared, gamma, s, T, B, I, H, O, P, RATE);
    const float *p = net.p, *xs = net.xs, *ys = net.ys, *ms = net.ms;
    const float c = net.c, kappa = net.kappa;
    const bool storeA = RATE && dy;  // training: states get a_t (see the top of rnn.cu)
    const bool pairs = (H & 1) == 0;  // 8-byte state stores

    float* Wbig = sm;  // [i][k], K-major
    float* Wsmall = Wbig + HP * KP;
    float* Abig = Wsmall + HP * KP;  // [b][k], K-major
    float* Asmall = Abig + FW_TRIALS * KP;
    float* Wo = Asmall + FW_TRIALS * KP;  // [i][o]
    float* red = Wo + HP * 4;

    // W = [kappa W_hh | W_ih | b | 0], row i per unit.
    for (int e = tid; e < HP * KP; e += 128) {
        const int i = e / KP, k = e % KP;
        float v = 0.f;
        if (i < H) {
            if (k < H)
                v = kappa * p[i * H + k];
            else if (k >= HP && k - HP < I)
                v = p[L.wih + i * I + k - HP];
            else if (k - HP == I)
                v = p[L.bh + i];
        }
        unsigned big, small;
        tf32Split(v, big, small);
        Wbig[seqOffset<KP>(i, k)] = __uint_as_float(big);
        Wsmall[seqOffset<KP>(i, k)] = __uint_as_float(small);
    }
    for (int e = tid; e < HP * 4; e += 128) {
        const int i = e / 4, o = e % 4;
        Wo[e] = i < H && o < O ? p[L.wout + o * H + i] : 0.f;
    }
    float bo[4];
#pragma unroll
    for (int o = 0; o < 4; o++) bo[o] = o < O ? p[L.bout + o] : 0.f;

    float msum = 0.f;
    for (int e = tid; e < T * B * O; e += 128) msum += ms[e];
    msum = blockSum(msum, red);  // its barriers also publish the staged weights
    const float dscale = msum > 0.f ? 2.f / msum : 0.f;

    const unsigned long long dAbig = wgmmaDesc(Abig, 128, SBO), dAsmall = wgmmaDesc(Asmall, 128, SBO),
                             dWbig = wgmmaDesc(Wbig, 128, SBO), dWsmall = wgmmaDesc(Wsmall, 128, SBO);
    float lsum = 0.f;
    for (int b0 = 0; b0 < B; b0 += FW_TRIALS) {
        const int nb = min(FW_TRIALS, B - b0);
        // A = [a_0 = 0 | x_0 | 1 | 0]; h_0 = 0.
        for (int e = tid; e < FW_TRIALS * KP; e += 128) {
            const int b = e / KP, k = e % KP - HP;
            float v = 0.f;
            if (k >= 0 && k < I && b < nb) v = xs[(size_t)(b0 + b) * I + k];
            if (k == I) v = 1.f;
            unsigned big, small;
            tf32Split(v, big, small);
            Abig[seqOffset<KP>(b, e % KP)] = __uint_as_float(big);
            Asmall[seqOffset<KP>(b, e % KP)] = __uint_as_float(small);
        }
        float hst[RATE ? NACC : 1];  // the rate cell's h of the lane's elements (as z)
#pragma unroll
        for (int r = 0; r < (RATE ? NACC : 1); r++) hst[r] = 0.f;
        wgmmaFenceProxy();
        __syncthreads();
        for (int t = 0; t < T; t++) {
            // The lane's inputs of this step, loaded before the products:
            // x_{t+1} at columns 2q, 2q + 1 of its two trials, y_t and M_t
            // at output q.
            float xn[2][2], yt[2], mt[2];
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int b = 16 * w + g + 8 * h;
                const bool live = b < nb;
                const size_t row = (size_t)t * B + b0 + b;
#pragma unroll
                for (int u = 0; u < 2; u++) {
                    const int k = 2 * q + u;
                    xn[h][u] = k == I ? 1.f : live && k < I && t + 1 < T ? xs[(row + B) * I + k] : 0.f;
                }
                yt[h] = live && q < O ? ys[row * O + q] : 0.f;
                mt[h] = live && q < O ? ms[row * O + q] : 0.f;
            }
            float z[NACC];
            recurrentProducts<HP, KP, recurrentParts<HP, RATE>()>(z, dAbig, dAsmall, dWbig, dWsmall);
            __syncthreads();  // every warp's products are done: the A buffers may be rewritten

            float yp[2][4];
#pragma unroll
            for (int h = 0; h < 2; h++)
#pragma unroll
                for (int o = 0; o < 4; o++) yp[h][o] = 0.f;
#pragma unroll
            for (int j = 0; j < HP / 8; j++) {
                const int i = 8 * j + 2 * q;
                const float4 w0 = *reinterpret_cast<const float4*>(Wo + 4 * i);
                const float4 w1 = *reinterpret_cast<const float4*>(Wo + 4 * i + 4);
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int b = 16 * w + g + 8 * h;
                    const bool live = b < nb;
                    float hv[2], av[2];
#pragma unroll
                    for (int u = 0; u < 2; u++) {
                        const bool ok = live && i + u < H;
                        const int r = 4 * j + 2 * h + u;
                        if constexpr (RATE) {
                            hv[u] = ok ? (1.f - tau) * hst[r] + tau * z[r] : 0.f;
                            av[u] = tanhf(hv[u]);
                            hst[r] = hv[u];
                        } else {
                            hv[u] = ok ? tanhf(z[r]) : 0.f;
                            av[u] = hv[u];
                        }
                    }
                    storeSplitPair<KP>(Abig, Asmall, b, i, av[0], av[1]);
                    if (live)
                        storeRowPair(states + (((size_t)s * T + t) * B + b0 + b) * H, i, H, pairs,
                                     storeA ? av[0] : hv[0], storeA ? av[1] : hv[1]);
                    yp[h][0] = fmaf(w1.x, av[1], fmaf(w0.x, av[0], yp[h][0]));
                    yp[h][1] = fmaf(w1.y, av[1], fmaf(w0.y, av[0], yp[h][1]));
                    yp[h][2] = fmaf(w1.z, av[1], fmaf(w0.z, av[0], yp[h][2]));
                    yp[h][3] = fmaf(w1.w, av[1], fmaf(w0.w, av[0], yp[h][3]));
                }
            }
            // Readout: the quad's sums, then lane q scores output q of both trials.
#pragma unroll
            for (int h = 0; h < 2; h++) {
#pragma unroll
                for (int o = 0; o < 4; o++) {
                    yp[h][o] += __shfl_xor_sync(0xffffffff, yp[h][o], 1);
                    yp[h][o] += __shfl_xor_sync(0xffffffff, yp[h][o], 2);
                }
                const int b = 16 * w + g + 8 * h;
                storeSplitPair<KP>(Abig, Asmall, b, HP + 2 * q, xn[h][0], xn[h][1]);
                if (b < nb && q < O) {
                    const float v = c * (q == 0 ? yp[h][0] : q == 1 ? yp[h][1] : q == 2 ? yp[h][2] : yp[h][3]) +
                                    (q == 0 ? bo[0] : q == 1 ? bo[1] : q == 2 ? bo[2] : bo[3]);
                    const float d = v - yt[h];
                    const size_t e = (((size_t)s * T + t) * B + b0 + b) * O + q;
                    lsum += mt[h] * d * d;
                    if (yout) yout[e] = v;
                    if (dy) dy[e] = dscale * mt[h] * d;
                }
            }
            wgmmaFenceProxy();
            __syncthreads();  // a_t and x_{t+1} are in the A buffers
        }
    }
    lsum = blockSum(lsum, red);
    if (tid == 0) loss[s] = msum > 0.f ? lsum / msum : 0.f;
}

// rnn_forward_wgmma_h128 (64 < H <= 128) and _h64 (H <= 64), vanilla and
// (_rate) the rate cell.
extern "C" __global__ void __launch_bounds__(128, 1) rnn_forward_wgmma_h128(FWD_PARAMS) { forwardWgmma<128, false>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(128, 1) rnn_forward_wgmma_h128_rate(FWD_PARAMS) { forwardWgmma<128, true>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) rnn_forward_wgmma_h64(FWD_PARAMS) { forwardWgmma<64, false>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) rnn_forward_wgmma_h64_rate(FWD_PARAMS) { forwardWgmma<64, true>(FWD_ARGS); }

// ---- The backward on the warpgroup MMA (3xTF32; DEGEN_WGMMA=bwd, on or auto, gpu/plan.go) ----

// backwardWgmma is rnn_backward (rnn.cu: the same deltas) for H <= HP (64
// or 128) and O <= 4, with each step's GEMM
//
//	e = delta_{t+1} kappa W_hh   (64 trials x HP units, K = HP)
//
// on the warpgroup MMA as forwardWgmma's (recurrentProducts: 3xTF32, each
// k-block summed on the tensor cores, then in float32), one warpgroup per
// network, chunks of 64 trials one after another. The readout's gradient
// c W_out^T dy_t is added in float32 on the CUDA cores in the epilogue:
// as one more k-block, as the forward takes its inputs, the operands
// would not leave room in shared memory for the states prefetch at
// H = 128. Each thread copies the a_t it needs (the states in training)
// into its own places of Hb with cp.async while the products run, and
// loads dy_t into registers before them. The epilogue runs rnn_backward's
// update (vanilla delta_t = e (1 - a_t^2); rate q_t = (1 - tau) q_{t+1} +
// (1 - a_t^2) e, delta_t = tau q_t, q in registers), stores delta_t, and
// writes it split into the A buffers for the next step. Dynamic shared
// memory (floats; gpu/plan.go backwardWgmmaShared): Wbig, Wsmall HP x HP,
// Abig, Asmall 64 x HP, Hb 64 x HP (each thread's a_t, pair p of thread tid
// at 256 p + 2 tid), Wo HP x 4 (c W_out^T, zero beyond H and O). RATE: the
// cell, as forwardWgmma's.
template <int HP, bool RATE>
__device__ __forceinline__ void backwardWgmma(BWD_PARAMS) {
    constexpr int KP = HP, NACC = HP / 2, SBO = KP * 32;
    DYNAMIC_SHARED(sm);
    if (blockDim.x != 128 || rate != (int)RATE) __trap();  // one warpgroup covers the 64 x HP tile
    const int s = blockIdx.x, tid = threadIdx.x, w = tid / 32, g = (tid % 32) / 4, q = tid % 4;
    const Lay L = layout(H, I, O);
    const float* p = params + (size_t)s * P;
    const float c = RATE ? 1.f / (gamma[s] * (float)H) : 1.f;
    const float kappa = RATE ? 1.f / (float)H : 1.f;
    const float* dys = dy + (size_t)s * T * B * O;
    const bool pairs = (H & 1) == 0;  // 8-byte copies and stores

    float* Wbig = sm;  // [i][j] = kappa W_hh[j][i], K-major
    float* Wsmall = Wbig + HP * KP;
    float* Abig = Wsmall + HP * KP;  // [b][j], K-major
    float* Asmall = Abig + FW_TRIALS * KP;
    float* Hb = Asmall + FW_TRIALS * KP;
    float* Wo = Hb + FW_TRIALS * HP;  // [i][o]

    for (int e = tid; e < HP * KP; e += 128) {
        const int i = e / KP, j = e % KP;
        unsigned big, small;
        tf32Split(i < H && j < H ? kappa * p[j * H + i] : 0.f, big, small);
        Wbig[seqOffset<KP>(i, j)] = __uint_as_float(big);
        Wsmall[seqOffset<KP>(i, j)] = __uint_as_float(small);
    }
    for (int e = tid; e < HP * 4; e += 128) {
        const int i = e / 4, o = e % 4;
        Wo[e] = i < H && o < O ? c * p[L.wout + o * H + i] : 0.f;
    }

    const unsigned long long dAbig = wgmmaDesc(Abig, 128, SBO), dAsmall = wgmmaDesc(Asmall, 128, SBO),
                             dWbig = wgmmaDesc(Wbig, 128, SBO), dWsmall = wgmmaDesc(Wsmall, 128, SBO);
    for (int b0 = 0; b0 < B; b0 += FW_TRIALS) {
        const int nb = min(FW_TRIALS, B - b0);
        // delta_T = 0; q_T = 0.
        for (int e = tid; e < FW_TRIALS * KP; e += 128) {
            Abig[e] = 0.f;
            Asmall[e] = 0.f;
        }
        float qst[RATE ? NACC : 1];  // the rate cell's q of the lane's elements (as z)
#pragma unroll
        for (int r = 0; r < (RATE ? NACC : 1); r++) qst[r] = 0.f;
        wgmmaFenceProxy();
        __syncthreads();  // also: the staged weights
        for (int t = T - 1; t >= 0; t--) {
            // The lane's a_t pairs into Hb, and dy_t of its two trials.
            float dyv[2][4];
#pragma unroll
            for (int h = 0; h < 2; h++) {
                const int b = 16 * w + g + 8 * h;
                const bool live = b < nb;
                const float* arow = states + (((size_t)s * T + t) * B + b0 + b) * H;
#pragma unroll
                for (int j = 0; j < HP / 8; j++) {
                    const int i = 8 * j + 2 * q;
                    float* dst = Hb + 256 * (2 * j + h) + 2 * tid;
                    if (live && pairs && i < H) {
                        cpAsync8(dst, arow + i);
                    } else {
                        if (live && i < H) cpAsync4(dst, arow + i);
                        if (live && i + 1 < H) cpAsync4(dst + 1, arow + i + 1);
                    }
                }
#pragma unroll
                for (int o = 0; o < 4; o++) dyv[h][o] = live && o < O ? dys[((size_t)t * B + b0 + b) * O + o] : 0.f;
            }
            cpAsyncCommit();
            float z[NACC];
            recurrentProducts<HP, KP, recurrentParts<HP, RATE>()>(z, dAbig, dAsmall, dWbig, dWsmall);
            cpAsyncWaitGroup<0>();  // this thread's a_t (only it reads them)
            __syncthreads();        // every warp's products are done: the A buffers may be rewritten
#pragma unroll
            for (int j = 0; j < HP / 8; j++) {
                const int i = 8 * j + 2 * q;
                const float4 w0 = *reinterpret_cast<const float4*>(Wo + 4 * i);
                const float4 w1 = *reinterpret_cast<const float4*>(Wo + 4 * i + 4);
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    const int b = 16 * w + g + 8 * h;
                    const bool live = b < nb;
                    const float2 a = *reinterpret_cast<const float2*>(Hb + 256 * (2 * j + h) + 2 * tid);
                    const float e0 = z[4 * j + 2 * h] + (w0.x * dyv[h][0] + w0.y * dyv[h][1] + w0.z * dyv[h][2] + w0.w * dyv[h][3]);
                    const float e1 = z[4 * j + 2 * h + 1] + (w1.x * dyv[h][0] + w1.y * dyv[h][1] + w1.z * dyv[h][2] + w1.w * dyv[h][3]);
                    float dv[2];
#pragma unroll
                    for (int u = 0; u < 2; u++) {
                        const bool ok = live && i + u < H;
                        const float av = u == 0 ? a.x : a.y, e = u == 0 ? e0 : e1;
                        if constexpr (RATE) {
                            const int r = 4 * j + 2 * h + u;
                            const float qv = ok ? (1.f - tau) * qst[r] + (1.f - av * av) * e : 0.f;
                            qst[r] = qv;
                            dv[u] = tau * qv;
                        } else {
                            dv[u] = ok ? e * (1.f - av * av) : 0.f;
                        }
                    }
                    storeSplitPair<KP>(Abig, Asmall, b, i, dv[0], dv[1]);
                    if (live) storeRowPair(delta + (((size_t)s * T + t) * B + b0 + b) * H, i, H, pairs, dv[0], dv[1]);
                }
            }
            wgmmaFenceProxy();
            __syncthreads();  // delta_t is in the A buffers
        }
    }
}

// rnn_backward_wgmma_h128 (64 < H <= 128) and _h64 (H <= 64), vanilla and
// (_rate) the rate cell.
extern "C" __global__ void __launch_bounds__(128, 1) rnn_backward_wgmma_h128(BWD_PARAMS) { backwardWgmma<128, false>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(128, 1) rnn_backward_wgmma_h128_rate(BWD_PARAMS) { backwardWgmma<128, true>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) rnn_backward_wgmma_h64(BWD_PARAMS) { backwardWgmma<64, false>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(128) rnn_backward_wgmma_h64_rate(BWD_PARAMS) { backwardWgmma<64, true>(BWD_ARGS); }

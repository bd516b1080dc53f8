// rnn.cu: CUDA kernels for one training step of S recurrent networks at once.
//
// Shapes: S networks, N batch slots (N = S, or N = 1 when all networks share
// the trials), B trials, T steps, I inputs, H hidden units, O outputs, P
// parameters of one network. Parameters are (S, P) in degen.Layout order:
// W_hh (H,H), W_ih (H,I), b (H), W_out (O,H), b_out (O).
//
// Both cells are written with the activation a_t that the recurrence and the
// readout read:
//
//	vanilla: a_t = h_t,        h_t = tanh(W_hh a_{t-1} + W_ih x_t + b)
//	rate:    a_t = tanh(h_t),  h_t = (1-tau) h_{t-1} + tau (W_hh a_{t-1} / H + W_ih x_t + b)
//	y_t = c W_out a_t + b_out, with c = 1 (vanilla) or 1 / (gamma_s H) (rate), h_0 = a_0 = 0.
//
// Loss of network s: L = sum M (y - Y)^2 / sum M. Backward, with kappa = 1
// (vanilla) or 1/H (rate) and delta_t = dL/d(pre-activation sum at t):
//
//	e_t     = c W_out^T dy_t + kappa W_hh^T delta_{t+1}          (delta_T = 0)
//	vanilla: delta_t = e_t (1 - h_t^2)
//	rate:    q_t = (1-tau) q_{t+1} + (1 - a_t^2) e_t, delta_t = tau q_t
//	dW_hh = kappa sum_t delta_t a_{t-1}^T, dW_ih = sum_t delta_t x_t^T, db = sum_t delta_t,
//	dW_out = c sum_t dy_t a_t^T, db_out = sum_t dy_t.
//
// In training (rnn_forward given dy), the states buffer holds what the
// backward and the weight gradients read: h_t = a_t for the vanilla cell,
// a_t = tanh(h_t) for the rate cell, so that no later kernel recomputes the
// tanh (the same float32 values: tanhf is deterministic). Evaluation (dy = 0)
// writes h_t for both cells.
//
// Every gradient buffer is written (=), never accumulated across launches.
// Launches of one step: rnn_forward_r8/r4 (grid S), rnn_backward_r8/r4 (grid S),
// rnn_grad_w4_t128, rnn_grad_w4_t64 or rnn_grad_w16 (grid tiles x S: all
// weight gradients), rnn_adam (grid S). Variants (gpu/plan.go): the
// tensor-core rnn_forward_mma_*, rnn_backward_mma_* and rnn_grad_mma_t128
// or _t64 in place of the first three, rnn_backward_fused_r8/r4 in
// place of the backward and weight-gradient launches, the _g2 forward
// and backward (two warp groups per block, see padTrials), and hopper.cu's
// forward, backward and weight gradients on the warpgroup MMA.

#include "common.cuh"

#define NT_MAX 256   // threads per block of the sequence kernels (at most)
// R4_BOUNDS: the __launch_bounds__ of rnn_forward_r4 and rnn_backward_r4.
// -DR4_MIN_BLOCKS=4 is a PTX variant for timing (bench/gpu/build.sh) that
// holds them to 64 registers, four blocks per SM; a minimum of 1 would not
// be the default's equal (ptxas 11.8 then gives rnn_forward_r4 141 registers
// instead of 61).
#ifdef R4_MIN_BLOCKS
#define R4_BOUNDS __launch_bounds__(NT_MAX, R4_MIN_BLOCKS)
#else
#define R4_BOUNDS __launch_bounds__(NT_MAX)
#endif
#define FUSED_DT 4    // dW_hh tiles per thread of rnn_backward_fused (gpu/plan.go: fusedTiles)
// The sequence kernels come in two register tiles R: 8 (each thread owns
// an 8x8 block of (trials, units)) and 4 (4x4, four times the threads, for
// small H*B where 8x8 tiles would leave the block with too few warps).

// tileIdx returns the u-th row or column of tile q: for R = 8, {4q..4q+3}
// then {half+4q..half+4q+3}, so that the 16-byte shared accesses of
// neighbouring lanes are contiguous; for R = 4, {4q..4q+3}.
template <int R>
__device__ __forceinline__ int tileIdx(int q, int half, int u) {
    return (R == 4 || u < 4) ? 4 * q + u : half + 4 * q + (u - 4);
}

// tileGemm computes, for the thread's RxR tile (rows tileIdx(qb), columns
// tileIdx(qc)),
//
//	acc[r][c] = sum_{k < K} A[row(r)*lda + k] * Bm[k*ldb + col(c)]
//
// A is row-major along k (16-byte loads along k, the same rows for the
// lanes of a half warp, so broadcast), Bm row-major along the columns
// (16-byte loads, contiguous across lanes). K is a multiple of 4; A's
// columns and Bm's rows between the true K and the padded one are zero.
//
// TILE_K_UNROLL > 1 unrolls the k loop that many times, so that the
// compiler can load the next k's operands during this k's FMAs (a PTX
// variant for timing, bench/gpu/build.sh; the default leaves it to nvcc).
#ifndef TILE_K_UNROLL
#define TILE_K_UNROLL 0
#endif
#define TILE_PRAGMA(x) _Pragma(#x)
#define TILE_UNROLL(n) TILE_PRAGMA(unroll n)
template <int R>
__device__ __forceinline__ void tileGemm(float acc[R][R], const float* A, int lda, int qb, int halfB,
                                         const float* Bm, int ldb, int qc, int halfC, int K) {
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int c = 0; c < R; c++) acc[r][c] = 0.f;
#if TILE_K_UNROLL > 1
    TILE_UNROLL(TILE_K_UNROLL)
#endif
    for (int k = 0; k < K; k += 4) {
        float4 a[R];
#pragma unroll
        for (int r = 0; r < R; r++) a[r] = *reinterpret_cast<const float4*>(A + tileIdx<R>(qb, halfB, r) * lda + k);
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
            float b[R];
#pragma unroll
            for (int h = 0; h < R / 4; h++) {
                float4 b4 = *reinterpret_cast<const float4*>(Bm + (k + kk) * ldb + tileIdx<R>(qc, halfC, 4 * h));
                b[4 * h] = b4.x;
                b[4 * h + 1] = b4.y;
                b[4 * h + 2] = b4.z;
                b[4 * h + 3] = b4.w;
            }
#pragma unroll
            for (int r = 0; r < R; r++) {
                float av = kk == 0 ? a[r].x : kk == 1 ? a[r].y : kk == 2 ? a[r].z : a[r].w;
#pragma unroll
                for (int c = 0; c < R; c++) acc[r][c] = fmaf(av, b[c], acc[r][c]);
            }
        }
    }
}

// store4 writes v[0..3] to dst[0..3], one 16-byte store when all four are
// valid (n >= 4) and dst is 16-byte aligned, else element by element.
__device__ __forceinline__ void store4(float* dst, const float v[4], int n, bool aligned) {
    if (n >= 4 && aligned) {
        *reinterpret_cast<float4*>(dst) = make_float4(v[0], v[1], v[2], v[3]);
    } else {
        for (int u = 0; u < 4 && u < n; u++) dst[u] = v[u];
    }
}

// load4 is store4's reading twin; missing elements read as 0.
__device__ __forceinline__ void load4(float v[4], const float* src, int n, bool aligned) {
    if (n >= 4 && aligned) {
        float4 x = *reinterpret_cast<const float4*>(src);
        v[0] = x.x; v[1] = x.y; v[2] = x.z; v[3] = x.w;
    } else {
        for (int u = 0; u < 4; u++) v[u] = u < n ? src[u] : 0.f;
    }
}

// Shared-memory geometry of the sequence kernels. H is padded to Hp (a
// multiple of 8, the output columns of the tiles), Bc trials per chunk to
// Bp. The GEMM of each step runs over Kp = roundup4(Hp + extra) columns:
// the H activations, zero padding up to Hp, then the step's extra inputs,
// so that the input drive and biases (forward) or the readout's gradient
// (backward) come out of the same tile GEMM. Row stride ld = Kp + 4.
__host__ __device__ __forceinline__ int padK(int Hp, int extra) { return (Hp + extra + 3) & ~3; }

// Warp groups. The CUDA-core sequence kernels split their block into G
// groups of nt/G threads (whole warps); group g runs trials
// [g Bp/G, (g+1) Bp/G) of every chunk, its own rows of the shared buffers,
// with its own barrier, so that one group's epilogue and barrier wait
// overlap the other's GEMM (G = 2: "ping-pong"). Trials never interact, so
// the groups meet only to stage the weights and to sum the loss. Bp is a
// multiple of 8 G: each group's rows split into the two halves of its 8x8
// tiles (tileIdx). gpu/plan.go mirrors padTrials.
__host__ __device__ __forceinline__ int padTrials(int Bc, int G) { return (Bc + 8 * G - 1) & ~(8 * G - 1); }  // G = 1, 2

#define GROUP_START_BAR 15  // named barrier of the groups' staggered start
#ifndef GROUP_STAGGER
#define GROUP_STAGGER 1  // 0: no staggered start (a PTX variant for timing it, bench/gpu/build.sh)
#endif

// groupSync is the barrier of warp group g of G: __syncthreads for one
// group, else named barrier 1 + g of the group's ntg threads.
template <int G>
__device__ __forceinline__ void groupSync(int g, int ntg) {
    if (G == 1)
        __syncthreads();
    else
        barSync(1 + g, ntg);
}

// Staggered start (G = 2): group 1 begins its first step once group 0 has
// finished its first step's GEMM (each thread of group 0 arrives after its
// first tile's GEMM), so that the groups alternate between GEMM and
// epilogue instead of reaching them together. first: the first step of the
// first chunk, and every thread of a group has a tile (tiles >= ntg), so
// that whole warps reach bar.arrive together (.aligned) and the barrier is
// used once per launch, never two generations at once. groupStartWait is
// group 1's side, groupStartArrive group 0's.
template <int G>
__device__ __forceinline__ void groupStartWait(bool first, int g, int nt) {
    if (GROUP_STAGGER && G == 2 && first && g == 1) barSync(GROUP_START_BAR, nt);
}
template <int G>
__device__ __forceinline__ void groupStartArrive(bool first, int g, int nt) {
    if (GROUP_STAGGER && G == 2 && first && g == 0) barArrive(GROUP_START_BAR, nt);
}

// The steps the sequence kernels share, whatever their GEMM (CUDA cores,
// tensor cores) and shared-memory strides.

// stageForwardWeights writes the forward GEMM's right operand
// [kappa W_hh^T; W_ih^T; b] into WT ([k][i], Kp rows of stride ldw): rows
// k < H from W_hh, rows xo .. xo+I-1 from W_ih, row xo+I the bias, zero
// elsewhere and in columns i >= H.
__device__ __forceinline__ void stageForwardWeights(float* WT, int Kp, int ldw, int xo, const float* p, Lay L, int H,
                                                    int I, float kappa, int tid, int nt) {
    for (int e = tid; e < Kp * ldw; e += nt) {
        int k = e / ldw, i = e % ldw;
        float v = 0.f;
        if (i < H) {
            if (k < H) v = kappa * p[i * H + k];
            else if (k >= xo && k < xo + I) v = p[L.wih + i * I + (k - xo)];
            else if (k == xo + I) v = p[L.bh + i];
        }
        WT[e] = v;
    }
}

// stageBackwardWeights writes the backward GEMM's right operand
// [kappa W_hh; c W_out] into W ([j][i], Kp rows of stride ldw): rows j < H
// from W_hh, rows yo .. yo+O-1 from W_out, zero elsewhere and in columns
// i >= H.
__device__ __forceinline__ void stageBackwardWeights(float* W, int Kp, int ldw, int yo, const float* p, Lay L, int H,
                                                     int O, float kappa, float c, int tid, int nt) {
    for (int e = tid; e < Kp * ldw; e += nt) {
        int j = e / ldw, i = e % ldw;
        float v = 0.f;
        if (i < H) {
            if (j < H) v = kappa * p[j * H + i];
            else if (j >= yo && j < yo + O) v = c * p[L.wout + (j - yo) * H + i];
        }
        W[e] = v;
    }
}

// startForwardChunk fills the forward's two activation buffers (rows of
// stride ld) for a chunk of nb trials: a_0 = 0, x_0 of the chunk's trials in
// A0's columns xo .. xo+I-1, the constant 1 in column xo+I of both, and h = 0
// in Hs (rate cell).
__device__ __forceinline__ void startForwardChunk(float* A0, float* A1, float* Hs, int rows, int ld, int xo, int nb,
                                                  const float* x0, int I, int rate, int tid, int nt) {
    for (int e = tid; e < rows * ld; e += nt) {
        int b = e / ld, k = e % ld;
        float v = 0.f;
        if (k == xo + I) v = 1.f;
        A1[e] = v;
        if (b < nb && k >= xo && k < xo + I) v = x0[b * I + (k - xo)];
        A0[e] = v;
        if (rate) Hs[e] = 0.f;
    }
}

// startBackwardChunk fills the backward's two buffers (rows of stride ld)
// for a chunk of nb trials: D0 = [delta_T = 0 | dy_{T-1}] (dy in columns
// yo .. yo+O-1, from dyLast, the chunk's dy at T-1), D1 = 0, and q = 0 in Q
// (rate cell).
__device__ __forceinline__ void startBackwardChunk(float* D0, float* D1, float* Q, int rows, int ld, int yo, int nb,
                                                   const float* dyLast, int O, int rate, int tid, int nt) {
    for (int e = tid; e < rows * ld; e += nt) {
        int b = e / ld, j = e % ld;
        float v = 0.f;
        D1[e] = 0.f;
        if (b < nb && j >= yo && j < yo + O) v = dyLast[b * O + (j - yo)];
        D0[e] = v;
        if (rate) Q[e] = 0.f;
    }
}

// readoutStep is the forward's readout for the chunk's nb trials at one
// step: y = c W_out a + b_out from the activations A (rows of stride ld),
// the masked squared error added to lsum, and (when not null) y into yout
// and dL/dy = dscale M (y - Y) into dy, both at out (the (t, b0) row of the
// network's (T, B, O) block).
__device__ __forceinline__ void readoutStep(const float* A, int ld, const float* Wo, const float* bo, const float* Yt,
                                            const float* Mt, int nb, int H, int O, float c, float dscale, bool vec,
                                            float* yout, float* dy, size_t out, float& lsum, int tid, int nt) {
    for (int e = tid; e < nb * O; e += nt) {
        int b = e / O, o = e % O;
        const float* ar = A + b * ld;
        const float* wr = Wo + o * H;
        float v0 = 0.f, v1 = 0.f, v2 = 0.f, v3 = 0.f;
        int i = 0;
        if (vec) {
            for (; i < H; i += 4) {
                float4 a4 = *reinterpret_cast<const float4*>(ar + i);
                float4 w4 = *reinterpret_cast<const float4*>(wr + i);
                v0 = fmaf(w4.x, a4.x, v0);
                v1 = fmaf(w4.y, a4.y, v1);
                v2 = fmaf(w4.z, a4.z, v2);
                v3 = fmaf(w4.w, a4.w, v3);
            }
        }
        for (; i < H; i++) v0 = fmaf(wr[i], ar[i], v0);
        float v = c * ((v0 + v1) + (v2 + v3)) + bo[o];
        float m = Mt[e], d = v - Yt[e];
        lsum += m * d * d;
        if (yout) yout[out + e] = v;
        if (dy) dy[out + e] = dscale * m * d;
    }
}

// copyStepInputs starts a forward step's asynchronous copies of x_{t+1}
// for the chunk of nb trials from b0 into columns xo .. xo+I-1 of A (rows
// of stride ld; none at the last step).
__device__ __forceinline__ void copyStepInputs(float* A, int ld, int xo, const float* xs, int t, int T, int B, int b0,
                                               int nb, int I, int tid, int nt) {
    if (t + 1 < T)
        for (int e = tid; e < nb * I; e += nt) cpAsync4(A + (e / I) * ld + xo + e % I, xs + ((size_t)(t + 1) * B + b0) * I + e);
}

// copyTargets starts the asynchronous copies of y_t and M_t for the chunk
// of nb trials from b0 into Yt and Mt ([b][o]).
__device__ __forceinline__ void copyTargets(float* Yt, float* Mt, const float* ys, const float* ms, int t, int B, int b0,
                                            int nb, int O, int tid, int nt) {
    for (int e = tid; e < nb * O; e += nt) {
        size_t gi = ((size_t)t * B + b0) * O + e;
        cpAsync4(Yt + e, ys + gi);
        cpAsync4(Mt + e, ms + gi);
    }
}

// readoutTile is readoutStep for the R trials of the thread's tile (qb, qc)
// at one step, from the activations act[r][u] the thread holds (trial
// tileIdx(qb), unit tileIdx(qc); zero beyond H): each thread sums W_out a
// over its R units, the tilesC threads of the trial row (an aligned group
// of lanes) add their sums with xor shuffles, and the thread with qc = r
// mod tilesC scores trial r: the masked squared error into lsum, y into
// yout and dL/dy into dy at out (as readoutStep). Every lane of the warp
// must call it.
template <int R>
__device__ __forceinline__ void readoutTile(const float act[R][R], int qb, int qc, int tilesC, int Bp, int Hp,
                                            const float* Wo, const float* bo, const float* Yt, const float* Mt, int nb,
                                            int H, int O, float c, float dscale, float* yout, float* dy, size_t out,
                                            float& lsum) {
    for (int o = 0; o < O; o++) {
        float w[R], y[R];
#pragma unroll
        for (int u = 0; u < R; u++) {
            const int i = tileIdx<R>(qc, Hp / 2, u);
            w[u] = i < H ? Wo[o * H + i] : 0.f;
        }
#pragma unroll
        for (int r = 0; r < R; r++) {
            float v = 0.f;
#pragma unroll
            for (int u = 0; u < R; u++) v = fmaf(w[u], act[r][u], v);
            y[r] = v;
        }
        for (int off = tilesC / 2; off > 0; off >>= 1)
#pragma unroll
            for (int r = 0; r < R; r++) y[r] += __shfl_xor_sync(0xffffffff, y[r], off);
#pragma unroll
        for (int r = 0; r < R; r++) {
            const int b = tileIdx<R>(qb, Bp / 2, r);
            if (r % tilesC != qc || b >= nb) continue;
            const int e = b * O + o;
            const float v = c * y[r] + bo[o];
            const float m = Mt[e], d = v - Yt[e];
            lsum += m * d * d;
            if (yout) yout[out + e] = v;
            if (dy) dy[out + e] = dscale * m * d;
        }
    }
}

// copyOwnStates copies, asynchronously, the h_t of the RxR tile (qb, qc)
// (trials tileIdx(qb), units tileIdx(qc)) into the places of Dcur (rows of
// stride ld) where the thread then writes delta_t; hbase points at h_t of
// the chunk's first trial.
template <int R>
__device__ __forceinline__ void copyOwnStates(float* Dcur, int ld, const float* hbase, int qb, int qc, int Bp, int Hp,
                                              int nb, int H, bool vec) {
#pragma unroll
    for (int r = 0; r < R; r++) {
        const int b = tileIdx<R>(qb, Bp / 2, r);
        if (b >= nb) continue;
        const float* hrow = hbase + (size_t)b * H;
#pragma unroll
        for (int h2 = 0; h2 < R / 4; h2++) {
            const int i0 = tileIdx<R>(qc, Hp / 2, 4 * h2);
            if (vec && i0 < H) {
                cpAsync16(Dcur + b * ld + i0, hrow + i0);
            } else {
                for (int u = 0; u < 4; u++)
                    if (i0 + u < H) cpAsync4(Dcur + b * ld + i0 + u, hrow + i0 + u);
            }
        }
    }
}


// rnn_forward runs network blockIdx.x over all T steps for its B trials, in
// chunks of Bc trials, and writes
//
//	states (S, T, B, H)  h_t; a_t for the rate cell when dy != 0 (=)
//	yout   (S, T, B, O)  y_t, when yout != 0                     (=)
//	dy     (S, T, B, O)  dL/dy_t = 2 M (y - Y) / sum M, when dy != 0 (=)
//	loss   (S)           masked MSE                              (=)
//
// x (N,T,B,I), y (N,T,B,O), mask (N,T,B,O), slot 0 for all when shared.
// Each step is one tile GEMM z = [a_{t-1} | x_t | 1] [kappa W_hh^T; W_ih^T; b]
// (Kp = padK(Hp, I+1) rows), then tanh (vanilla) or the leaky update (rate).
// x_{t+1}, y_{t+1} and M_{t+1} are copied asynchronously while step t
// computes (y and M into two alternating buffers).
//
// The readout y_t = c W_out a_t + b_out, the loss and dL/dy are computed in
// the step's epilogue from the a_t each thread holds in registers
// (readoutTile), with 8x8 tiles where the threads of one trial row form an
// aligned group of lanes (Hp / R a power of two up to 32, and every thread
// owning the same number of tiles); otherwise by readoutStep after a
// barrier, from shared memory. With G warp groups (see padTrials), each
// group runs all of this on its own trials, tiles and barrier.
// Shared memory (floats): WT Kp*Hp, A0 and A1 Bp*ld each ([b][k]), rate
// only Hs Bp*ld (h), then W_out O*H, b_out O, y 2*Bp*O, M 2*Bp*O, red 32.
template <int R, int G>
__device__ __forceinline__ void forward(const float* __restrict__ params, const float* __restrict__ x, const float* __restrict__ y,
            const float* __restrict__ mask, int shared, float* __restrict__ states,
            float* __restrict__ yout, float* __restrict__ dy, float* __restrict__ loss,
            const float* __restrict__ gamma, int T, int B, int I, int H, int O,
            int P, int Bc, int rate, float tau) {
    DYNAMIC_SHARED(sm);
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const int Hp = (H + 7) & ~7, Bp = padTrials(Bc, G), Kp = padK(Hp, I + 1), ld = Kp + 4;
    // Warp group g: threads [g ntg, (g+1) ntg), chunk trials [g Bg, (g+1) Bg).
    const int ntg = nt / G, g = G == 1 ? 0 : tid / ntg, tg = G == 1 ? tid : tid - g * ntg, Bg = Bp / G;
    const Lay L = layout(H, I, O);
    const ForwardNet net = forwardNet(params, x, y, mask, shared, gamma, s, T, B, I, H, O, P, rate);
    const float *p = net.p, *xs = net.xs, *ys = net.ys, *ms = net.ms;
    const float c = net.c, kappa = net.kappa;
    const bool vec = (H & 3) == 0;  // 16-byte global access to rows of H floats
    const bool storeA = rate && dy;  // training: states get a_t (see the top of the file)

    float* WT = sm;                   // [k][i], Kp x Hp
    float* A0 = WT + Kp * Hp;         // [b][k], Bp x ld
    float* A1 = A0 + Bp * ld;
    float* Hs = A1 + Bp * ld;         // rate: h [b][i]
    float* Wo = Hs + (rate ? Bp * ld : 0);
    float* bo = Wo + O * H;
    float* Ybuf = bo + O;             // [2][b][o]: y_t in Ybuf + (t & 1) Bp O
    float* Mbuf = Ybuf + 2 * Bp * O;  // [2][b][o]
    float* red = Mbuf + 2 * Bp * O;

    stageForwardWeights(WT, Kp, Hp, Hp, p, L, H, I, kappa, tid, nt);
    for (int e = tid; e < O * H; e += nt) Wo[e] = p[L.wout + e];
    for (int e = tid; e < O; e += nt) bo[e] = p[L.bout + e];

    // sum M over the network's slot.
    float msum = 0.f;
    for (int e = tid; e < T * B * O; e += nt) msum += ms[e];
    msum = blockSum(msum, red);
    const float dscale = msum > 0.f ? 2.f / msum : 0.f;

    // The group's tiles (its Bg trials by Hp units).
    const int tilesC = Hp / R, tiles = (Bg / R) * tilesC;
    // readoutTile's lane groups: tilesC lanes per trial row, aligned in the
    // warp, and every thread in the same number of tile iterations (block
    // uniform, so the shuffles see every lane). Only with 8x8 tiles: in the
    // 4x4 kernel its registers (127 against 64) cost W2 a block per SM and
    // 4% of the forward on the H200.
    const bool inTile = R == 8 && (tilesC & (tilesC - 1)) == 0 && tilesC <= 32 && tiles % ntg == 0;
    float lsum = 0.f;
    // The group's rows of the shared buffers.
    float* A0g = A0 + g * Bg * ld;
    float* A1g = A1 + g * Bg * ld;
    float* Hsg = Hs + g * Bg * ld;

    for (int b0 = 0; b0 < B; b0 += Bc) {
        const int nb = min(Bc, B - b0);
        // The group's first trial and live trials in this chunk.
        const int gb0 = b0 + g * Bg, nbg = G == 1 ? nb : min(max(nb - g * Bg, 0), Bg);
        startForwardChunk(A0g, A1g, Hsg, Bg, ld, Hp, nbg, xs + (size_t)gb0 * I, I, rate, tg, ntg);
        copyTargets(Ybuf + g * Bg * O, Mbuf + g * Bg * O, ys, ms, 0, B, gb0, nbg, O, tg, ntg);
        cpAsyncWait();
        groupSync<G>(g, ntg);
        float* Acur = A0g;
        float* Anext = A1g;
        for (int t = 0; t < T; t++) {
            const bool first = b0 == 0 && t == 0 && tiles >= ntg;  // see groupStartWait
            float* Yt = Ybuf + (t & 1) * Bp * O + g * Bg * O;
            float* Mt = Mbuf + (t & 1) * Bp * O + g * Bg * O;
            const size_t out = (((size_t)s * T + t) * B + gb0) * O;  // y_t's row of the group's first trial in yout, dy
            // Asynchronous copies: x_{t+1} into Anext, y_{t+1} and M_{t+1}.
            copyStepInputs(Anext, ld, Hp, xs, t, T, B, gb0, nbg, I, tg, ntg);
            if (t + 1 < T)
                copyTargets(Ybuf + ((t + 1) & 1) * Bp * O + g * Bg * O, Mbuf + ((t + 1) & 1) * Bp * O + g * Bg * O,
                            ys, ms, t + 1, B, gb0, nbg, O, tg, ntg);
            groupStartWait<G>(first, g, nt);
            for (int q = tg; q < tiles; q += ntg) {
                int qb = q / tilesC, qc = q % tilesC;
                float accu[R][R];
                tileGemm<R>(accu, Acur, ld, qb, Bg / 2, WT, Hp, qc, Hp / 2, Kp);
                if (q == tg) groupStartArrive<G>(first, g, nt);
#pragma unroll
                for (int r = 0; r < R; r++) {
                    const int b = tileIdx<R>(qb, Bg / 2, r);
                    const bool live = b < nbg;
                    float* grow = states + (((size_t)s * T + t) * B + gb0 + b) * H;
#pragma unroll
                    for (int h2 = 0; h2 < R / 4; h2++) {
                        const int i0 = tileIdx<R>(qc, Hp / 2, 4 * h2);
                        float hv[4], av[4], hold[4];
                        if (rate) load4(hold, Hsg + b * ld + i0, 4, true);
#pragma unroll
                        for (int u = 0; u < 4; u++) {
                            const bool ok = live && i0 + u < H;
                            const float z = accu[r][h2 * 4 + u];
                            if (rate) {
                                hv[u] = ok ? (1.f - tau) * hold[u] + tau * z : 0.f;
                                av[u] = tanhf(hv[u]);
                            } else {
                                hv[u] = ok ? tanhf(z) : 0.f;
                                av[u] = hv[u];
                            }
                        }
                        store4(Anext + b * ld + i0, av, 4, true);
                        if (rate) store4(Hsg + b * ld + i0, hv, 4, true);
                        if (live && i0 < H) {
                            float sv[4];  // element by element: a pointer choice would put hv and av in local memory
#pragma unroll
                            for (int u = 0; u < 4; u++) sv[u] = storeA ? av[u] : hv[u];
                            store4(grow + i0, sv, H - i0, vec);
                        }
#pragma unroll
                        for (int u = 0; u < 4; u++) accu[r][h2 * 4 + u] = av[u];  // a_t, for readoutTile
                    }
                }
                if (inTile)
                    readoutTile<R>(accu, qb, qc, tilesC, Bg, Hp, Wo, bo, Yt, Mt, nbg, H, O, c, dscale, yout, dy, out,
                                   lsum);
            }
            cpAsyncWait();
            groupSync<G>(g, ntg);
            if (!inTile) {
                // Readout, loss and dL/dy for (b, o), from shared memory. No
                // barrier after it: the next step writes a_{t+1} and x_{t+2}
                // into the other buffer, and each thread overwrites only the
                // y and M elements it reads here (the same e as copyTargets).
                readoutStep(Anext, ld, Wo, bo, Yt, Mt, nbg, H, O, c, dscale, vec, yout, dy, out, lsum, tg, ntg);
            }
            float* tmp = Acur;
            Acur = Anext;
            Anext = tmp;
        }
    }
    lsum = blockSum(lsum, red);
    if (tid == 0) loss[s] = msum > 0.f ? lsum / msum : 0.f;
}

// rnn_backward runs network blockIdx.x backward through time and writes
//
//	delta (S, T, B, H)  delta_t   (=)
//
// from states (S,T,B,H) and dy (S,T,B,O) of rnn_forward. Each step is one
// tile GEMM e = [delta_{t+1} | dy_t] [kappa W_hh; c W_out] (Kp = padK(Hp, O)
// rows), then delta_t = e (1 - h_t^2) (vanilla) or the rate cell's q update.
// While step t computes, dy_{t-1} is copied into the buffer that step t
// fills with delta_t, and each thread copies the h_t it needs into the
// places where it will write delta_t. With G warp groups (see padTrials),
// each group runs all of this on its own trials, tiles and barrier.
// Shared memory (floats): W Kp*Hp, D0 and D1 Bp*ld each ([b][j]), rate
// only Q Bp*ld.
template <int R, int G>
__device__ __forceinline__ void backward(const float* __restrict__ params, const float* __restrict__ states, const float* __restrict__ dy,
             float* __restrict__ delta, const float* __restrict__ gamma, int T, int B, int I, int H, int O,
             int P, int Bc, int rate, float tau) {
    DYNAMIC_SHARED(sm);
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const int Hp = (H + 7) & ~7, Bp = padTrials(Bc, G), Kp = padK(Hp, O), ld = Kp + 4;
    // Warp group g: threads [g ntg, (g+1) ntg), chunk trials [g Bg, (g+1) Bg).
    const int ntg = nt / G, g = G == 1 ? 0 : tid / ntg, tg = G == 1 ? tid : tid - g * ntg, Bg = Bp / G;
    const Lay L = layout(H, I, O);
    const float* p = params + (size_t)s * P;
    const float c = rate ? 1.f / (gamma[s] * (float)H) : 1.f;
    const float kappa = rate ? 1.f / (float)H : 1.f;
    const bool vec = (H & 3) == 0;
    const float* dys = dy + (size_t)s * T * B * O;

    float* W = sm;               // [j][i], Kp x Hp
    float* D0 = W + Kp * Hp;     // [b][j], Bp x ld
    float* D1 = D0 + Bp * ld;
    float* Q = D1 + Bp * ld;     // rate: q [b][i]

    stageBackwardWeights(W, Kp, Hp, Hp, p, L, H, O, kappa, c, tid, nt);
    if (G > 1) __syncthreads();  // the groups' first barriers are their own

    // The group's tiles (its Bg trials by Hp units) and rows of the buffers.
    const int tilesC = Hp / R, tiles = (Bg / R) * tilesC;
    float* D0g = D0 + g * Bg * ld;
    float* D1g = D1 + g * Bg * ld;
    float* Qg = Q + g * Bg * ld;

    for (int b0 = 0; b0 < B; b0 += Bc) {
        const int nb = min(Bc, B - b0);
        // The group's first trial and live trials in this chunk.
        const int gb0 = b0 + g * Bg, nbg = G == 1 ? nb : min(max(nb - g * Bg, 0), Bg);
        startBackwardChunk(D0g, D1g, Qg, Bg, ld, Hp, nbg, dys + ((size_t)(T - 1) * B + gb0) * O, O, rate, tg, ntg);
        groupSync<G>(g, ntg);
        float* Dnext = D0g;  // [delta_{t+1} | dy_t]
        float* Dcur = D1g;   // receives [delta_t | dy_{t-1}]
        for (int t = T - 1; t >= 0; t--) {
            const bool first = b0 == 0 && t == T - 1 && tiles >= ntg;  // see groupStartWait
            if (t >= 1)
                for (int e = tg; e < nbg * O; e += ntg)
                    cpAsync4(Dcur + (e / O) * ld + Hp + e % O, dys + ((size_t)(t - 1) * B + gb0) * O + e);
            // Each thread's own a_t (the states in training), into the places of its delta_t.
            const float* hbase = states + (((size_t)s * T + t) * B + gb0) * H;
            for (int q = tg; q < tiles; q += ntg) copyOwnStates<R>(Dcur, ld, hbase, q / tilesC, q % tilesC, Bg, Hp, nbg, H, vec);
            groupStartWait<G>(first, g, nt);
            for (int q = tg; q < tiles; q += ntg) {
                int qb = q / tilesC, qc = q % tilesC;
                float accu[R][R];
                tileGemm<R>(accu, Dnext, ld, qb, Bg / 2, W, Hp, qc, Hp / 2, Kp);
                if (q == tg) {
                    groupStartArrive<G>(first, g, nt);
                    cpAsyncWait();
                }
#pragma unroll
                for (int r = 0; r < R; r++) {
                    const int b = tileIdx<R>(qb, Bg / 2, r);
                    const bool live = b < nbg;
                    const size_t row = (((size_t)s * T + t) * B + gb0 + b) * H;
#pragma unroll
                    for (int h2 = 0; h2 < R / 4; h2++) {
                        const int i0 = tileIdx<R>(qc, Hp / 2, 4 * h2);
                        float hv[4], qold[4], dv[4], qv[4];
                        load4(hv, Dcur + b * ld + i0, 4, true);
                        if (rate) load4(qold, Qg + b * ld + i0, 4, true);
#pragma unroll
                        for (int u = 0; u < 4; u++) {
                            const bool ok = live && i0 + u < H;
                            const float e = accu[r][h2 * 4 + u];
                            if (rate) {
                                const float a = hv[u];  // the rate cell's states hold a_t in training
                                qv[u] = ok ? (1.f - tau) * qold[u] + (1.f - a * a) * e : 0.f;
                                dv[u] = tau * qv[u];
                            } else {
                                dv[u] = ok ? e * (1.f - hv[u] * hv[u]) : 0.f;
                            }
                        }
                        store4(Dcur + b * ld + i0, dv, 4, true);
                        if (rate) store4(Qg + b * ld + i0, qv, 4, true);
                        if (live && i0 < H) store4(delta + row + i0, dv, H - i0, vec);
                    }
                }
            }
            cpAsyncWait();
            groupSync<G>(g, ntg);
            float* tmp = Dnext;
            Dnext = Dcur;
            Dcur = tmp;
        }
    }
}

// rnn_backward_fused runs network blockIdx.x backward through time as
// rnn_backward does, but accumulates every weight gradient on chip and
// writes
//
//	grad (S, P)  dW_hh, dW_ih, db, dW_out, db_out of the masked MSE   (=)
//
// instead of delta, so no rnn_grad_* launch follows. At step t the block
// holds Dnext = [delta_{t+1} | dy_t] (the recurrence GEMM's input) and, once
// every thread's copy has landed, a_t in the rows of Dcur that the step's
// epilogue then overwrites with delta_t. In between, over the chunk's trials b,
//
//	dW_hh  += kappa delta_{t+1}^T a_t     (register tiles, 4x4 per thread)
//	dW_ih  += delta_{t+1}^T x_{t+1},  db += sum_b delta_{t+1}   (thread i < Hp)
//	dW_out += c dy_t^T a_t,  db_out += sum_b dy_t               (thread Hp + j)
//
// and after the last step delta_0^T x_0 and sum_b delta_0 complete dW_ih and
// db. Tile q = tid + u nt (u < DT) covers rows 4 (q / (Hp/4)) and columns
// 4 (q % (Hp/4)) of dW_hh, so neighbouring lanes read the same delta rows
// (broadcast) and contiguous a columns. The recurrence GEMM of step t runs
// while a_t, x_{t+1} and dy_{t-1} are being copied. Three barriers per step:
// copies visible, a_t read, delta_t written. The launch plan (gpu/plan.go,
// fusedShared) guarantees at most one recurrence tile per thread, nt >= 2 Hp,
// (Hp/4)^2 <= DT nt and I, O <= 4. Shared memory (floats): as rnn_backward,
// then X Bp*4 ([b][k]: x_{t+1}).
template <int R, int DT>
__device__ __forceinline__ void backwardFused(const float* __restrict__ params, const float* __restrict__ states,
                                              const float* __restrict__ dy, const float* __restrict__ x, int shared,
                                              const float* __restrict__ gamma, float* __restrict__ grad, int T, int B,
                                              int I, int H, int O, int P, int Bc, int rate, float tau) {
    DYNAMIC_SHARED(sm);
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const int Hp = (H + 7) & ~7, Bp = (Bc + 7) & ~7, Kp = padK(Hp, O), ld = Kp + 4;
    const Lay L = layout(H, I, O);
    const float* p = params + (size_t)s * P;
    const float c = rate ? 1.f / (gamma[s] * (float)H) : 1.f;
    const float kappa = rate ? 1.f / (float)H : 1.f;
    const bool vec = (H & 3) == 0;
    const float* dys = dy + (size_t)s * T * B * O;
    const float* xs = x + (size_t)(shared ? 0 : s) * T * B * I;

    float* W = sm;               // [j][i], Kp x Hp
    float* D0 = W + Kp * Hp;     // [b][j], Bp x ld
    float* D1 = D0 + Bp * ld;
    float* Q = D1 + Bp * ld;     // rate: q [b][i]
    float* X = Q + (rate ? Bp * ld : 0);  // [b][k], Bp x 4

    stageBackwardWeights(W, Kp, Hp, Hp, p, L, H, O, kappa, c, tid, nt);

    const int tilesC = Hp / R, tiles = (Bp / R) * tilesC;
    const bool hasTile = tid < tiles;                 // at most one recurrence tile per thread
    const int qb = tid / tilesC, qc = tid % tilesC;  // this thread's tile
    const int gc = Hp / 4, gTiles = gc * gc;         // dW_hh tiles
    float G[DT][4][4];
#pragma unroll
    for (int u = 0; u < DT; u++)
#pragma unroll
        for (int r = 0; r < 4; r++)
#pragma unroll
            for (int q = 0; q < 4; q++) G[u][r][q] = 0.f;
    // Border gradients: thread i < Hp owns unit i of dW_ih and db, thread
    // Hp + j unit j of dW_out (and db_out[j] when j < O).
    const bool inRole = tid < Hp, outRole = tid >= Hp && tid < 2 * Hp;
    const int unit = inRole ? tid : tid - Hp;
    float accX[4] = {0.f, 0.f, 0.f, 0.f}, accY[4] = {0.f, 0.f, 0.f, 0.f}, accB = 0.f, accBo = 0.f;

    // accumulate adds the products of Dn = [delta | dy] with a (Ah, rows of
    // stride ld) and x (X) over nb trials; withA false: x and 1 only.
    auto accumulate = [&](const float* Dn, const float* Ah, int nb, bool withA) {
        if (withA) {
#pragma unroll
            for (int u = 0; u < DT; u++) {
                const int q = tid + u * nt;
                if (q < gTiles) {
                    const int i0 = 4 * (q / gc), j0 = 4 * (q % gc);
                    for (int b = 0; b < nb; b++) {
                        float4 d4 = *reinterpret_cast<const float4*>(Dn + b * ld + i0);
                        float4 a4 = *reinterpret_cast<const float4*>(Ah + b * ld + j0);
                        const float dv[4] = {d4.x, d4.y, d4.z, d4.w}, av[4] = {a4.x, a4.y, a4.z, a4.w};
#pragma unroll
                        for (int r = 0; r < 4; r++)
#pragma unroll
                            for (int q2 = 0; q2 < 4; q2++) G[u][r][q2] = fmaf(dv[r], av[q2], G[u][r][q2]);
                    }
                }
            }
        }
        if (inRole) {
            for (int b = 0; b < nb; b++) {
                const float dv = Dn[b * ld + unit];
#pragma unroll
                for (int k = 0; k < 4; k++)
                    if (k < I) accX[k] = fmaf(dv, X[b * 4 + k], accX[k]);
                accB += dv;
            }
        }
        if (outRole && withA) {
            for (int b = 0; b < nb; b++) {
                const float av = Ah[b * ld + unit];
#pragma unroll
                for (int o = 0; o < 4; o++)
                    if (o < O) accY[o] = fmaf(Dn[b * ld + Hp + o], av, accY[o]);
                if (unit < O) accBo += Dn[b * ld + Hp + unit];
            }
        }
    };

    for (int b0 = 0; b0 < B; b0 += Bc) {
        const int nb = min(Bc, B - b0);
        startBackwardChunk(D0, D1, Q, Bp, ld, Hp, nb, dys + ((size_t)(T - 1) * B + b0) * O, O, rate, tid, nt);
        for (int e = tid; e < Bp * 4; e += nt) X[e] = 0.f;  // x_T does not exist
        __syncthreads();
        float* Dnext = D0;  // [delta_{t+1} | dy_t]
        float* Dcur = D1;   // receives a_t, then [delta_t | dy_{t-1}]
        for (int t = T - 1; t >= 0; t--) {
            // Copies: dy_{t-1} (0 at t = 0, so that the pass after the loop
            // adds no dy), x_{t+1}, and each thread's own a_t (the states in training).
            for (int e = tid; e < nb * O; e += nt) {
                float* dst = Dcur + (e / O) * ld + Hp + e % O;
                if (t >= 1) cpAsync4(dst, dys + ((size_t)(t - 1) * B + b0) * O + e);
                else *dst = 0.f;
            }
            if (t + 1 < T)
                for (int e = tid; e < nb * I; e += nt)
                    cpAsync4(X + (e / I) * 4 + e % I, xs + ((size_t)(t + 1) * B + b0) * I + e);
            if (hasTile)
                copyOwnStates<R>(Dcur, ld, states + (((size_t)s * T + t) * B + b0) * H, qb, qc, Bp, Hp, nb, H, vec);
            // The recurrence GEMM needs none of the copies.
            float accu[R][R];
            if (hasTile) tileGemm<R>(accu, Dnext, ld, qb, Bp / 2, W, Hp, qc, Hp / 2, Kp);
            cpAsyncWait();  // a_t (the states hold a_t in training, for both cells)
            __syncthreads();
            accumulate(Dnext, Dcur, nb, true);
            __syncthreads();
#pragma unroll
            for (int r = 0; r < R && hasTile; r++) {
                const int b = tileIdx<R>(qb, Bp / 2, r);
                const bool live = b < nb;
#pragma unroll
                for (int h2 = 0; h2 < R / 4; h2++) {
                    const int i0 = tileIdx<R>(qc, Hp / 2, 4 * h2);
                    float av[4], qold[4], dv[4], qv[4];
                    load4(av, Dcur + b * ld + i0, 4, true);
                    if (rate) load4(qold, Q + b * ld + i0, 4, true);
#pragma unroll
                    for (int u = 0; u < 4; u++) {
                        const bool ok = live && i0 + u < H;
                        const float e = accu[r][h2 * 4 + u];
                        if (rate) {
                            qv[u] = ok ? (1.f - tau) * qold[u] + (1.f - av[u] * av[u]) * e : 0.f;
                            dv[u] = tau * qv[u];
                        } else {
                            dv[u] = ok ? e * (1.f - av[u] * av[u]) : 0.f;
                        }
                    }
                    store4(Dcur + b * ld + i0, dv, 4, true);
                    if (rate) store4(Q + b * ld + i0, qv, 4, true);
                }
            }
            __syncthreads();
            float* tmp = Dnext;
            Dnext = Dcur;
            Dcur = tmp;
        }
        // delta_0 with x_0 (a_{-1} = 0 adds nothing to dW_hh).
        for (int e = tid; e < nb * I; e += nt) X[(e / I) * 4 + e % I] = xs[(size_t)b0 * I + e];
        __syncthreads();
        accumulate(Dnext, nullptr, nb, false);
        __syncthreads();
    }

    float* g = grad + (size_t)s * P;
#pragma unroll
    for (int u = 0; u < DT; u++) {
        const int q = tid + u * nt;
        if (q >= gTiles) continue;
        const int i0 = 4 * (q / gc), j0 = 4 * (q % gc);
#pragma unroll
        for (int r = 0; r < 4; r++)
#pragma unroll
            for (int q2 = 0; q2 < 4; q2++)
                if (i0 + r < H && j0 + q2 < H) g[(i0 + r) * H + j0 + q2] = kappa * G[u][r][q2];
    }
    if (inRole && unit < H) {
#pragma unroll
        for (int k = 0; k < 4; k++)
            if (k < I) g[L.wih + unit * I + k] = accX[k];
        g[L.bh + unit] = accB;
    }
    if (outRole && unit < H) {
#pragma unroll
        for (int o = 0; o < 4; o++)
            if (o < O) g[L.wout + o * H + unit] = c * accY[o];
        if (unit < O) g[L.bout + unit] = accBo;
    }
}

// The sequence kernels' entry points: _r8 with 8x8 register tiles, _r4
// with 4x4 (see R above).

extern "C" __global__ void __launch_bounds__(NT_MAX, 1) rnn_forward_r8(FWD_PARAMS) { forward<8, 1>(FWD_ARGS); }
extern "C" __global__ void R4_BOUNDS rnn_forward_r4(FWD_PARAMS) { forward<4, 1>(FWD_ARGS); }
// _g2: two warp groups (padTrials), selected with DEGEN_GROUPS=2 (gpu/plan.go).
// The 4x4 ones are held to 64 registers (four blocks per SM, as _r4; 75
// and 79 unbounded, with ptxas 11.8; no spills).
extern "C" __global__ void __launch_bounds__(NT_MAX, 1) rnn_forward_r8_g2(FWD_PARAMS) { forward<8, 2>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(NT_MAX, 4) rnn_forward_r4_g2(FWD_PARAMS) { forward<4, 2>(FWD_ARGS); }

// ---- Tensor-core sequence kernels (3xTF32), selected with DEGEN_MMA=seq, on or auto (gpu/plan.go) ----

#define MMA_WARPS 8  // warps per block of rnn_forward_mma_*: 4 along trials x 2 along units

// presplitTF32 replaces each of the n floats of W by its TF32 big part and
// writes its small part to Ws (tf32Split), so that the GEMMs of every time
// step read the constant weights' parts instead of splitting them again
// (each split costs more instructions than its three products' issue).
// Callers sync before (W staged) and after.
__device__ __forceinline__ void presplitTF32(float* W, float* Ws, int n, int tid, int nt) {
    for (int e = tid; e < n; e += nt) {
        unsigned big, small;
        tf32Split(W[e], big, small);
        W[e] = __uint_as_float(big);
        Ws[e] = __uint_as_float(small);
    }
}

// PRESPLIT(NT) says whether the tensor-core sequence kernels with NT unit
// tiles per warp keep their weights split in shared memory (twice the
// space): for H <= 64 (NT <= 4), where it always fits (gpu/plan.go
// mmaKernels) and the splits outnumber the products the most.
#define PRESPLIT(NT) ((NT) <= 4)

// padK8 rounds k up to a multiple of 8, the k of one mma.sync.m16n8k8.
__host__ __device__ __forceinline__ int padK8(int k) { return (k + 7) & ~7; }

// mmaGemm3x computes the warp's MT x NT tiles of 16 x 8 of
//
//	acc = A[m0 .. m0 + 16 MT][0 .. K] Bm[0 .. K][n0 .. n0 + 8 NT]
//
// (element (m, k) of A at A[m ldm + k ldk]: ldk = 1 for row-major A, ldm = 1
// for column-major; Bm row-major with stride ldb; K a multiple of 8) on the
// tensor cores in 3xTF32; lane (g, q) = (lane / 4, lane % 4) gets
// acc[mt][j][r] = C[m0 + 16 mt + g + 8 (r / 2)][n0 + 8 j + 2 q + r % 2].
// With PRE, Bm and Bs hold B already split (presplitTF32): big and small
// parts, read instead of split at every load. With KSUMS (the sequence
// kernels), each k-block's three products are summed on the tensor cores
// from zero and then added to acc in float32: the tensor cores truncate
// their addends and round toward zero, and summed over the whole K there
// the sequence kernels failed `degen compare` (W_hh at 5.6 of its tolerance
// on the H200, 6.8 on the emulator); per k-block the emulator gives 0.41,
// the float32 CPU backend 0.36. The weight-gradient kernel sums its K in
// stages itself.
template <int MT, int NT, bool PRE = false, bool KSUMS = false>
__device__ __forceinline__ void mmaGemm3x(float acc[MT][NT][4], const float* A, int ldm, int ldk, const float* Bm,
                                          const float* Bs, int ldb, int K, int m0, int n0, int g, int q) {
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[mt][j][r] = 0.f;
    for (int k0 = 0; k0 < K; k0 += 8) {
        unsigned aBig[MT][4], aSmall[MT][4], bBig[NT][2], bSmall[NT][2];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int r = 0; r < 4; r++)
                tf32Split(A[(m0 + 16 * mt + g + 8 * (r % 2)) * ldm + (k0 + q + 4 * (r / 2)) * ldk], aBig[mt][r],
                          aSmall[mt][r]);
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int r = 0; r < 2; r++) {
                const int e = (k0 + q + 4 * r) * ldb + n0 + 8 * j + g;
                if (PRE) {
                    bBig[j][r] = __float_as_uint(Bm[e]);
                    bSmall[j][r] = __float_as_uint(Bs[e]);
                } else {
                    tf32Split(Bm[e], bBig[j][r], bSmall[j][r]);
                }
            }
        // The small products first, so that they are not lost against the
        // big one.
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int j = 0; j < NT; j++) {
                if (KSUMS) {
                    float part[4] = {0.f, 0.f, 0.f, 0.f};
                    mmaTF32(part, aSmall[mt], bBig[j]);
                    mmaTF32(part, aBig[mt], bSmall[j]);
                    mmaTF32(part, aBig[mt], bBig[j]);
#pragma unroll
                    for (int r = 0; r < 4; r++) acc[mt][j][r] += part[r];
                } else {
                    mmaTF32(acc[mt][j], aSmall[mt], bBig[j]);
                    mmaTF32(acc[mt][j], aBig[mt], bSmall[j]);
                    mmaTF32(acc[mt][j], aBig[mt], bBig[j]);
                }
            }
    }
}

// forwardMma is rnn_forward with each step's GEMM on the tensor cores:
//
//	z = [a_{t-1} | x_t | 1] [kappa W_hh^T; W_ih^T; b]   (trials x units)
//
// as mma.sync.m16n8k8 TF32 products in 3xTF32 (every operand split into two
// TF32 parts at load, three products per pair), accumulated in float32.
// Warp w owns trials [64 MT (w / 2) / 4 ...]: rows 16 MT (w / 2) .. +16 MT
// and units 8 NT (w % 2) .. +8 NT, i.e. MT x NT tiles of 16 x 8, so the block
// covers MP = 64 MT trials and NP = 16 NT units (Bc <= MP, H <= NP; padding
// is zero). Everything else (copies, readout, loss, outputs) is rnn_forward's.
// Shared memory (floats): WT Kp x (NP + 8) ([k][i], Kp = padK8(NP + I + 1);
// twice that with PRESPLIT(NT): big and small parts), A0 and A1 MP x ld
// ([b][k], ld = Kp + 4), rate only Hs MP x ld, then W_out
// O*H, b_out O, y_t MP*O, M_t MP*O, red 32. The row strides make the
// fragment loads of a warp hit 32 different banks.
template <int MT, int NT>
__device__ __forceinline__ void forwardMma(const float* __restrict__ params, const float* __restrict__ x,
                                           const float* __restrict__ y, const float* __restrict__ mask, int shared,
                                           float* __restrict__ states, float* __restrict__ yout,
                                           float* __restrict__ dy, float* __restrict__ loss,
                                           const float* __restrict__ gamma, int T, int B, int I, int H, int O, int P,
                                           int Bc, int rate, float tau) {
    DYNAMIC_SHARED(sm);
    constexpr int MP = 64 * MT, NP = 16 * NT;
    if (blockDim.x != 32 * MMA_WARPS) __trap();  // the warp tiling covers the block only with MMA_WARPS warps
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const int Kp = padK8(NP + I + 1), ld = Kp + 4, ldw = NP + 8;
    const Lay L = layout(H, I, O);
    const ForwardNet net = forwardNet(params, x, y, mask, shared, gamma, s, T, B, I, H, O, P, rate);
    const float *p = net.p, *xs = net.xs, *ys = net.ys, *ms = net.ms;
    const float c = net.c, kappa = net.kappa;
    const bool vec = (H & 3) == 0;
    const bool storeA = rate && dy;  // training: states get a_t (see the top of the file)

    constexpr bool PRE = PRESPLIT(NT);
    float* WT = sm;                   // [k][i], Kp x ldw
    float* WTs = WT + Kp * ldw;       // PRE: the small parts of WT
    float* A0 = WTs + (PRE ? Kp * ldw : 0);  // [b][k], MP x ld
    float* A1 = A0 + MP * ld;
    float* Hs = A1 + MP * ld;         // rate: h [b][i]
    float* Wo = Hs + (rate ? MP * ld : 0);
    float* bo = Wo + O * H;
    float* Yt = bo + O;               // [b][o]
    float* Mt = Yt + MP * O;
    float* red = Mt + MP * O;

    stageForwardWeights(WT, Kp, ldw, NP, p, L, H, I, kappa, tid, nt);
    if (PRE) {
        __syncthreads();
        presplitTF32(WT, WTs, Kp * ldw, tid, nt);
    }
    for (int e = tid; e < O * H; e += nt) Wo[e] = p[L.wout + e];
    for (int e = tid; e < O; e += nt) bo[e] = p[L.bout + e];

    float msum = 0.f;
    for (int e = tid; e < T * B * O; e += nt) msum += ms[e];
    msum = blockSum(msum, red);
    const float dscale = msum > 0.f ? 2.f / msum : 0.f;

    const int warp = tid / 32, lane = tid % 32, g = lane / 4, q = lane % 4;
    const int m0 = (warp / 2) * 16 * MT, n0 = (warp % 2) * 8 * NT;
    float lsum = 0.f;

    for (int b0 = 0; b0 < B; b0 += Bc) {
        const int nb = min(Bc, B - b0);
        startForwardChunk(A0, A1, Hs, MP, ld, NP, nb, xs + (size_t)b0 * I, I, rate, tid, nt);
        __syncthreads();
        float* Acur = A0;
        float* Anext = A1;
        for (int t = 0; t < T; t++) {
            copyStepInputs(Anext, ld, NP, xs, t, T, B, b0, nb, I, tid, nt);
            copyTargets(Yt, Mt, ys, ms, t, B, b0, nb, O, tid, nt);
            float acc[MT][NT][4];
            mmaGemm3x<MT, NT, PRE, true>(acc, Acur, ld, 1, WT, WTs, ldw, Kp, m0, n0, g, q);
            // Epilogue: lane owns rows m0 + 16 mt + g (+8) and units n0 + 8 j + 2q (+1).
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int j = 0; j < NT; j++)
#pragma unroll
                    for (int half = 0; half < 2; half++) {
                        const int b = m0 + 16 * mt + g + 8 * half, i = n0 + 8 * j + 2 * q;
                        float hv[2], av[2];
#pragma unroll
                        for (int u = 0; u < 2; u++) {
                            const bool ok = b < nb && i + u < H;
                            const float z = acc[mt][j][2 * half + u];
                            if (rate) {
                                hv[u] = ok ? (1.f - tau) * Hs[b * ld + i + u] + tau * z : 0.f;
                                av[u] = tanhf(hv[u]);
                            } else {
                                hv[u] = ok ? tanhf(z) : 0.f;
                                av[u] = hv[u];
                            }
                        }
                        Anext[b * ld + i] = av[0];
                        Anext[b * ld + i + 1] = av[1];
                        if (rate) {
                            Hs[b * ld + i] = hv[0];
                            Hs[b * ld + i + 1] = hv[1];
                        }
                        if (b < nb) {
                            float* grow = states + (((size_t)s * T + t) * B + b0 + b) * H;
                            if (i < H) grow[i] = storeA ? av[0] : hv[0];
                            if (i + 1 < H) grow[i + 1] = storeA ? av[1] : hv[1];
                        }
                    }
            cpAsyncWait();
            __syncthreads();
            // Readout, loss and dL/dy for (b, o), as rnn_forward.
            readoutStep(Anext, ld, Wo, bo, Yt, Mt, nb, H, O, c, dscale, vec, yout, dy,
                        (((size_t)s * T + t) * B + b0) * O, lsum, tid, nt);
            __syncthreads();
            float* tmp = Acur;
            Acur = Anext;
            Anext = tmp;
        }
    }
    lsum = blockSum(lsum, red);
    if (tid == 0) loss[s] = msum > 0.f ? lsum / msum : 0.f;
}

extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_forward_mma_m1n2(FWD_PARAMS) { forwardMma<1, 2>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_forward_mma_m1n4(FWD_PARAMS) { forwardMma<1, 4>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_forward_mma_m1n8(FWD_PARAMS) { forwardMma<1, 8>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_forward_mma_m2n4(FWD_PARAMS) { forwardMma<2, 4>(FWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_forward_mma_m2n8(FWD_PARAMS) { forwardMma<2, 8>(FWD_ARGS); }

// backwardMma is rnn_backward with each step's GEMM on the tensor cores:
//
//	e = [delta_{t+1} | dy_t] [kappa W_hh; c W_out]   (trials x units)
//
// in 3xTF32 (mmaGemm3x), warps and tiles as forwardMma. Each lane copies the
// h_t of the elements it owns into the places where it then writes
// delta_t, and dy_{t-1} is copied next to them while the step computes; one
// barrier per step. Writes delta (S, T, B, H) as rnn_backward. Shared memory
// (floats): W Kp x (NP + 8) ([j][i], Kp = padK8(NP + O); twice that with
// PRESPLIT(NT)), D0 and D1 MP x ld
// ([b][j], ld = Kp + 4), rate only Q MP x ld.
template <int MT, int NT>
__device__ __forceinline__ void backwardMma(const float* __restrict__ params, const float* __restrict__ states,
                                            const float* __restrict__ dy, float* __restrict__ delta,
                                            const float* __restrict__ gamma, int T, int B, int I, int H, int O, int P,
                                            int Bc, int rate, float tau) {
    DYNAMIC_SHARED(sm);
    constexpr int MP = 64 * MT, NP = 16 * NT;
    if (blockDim.x != 32 * MMA_WARPS) __trap();  // the warp tiling covers the block only with MMA_WARPS warps
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const int Kp = padK8(NP + O), ld = Kp + 4, ldw = NP + 8;
    const Lay L = layout(H, I, O);
    const float* p = params + (size_t)s * P;
    const float c = rate ? 1.f / (gamma[s] * (float)H) : 1.f;
    const float kappa = rate ? 1.f / (float)H : 1.f;
    const float* dys = dy + (size_t)s * T * B * O;

    constexpr bool PRE = PRESPLIT(NT);
    float* W = sm;               // [j][i], Kp x ldw
    float* Ws = W + Kp * ldw;    // PRE: the small parts of W
    float* D0 = Ws + (PRE ? Kp * ldw : 0);  // [b][j], MP x ld
    float* D1 = D0 + MP * ld;
    float* Q = D1 + MP * ld;     // rate: q [b][i]

    stageBackwardWeights(W, Kp, ldw, NP, p, L, H, O, kappa, c, tid, nt);
    if (PRE) {
        __syncthreads();
        presplitTF32(W, Ws, Kp * ldw, tid, nt);
    }

    const int warp = tid / 32, lane = tid % 32, g = lane / 4, q = lane % 4;
    const int m0 = (warp / 2) * 16 * MT, n0 = (warp % 2) * 8 * NT;

    for (int b0 = 0; b0 < B; b0 += Bc) {
        const int nb = min(Bc, B - b0);
        startBackwardChunk(D0, D1, Q, MP, ld, NP, nb, dys + ((size_t)(T - 1) * B + b0) * O, O, rate, tid, nt);
        __syncthreads();
        float* Dnext = D0;  // [delta_{t+1} | dy_t]
        float* Dcur = D1;   // receives [delta_t | dy_{t-1}]
        for (int t = T - 1; t >= 0; t--) {
            if (t >= 1)
                for (int e = tid; e < nb * O; e += nt)
                    cpAsync4(Dcur + (e / O) * ld + NP + e % O, dys + ((size_t)(t - 1) * B + b0) * O + e);
            // Each lane's own a_t (the states in training), into the places of its delta_t.
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int j = 0; j < NT; j++)
#pragma unroll
                    for (int half = 0; half < 2; half++) {
                        const int b = m0 + 16 * mt + g + 8 * half, i = n0 + 8 * j + 2 * q;
                        if (b >= nb) continue;
                        const float* hrow = states + (((size_t)s * T + t) * B + b0 + b) * H;
                        if (i < H) cpAsync4(Dcur + b * ld + i, hrow + i);
                        if (i + 1 < H) cpAsync4(Dcur + b * ld + i + 1, hrow + i + 1);
                    }
            float acc[MT][NT][4];
            mmaGemm3x<MT, NT, PRE, true>(acc, Dnext, ld, 1, W, Ws, ldw, Kp, m0, n0, g, q);
            cpAsyncWait();
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int j = 0; j < NT; j++)
#pragma unroll
                    for (int half = 0; half < 2; half++) {
                        const int b = m0 + 16 * mt + g + 8 * half, i = n0 + 8 * j + 2 * q;
                        float dv[2];
#pragma unroll
                        for (int u = 0; u < 2; u++) {
                            const bool ok = b < nb && i + u < H;
                            const float e = acc[mt][j][2 * half + u];
                            const float hv = ok ? Dcur[b * ld + i + u] : 0.f;
                            if (rate) {
                                const float a = hv;  // the rate cell's states hold a_t in training
                                const float qv = ok ? (1.f - tau) * Q[b * ld + i + u] + (1.f - a * a) * e : 0.f;
                                Q[b * ld + i + u] = qv;
                                dv[u] = tau * qv;
                            } else {
                                dv[u] = ok ? e * (1.f - hv * hv) : 0.f;
                            }
                            Dcur[b * ld + i + u] = dv[u];
                        }
                        if (b < nb) {
                            float* drow = delta + (((size_t)s * T + t) * B + b0 + b) * H;
                            if (i < H) drow[i] = dv[0];
                            if (i + 1 < H) drow[i + 1] = dv[1];
                        }
                    }
            __syncthreads();
            float* tmp = Dnext;
            Dnext = Dcur;
            Dcur = tmp;
        }
    }
}

extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_backward_mma_m1n2(BWD_PARAMS) { backwardMma<1, 2>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_backward_mma_m1n4(BWD_PARAMS) { backwardMma<1, 4>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_backward_mma_m1n8(BWD_PARAMS) { backwardMma<1, 8>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_backward_mma_m2n4(BWD_PARAMS) { backwardMma<2, 4>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(32 * MMA_WARPS, 1) rnn_backward_mma_m2n8(BWD_PARAMS) { backwardMma<2, 8>(BWD_ARGS); }

// mma_selftest multiplies one 16x8 A by one 8x8 B (both row-major, values
// exact in TF32) with a single mmaTF32 into D (16x8, row-major), one warp:
// a GPU-free test runs it on the emulator and the GPU check runs it on the
// card, which shows that the fragment layout above is the hardware's.
extern "C" __global__ void __launch_bounds__(32) mma_selftest(const float* __restrict__ A, const float* __restrict__ Bm,
                                                              float* __restrict__ D) {
    const int lane = threadIdx.x % 32, g = lane / 4, q = lane % 4;
    unsigned a[4], b[2];
    float d[4] = {0.f, 0.f, 0.f, 0.f};
    for (int r = 0; r < 4; r++) a[r] = toTF32(A[(g + 8 * (r % 2)) * 8 + q + 4 * (r / 2)]);
    for (int r = 0; r < 2; r++) b[r] = toTF32(Bm[(q + 4 * r) * 8 + g]);
    mmaTF32(d, a, b);
    for (int r = 0; r < 4; r++) D[(g + 8 * (r / 2)) * 8 + 2 * q + r % 2] = d[r];
}
extern "C" __global__ void __launch_bounds__(NT_MAX, 1) rnn_backward_r8(BWD_PARAMS) { backward<8, 1>(BWD_ARGS); }
extern "C" __global__ void R4_BOUNDS rnn_backward_r4(BWD_PARAMS) { backward<4, 1>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(NT_MAX, 1) rnn_backward_r8_g2(BWD_PARAMS) { backward<8, 2>(BWD_ARGS); }
extern "C" __global__ void __launch_bounds__(NT_MAX, 4) rnn_backward_r4_g2(BWD_PARAMS) { backward<4, 2>(BWD_ARGS); }

#define FUSED_PARAMS                                                                                     \
    const float *__restrict__ params, const float *__restrict__ states, const float *__restrict__ dy,       \
        const float *__restrict__ x, int shared, const float *__restrict__ gamma, float *__restrict__ grad,  \
        int T, int B, int I, int H, int O, int P, int Bc, int rate, float tau
#define FUSED_ARGS params, states, dy, x, shared, gamma, grad, T, B, I, H, O, P, Bc, rate, tau

extern "C" __global__ void __launch_bounds__(NT_MAX, 1) rnn_backward_fused_r8(FUSED_PARAMS) {
    backwardFused<8, FUSED_DT>(FUSED_ARGS);
}
extern "C" __global__ void __launch_bounds__(NT_MAX) rnn_backward_fused_r4(FUSED_PARAMS) {
    backwardFused<4, FUSED_DT>(FUSED_ARGS);
}

#define GK 16   // rows per shared stage of the weight-gradient kernels

// gradWeights writes (=) the weight gradients of network blockIdx.y from
// the saved states and deltas, for the TILE x TILE tile blockIdx.x of W_hh:
//
//	dW_hh[i, j] = kappa sum_{t=1}^{T-1} sum_b delta[t,b,i] a[t-1,b,j]
//
// a GEMM over K = (T-1) B rows (r = t B + b, both operands row-major along
// the hidden index), with a = states (a_t for both cells in training),
// staged GK rows at a time through two shared buffers (the next stage is
// copied asynchronously while the current one is multiplied). Each of
// the (TILE/TPT)^2 threads owns a TPT x TPT block of the tile. The tiles of
// the first tile column (j0 = 0) also accumulate, for their units i,
//
//	dW_ih[i, k] = sum_{t,b} delta[t,b,i] x[t,b,k],   db[i] = sum_{t,b} delta[t,b,i]
//
// and the tiles of the first tile row (i0 = 0), for their units j,
//
//	dW_out[o, j] = c sum_{t,b} dy[t,b,o] a[t,b,j],   db_out[o] = sum_{t,b} dy[t,b,o]
//
// from the rows already staged plus one boundary step each (t = 0 for
// dW_ih, t = T-1 for dW_out), spread over all threads (unit tid % TILE,
// rows tid / TILE modulo NT / TILE) and summed at the end. I, O <= MX.
template <int TILE, int TPT, int MX>
__device__ __forceinline__ void gradWeights(const float* __restrict__ delta, const float* __restrict__ states,
                                            const float* __restrict__ x, int shared, const float* __restrict__ dy,
                                            const float* __restrict__ gamma, float* __restrict__ grad,
                                            int T, int B, int I, int H, int O, int P, int rate) {
    constexpr int NT = (TILE / TPT) * (TILE / TPT);  // threads
    constexpr int NRG = NT / TILE;                    // row groups of the small gradients
    constexpr int PER = GK * TILE / NT;               // staged elements per thread and operand
    constexpr int XPER = (GK * MX + NT - 1) / NT;     // staged x or dy elements per thread
    __shared__ __align__(16) float Ds[2][GK][TILE];
    __shared__ __align__(16) float As[2][GK][TILE];
    __shared__ float Xs[2][GK][MX];
    __shared__ float Ys[2][GK][MX];
    __shared__ float Red[NRG][TILE][2 * MX + 2];
    const int tid = threadIdx.x;
    const GradTile gt = gradTile(TILE, delta, states, x, shared, dy, gamma, T, B, I, H, O, rate);
    const int s = gt.s, i0 = gt.i0, j0 = gt.j0, K = gt.K;
    const bool doIn = gt.doIn, doOut = gt.doOut;
    const float kappa = gt.kappa;
    const float *Dn = gt.Dn, *An = gt.An, *Xn = gt.Xn, *Yn = gt.Yn;
    constexpr int TW = TILE / TPT;                    // threads along a tile side
    const int ti = tid / TW, tj = tid % TW;
    const int col = tid % TILE, rg = tid / TILE;
    float acc[TPT][TPT];
#pragma unroll
    for (int r = 0; r < TPT; r++)
#pragma unroll
        for (int q = 0; q < TPT; q++) acc[r][q] = 0.f;
    float accX[MX], accY[MX], accB = 0.f, accBo = 0.f;
#pragma unroll
    for (int k = 0; k < MX; k++) {
        accX[k] = 0.f;
        accY[k] = 0.f;
    }
    // fetch copies stage k0 into buffer st asynchronously (zeros outside
    // the matrices).
    auto fetch = [&](int k0, int st) {
#pragma unroll
        for (int u = 0; u < PER; u++) {
            const int e = tid + u * NT, kk = e / TILE, cc = e % TILE, k = k0 + kk;
            float* dd = &Ds[st][kk][cc];
            float* ad = &As[st][kk][cc];
            if (k < K && i0 + cc < H) cpAsync4(dd, Dn + (size_t)(B + k) * H + i0 + cc);
            else *dd = 0.f;
            if (k < K && j0 + cc < H) cpAsync4(ad, An + (size_t)k * H + j0 + cc);
            else *ad = 0.f;
        }
#pragma unroll
        for (int u = 0; u < XPER; u++) {
            const int e = tid + u * NT;
            if (doIn && e < GK * I) {
                float* xd = &Xs[st][e / I][e % I];
                if (k0 + e / I < K) cpAsync4(xd, Xn + (size_t)(B + k0) * I + e);
                else *xd = 0.f;
            }
            if (doOut && e < GK * O) {
                float* yd = &Ys[st][e / O][e % O];
                if (k0 + e / O < K) cpAsync4(yd, Yn + (size_t)k0 * O + e);
                else *yd = 0.f;
            }
        }
    };
    int st = 0;
    if (K > 0) {
        fetch(0, 0);
        cpAsyncWait();
    }
    __syncthreads();
    for (int k0 = 0; k0 < K; k0 += GK) {
        const bool more = k0 + GK < K;
        if (more) fetch(k0 + GK, st ^ 1);
#pragma unroll
        for (int kk = 0; kk < GK; kk++) {
            float dv[TPT], av[TPT];
#pragma unroll
            for (int h = 0; h < TPT / 4; h++) {
                float4 d4 = *reinterpret_cast<const float4*>(&Ds[st][kk][h * TILE / 2 + 4 * ti]);
                float4 a4 = *reinterpret_cast<const float4*>(&As[st][kk][h * TILE / 2 + 4 * tj]);
                dv[4 * h] = d4.x; dv[4 * h + 1] = d4.y; dv[4 * h + 2] = d4.z; dv[4 * h + 3] = d4.w;
                av[4 * h] = a4.x; av[4 * h + 1] = a4.y; av[4 * h + 2] = a4.z; av[4 * h + 3] = a4.w;
            }
#pragma unroll
            for (int r = 0; r < TPT; r++)
#pragma unroll
                for (int q = 0; q < TPT; q++) acc[r][q] = fmaf(dv[r], av[q], acc[r][q]);
        }
        if (doIn) {
#pragma unroll
            for (int kk = rg; kk < GK; kk += NRG) {
                float dv = Ds[st][kk][col];
#pragma unroll
                for (int k = 0; k < MX; k++)
                    if (k < I) accX[k] = fmaf(dv, Xs[st][kk][k], accX[k]);
                accB += dv;
            }
        }
        if (doOut) {
#pragma unroll
            for (int kk = rg; kk < GK; kk += NRG) {
                float av = As[st][kk][col];
#pragma unroll
                for (int o = 0; o < MX; o++)
                    if (o < O) accY[o] = fmaf(Ys[st][kk][o], av, accY[o]);
                if (col < O) accBo += Ys[st][kk][col];
            }
        }
        if (more) cpAsyncWait();
        __syncthreads();
        st ^= 1;
    }
    float* g = grad + (size_t)s * P;
#pragma unroll
    for (int r = 0; r < TPT; r++) {
        int i = i0 + (r < 4 ? 4 * ti + r : (r - 4) + TILE / 2 + 4 * ti);
        if (TPT == 4) i = i0 + 4 * ti + r;
        if (i >= H) continue;
#pragma unroll
        for (int q = 0; q < TPT; q++) {
            int j = j0 + (q < 4 ? 4 * tj + q : (q - 4) + TILE / 2 + 4 * tj);
            if (TPT == 4) j = j0 + 4 * tj + q;
            if (j < H) g[i * H + j] = kappa * acc[r][q];
        }
    }
    if (!doIn && !doOut) return;
    finishSmallGradients<TILE, NT, MX>(accX, accY, accB, accBo, &Red[0][0][0], gt, g, T, B, I, H, O, rate, tid);
}

// The weight-gradient kernels: rnn_grad_w4_t128 (I, O <= 4, 128x128 tiles,
// 256 threads of 8x8), rnn_grad_w4_t64 (I, O <= 4, 64x64 tiles, 64 threads
// of 8x8), rnn_grad_w16 (I, O <= 16, 64x64 tiles, 64 threads of 8x8).
extern "C" __global__ void __launch_bounds__(256, 2) rnn_grad_w4_t128(GRAD_PARAMS) {
    gradWeights<128, 8, 4>(GRAD_ARGS);
}
extern "C" __global__ void __launch_bounds__(64) rnn_grad_w4_t64(GRAD_PARAMS) {
    gradWeights<64, 8, 4>(GRAD_ARGS);
}
extern "C" __global__ void __launch_bounds__(64) rnn_grad_w16(GRAD_PARAMS) {
    gradWeights<64, 8, 16>(GRAD_ARGS);
}

// ---- Tensor-core weight gradients (3xTF32): the default where I, O <= 4 (DEGEN_MMA, gpu/plan.go) ----

#define GM_STAGES 4  // shared stages of rnn_grad_mma_*: three in flight while one is multiplied
#define GM_ROWS 32   // rows (trial-steps) per stage
#define GM_PAD 8     // row padding: row stride = 8 mod 32 floats, so that a fragment load hits 32 banks
#ifndef GM_SUM_ROWS
#define GM_SUM_ROWS 32  // rows summed on the tensor cores per float32 add (divides GM_ROWS; 8 and 16 were no better on the H200)
#endif

// gradWeightsMma is gradWeights (same gradients, grid, and small-gradient
// work, I, O <= 4) with the dW_hh products on the tensor cores:
//
//	dW_hh[i0.., j0..] = kappa D^T A   (D: deltas, A: activations, K rows)
//
// in 3xTF32 (mmaGemm3x, D^T read column-major from the staged rows). The 8
// warps are 2 (along i) x 4 (along j); warp (wi, wj) owns rows TILE/2 wi ..
// and columns TILE/4 wj .. of the tile, MT x NT tiles of 16 x 8. Rows are
// staged GM_ROWS at a time through GM_STAGES shared buffers with cp.async
// (16-byte copies when H % 4 == 0), GM_STAGES - 1 of them in flight, so
// that the kernel streams the deltas and states at memory speed with one
// block per SM. Each stage's products are summed on the tensor cores from
// zero and then added to float32 accumulators: the tensor cores' own
// accumulation does not round to nearest, and over the K = (T-1) B rows
// (12,700 for W1) its error grew to 12x the FP32 kernel's when it carried
// the whole sum (the dropped v6 attempt, bench/RESULTS.md); per stage it
// carries 32 rows. Dynamic shared memory (floats): GM_STAGES x (2 GM_ROWS x
// (TILE + GM_PAD) + 2 GM_ROWS x 4), the D, A, x and dy rows of each stage.
template <int TILE>
__device__ __forceinline__ void gradWeightsMma(const float* __restrict__ delta, const float* __restrict__ states,
                                               const float* __restrict__ x, int shared, const float* __restrict__ dy,
                                               const float* __restrict__ gamma, float* __restrict__ grad, int T,
                                               int B, int I, int H, int O, int P, int rate) {
    constexpr int NT = 256, MX = 4, NRG = NT / TILE;  // MX: the x and dy columns of a stage row (16 bytes)
    constexpr int MT = TILE / 32, NTL = TILE / 32;  // a warp's tiles of 16 x 8: (TILE/2) / 16, (TILE/4) / 8
    constexpr int LD = TILE + GM_PAD;
    constexpr int STAGE = 2 * GM_ROWS * LD + 2 * GM_ROWS * MX;  // floats per stage
    DYNAMIC_SHARED(sm);
    if (blockDim.x != NT) __trap();  // the warp tiling covers the block only with 256 threads
    const int tid = threadIdx.x;
    const GradTile gt = gradTile(TILE, delta, states, x, shared, dy, gamma, T, B, I, H, O, rate);
    const int s = gt.s, i0 = gt.i0, j0 = gt.j0, K = gt.K;
    const float kappa = gt.kappa;
    const int stages = (K + GM_ROWS - 1) / GM_ROWS;
    const int col = tid % TILE, rg = tid / TILE;
    const int warp = tid / 32, lane = tid % 32, g = lane / 4, q = lane % 4;
    const int m0 = (warp / 4) * (TILE / 2), n0 = (warp % 4) * (TILE / 4);

    // Stage st: Ds [k][i] and As [k][j] (GM_ROWS x LD), Xs and Ys [k][MX]
    // (x and dy, zero beyond I and O).
    auto Ds = [&](int st) { return sm + st * STAGE; };
    auto As = [&](int st) { return sm + st * STAGE + GM_ROWS * LD; };
    auto Xs = [&](int st) { return sm + st * STAGE + 2 * GM_ROWS * LD; };
    auto Ys = [&](int st) { return sm + st * STAGE + 2 * GM_ROWS * LD + GM_ROWS * MX; };

    // fetch starts the copies of stage number n (rows GM_ROWS n ..) into
    // buffer n % GM_STAGES (an empty group past the last stage).
    auto fetch = [&](int n) {
        const int st = n % GM_STAGES;
        fetchGradRows<TILE, NT, GM_ROWS, MX>(n < stages, n * GM_ROWS, Ds(st), LD, As(st), LD, Xs(st), Ys(st), gt, B, I, H, O,
                                        tid);
    };

    float acc[MT][NTL][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int j = 0; j < NTL; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[mt][j][r] = 0.f;
    float accX[MX], accY[MX], accB = 0.f, accBo = 0.f;
#pragma unroll
    for (int k = 0; k < MX; k++) {
        accX[k] = 0.f;
        accY[k] = 0.f;
    }

#pragma unroll
    for (int n = 0; n < GM_STAGES - 1; n++) fetch(n);
    for (int n = 0; n < stages; n++) {
        const int st = n % GM_STAGES;
        cpAsyncWaitGroup<GM_STAGES - 2>();  // this thread's copies of stage n have landed
        // Every thread's stage n is in place, and every thread is done with
        // stage n - 1, whose buffer the next fetch refills.
        __syncthreads();
        fetch(n + GM_STAGES - 1);
#pragma unroll
        for (int kk0 = 0; kk0 < GM_ROWS; kk0 += GM_SUM_ROWS) {
            float part[MT][NTL][4];
            mmaGemm3x<MT, NTL>(part, Ds(st) + kk0 * LD, 1, LD, As(st) + kk0 * LD, nullptr, LD, GM_SUM_ROWS, m0, n0,
                               g, q);
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int j = 0; j < NTL; j++)
#pragma unroll
                    for (int r = 0; r < 4; r++) acc[mt][j][r] += part[mt][j][r];
        }
        addSmallGradients<GM_ROWS, NRG, MX>(Ds(st), LD, As(st), LD, Xs(st), Ys(st), gt, O, col, rg, accX, accY, accB, accBo);
    }
    cpAsyncWaitGroup<0>();  // the empty groups past the last stage
    float* gr = grad + (size_t)s * P;
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int j = 0; j < NTL; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int i = i0 + m0 + 16 * mt + g + 8 * (r / 2), jj = j0 + n0 + 8 * j + 2 * q + r % 2;
                if (i < H && jj < H) gr[i * H + jj] = kappa * acc[mt][j][r];
            }
    if (!gt.doIn && !gt.doOut) return;
    __syncthreads();  // every thread is done with the stages: red reuses them
    finishSmallGradients<TILE, NT, MX>(accX, accY, accB, accBo, sm, gt, gr, T, B, I, H, O, rate, tid);
}

// rnn_grad_mma_t128 (H > 64) and rnn_grad_mma_t64: gradWeightsMma with
// 128 x 128 and 64 x 64 tiles of dW_hh, 256 threads.
extern "C" __global__ void __launch_bounds__(256, 1) rnn_grad_mma_t128(GRAD_PARAMS) { gradWeightsMma<128>(GRAD_ARGS); }
extern "C" __global__ void __launch_bounds__(256) rnn_grad_mma_t64(GRAD_PARAMS) { gradWeightsMma<64>(GRAD_ARGS); }

// rnn_adam finishes the step of network blockIdx.x. First the regularisers are
// added to the loss gradient in grad (S, P) (=, in place):
//
//	g += l1_s sign(w) on W_hh, W_ih, W_out;  g[W_hh] += nuc_s polar_s
//
// where polar (S, H, H) = U V^T of W_hh's SVD (the nuclear norm's gradient;
// may be 0 when every nuc_s is 0). With update = 0 the kernel stops there
// (Backend.Gradients). Otherwise networks with active[s] != 0 take one
// PyTorch Adam step with their own step count steps[s] (+1), after clipping
// g to L2 norm clip when clip > 0 and |g| > clip (g *= clip / |g|, as the CPU
// backend does: torch's clip_grad_norm_ without its 1e-6 guard):
//
//	m = m + (1-b1) (g - m);  v = b2 v + (1-b2) g^2
//	w -= (lr_s / (1 - b1^k)) m / (sqrt(v) / sqrt(1 - b2^k) + eps)
//
// Inactive networks are left bit-for-bit unchanged.
extern "C" __global__ void __launch_bounds__(256)
rnn_adam(float* __restrict__ params, float* __restrict__ grad, float* __restrict__ m, float* __restrict__ v,
         int* __restrict__ steps, const float* __restrict__ lr, const float* __restrict__ l1,
         const float* __restrict__ nuc, const float* __restrict__ polar, const int* __restrict__ active,
         float clip, int update, int H, int I, int O, int P, float beta1, float beta2, float eps) {
    __shared__ float red[32];
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const Lay L = layout(H, I, O);
    float* w = params + (size_t)s * P;
    float* g = grad + (size_t)s * P;
    const float lam1 = l1[s], lamN = nuc[s];
    float ss = 0.f;
    for (int e = tid; e < P; e += nt) {
        float gv = g[e];
        bool weight = e < L.bh || (e >= L.wout && e < L.bout);
        if (weight && lam1 != 0.f) {
            float wv = w[e];
            gv += lam1 * (float)((wv > 0.f) - (wv < 0.f));
        }
        if (e < H * H && lamN != 0.f && polar) gv += lamN * polar[(size_t)s * H * H + e];
        g[e] = gv;
        ss = fmaf(gv, gv, ss);
    }
    if (!update) return;
    if (active && !active[s]) return;
    // Every thread reads the step count before the barrier in blockSum, so
    // none can read it after thread 0 has written k below.
    const int k = steps[s] + 1;
    ss = blockSum(ss, red);
    const float norm = sqrtf(ss);
    const float scale = (clip > 0.f && norm > clip) ? clip / norm : 1.f;
    const float bc1 = 1.f - powf(beta1, (float)k);
    const float bc2 = 1.f - powf(beta2, (float)k);
    const float stepSize = lr[s] / bc1;
    const float bc2s = sqrtf(bc2);
    float* ms = m + (size_t)s * P;
    float* vs = v + (size_t)s * P;
    for (int e = tid; e < P; e += nt) {
        float gv = g[e] * scale;
        float mv = ms[e] + (1.f - beta1) * (gv - ms[e]);  // PyTorch's lerp
        float vv = beta2 * vs[e] + (1.f - beta2) * gv * gv;
        ms[e] = mv;
        vs[e] = vv;
        w[e] -= stepSize * mv / (sqrtf(vv) / bc2s + eps);
    }
    if (tid == 0) steps[s] = k;
}

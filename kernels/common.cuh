// common.cuh holds what rnn.cu and hopper.cu (two translation units, two
// PTX modules) both use: the parameter layout, the TF32 split of 3xTF32,
// and the weight-gradient kernels' parameters, tiling and small gradients.
#pragma once

#include "compat.cuh"

// Offsets within one network's parameter vector (degen.Layout).
struct Lay {
    int wih, bh, wout, bout;
};

__device__ __forceinline__ Lay layout(int H, int I, int O) {
    Lay l;
    l.wih = H * H;
    l.bh = l.wih + H * I;
    l.wout = l.bh + H;
    l.bout = l.wout + O * H;
    return l;
}

// ForwardNet is what a forward block of network s reads besides the
// weights: its parameters p, the x, y and mask of its batch slot (slot 0
// for all when shared), and the cell's readout scale c (1, or 1 / (gamma_s
// H) for the rate cell) and recurrent scale kappa (1, or 1 / H).
struct ForwardNet {
    const float *p, *xs, *ys, *ms;
    float c, kappa;
};

__device__ __forceinline__ ForwardNet forwardNet(const float* params, const float* x, const float* y,
                                                 const float* mask, int shared, const float* gamma, int s, int T,
                                                 int B, int I, int H, int O, int P, bool rate) {
    ForwardNet f;
    f.p = params + (size_t)s * P;
    const int n = shared ? 0 : s;
    f.xs = x + (size_t)n * T * B * I;
    f.ys = y + (size_t)n * T * B * O;
    f.ms = mask + (size_t)n * T * B * O;
    f.c = rate ? 1.f / (gamma[s] * (float)H) : 1.f;
    f.kappa = rate ? 1.f / (float)H : 1.f;
    return f;
}

// tf32Split writes x's TF32 part (big) and the TF32 part of the rest (small):
// big + small equals x to about 2^-22 of |x|, so that the three products
// big*big + big*small + small*big of two split numbers carry float32's
// accuracy ("3xTF32"; small*small, about 2^-22 of the product, is dropped).
__device__ __forceinline__ void tf32Split(float x, unsigned& big, unsigned& small) {
    big = toTF32(x);
    small = toTF32(x - __uint_as_float(big));
}

// The weight-gradient kernels' parameters (rnn.cu, hopper.cu).
#define GRAD_PARAMS                                                                                        \
    const float *__restrict__ delta, const float *__restrict__ states, const float *__restrict__ x,           \
        int shared, const float *__restrict__ dy, const float *__restrict__ gamma, float *__restrict__ grad, \
        int T, int B, int I, int H, int O, int P, int rate
#define GRAD_ARGS delta, states, x, shared, dy, gamma, grad, T, B, I, H, O, P, rate

// blockSum returns the sum of v over the block (every thread gets it).
// red must hold 32 floats; blockDim.x is a multiple of 32.
__device__ float blockSum(float v, float* red) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    int w = threadIdx.x >> 5, l = threadIdx.x & 31, nw = blockDim.x >> 5;
    __syncthreads();
    if (l == 0) red[w] = v;
    __syncthreads();
    float s = 0.f;
    for (int i = 0; i < nw; i++) s += red[i];
    __syncthreads();
    return s;
}

// The forward kernels' parameters (rnn.cu: rnn_forward; hopper.cu: rnn_forward_wgmma).
#define FWD_PARAMS                                                                                       \
    const float *__restrict__ params, const float *__restrict__ x, const float *__restrict__ y,             \
        const float *__restrict__ mask, int shared, float *__restrict__ states, float *__restrict__ yout,    \
        float *__restrict__ dy, float *__restrict__ loss, const float *__restrict__ gamma, int T, int B,     \
        int I, int H, int O, int P, int Bc, int rate, float tau
#define FWD_ARGS params, x, y, mask, shared, states, yout, dy, loss, gamma, T, B, I, H, O, P, Bc, rate, tau

// The backward kernels' parameters (rnn.cu: rnn_backward; hopper.cu: rnn_backward_wgmma).
#define BWD_PARAMS                                                                                       \
    const float *__restrict__ params, const float *__restrict__ states, const float *__restrict__ dy,       \
        float *__restrict__ delta, const float *__restrict__ gamma, int T, int B, int I, int H, int O,       \
        int P, int Bc, int rate, float tau
#define BWD_ARGS params, states, dy, delta, gamma, T, B, I, H, O, P, Bc, rate, tau

// GradTile is what a weight-gradient block (gradWeights, gradWeightsMma)
// works on: network s = blockIdx.y, the TILE x TILE tile blockIdx.x of
// dW_hh from row i0 and column j0, whether it also does the input (first
// tile column) and output (first tile row) gradients, the cell's kappa and
// c, and the network's deltas, states (rows r = t B + b), x and dy; K =
// (T-1) B rows pair delta_t with a_{t-1}.
struct GradTile {
    int s, i0, j0, K;
    bool doIn, doOut;
    float kappa, c;
    Lay L;
    const float *Dn, *An, *Xn, *Yn;
};

__device__ __forceinline__ GradTile gradTile(int TILE, const float* delta, const float* states, const float* x,
                                             int shared, const float* dy, const float* gamma, int T, int B, int I,
                                             int H, int O, int rate) {
    GradTile t;
    t.s = blockIdx.y;
    const int tilesJ = (H + TILE - 1) / TILE;
    t.i0 = (blockIdx.x / tilesJ) * TILE;
    t.j0 = (blockIdx.x % tilesJ) * TILE;
    t.K = (T - 1) * B;
    t.doIn = t.j0 == 0;
    t.doOut = t.i0 == 0;
    t.kappa = rate ? 1.f / (float)H : 1.f;
    t.c = rate ? 1.f / (gamma[t.s] * (float)H) : 1.f;
    t.L = layout(H, I, O);
    t.Dn = delta + (size_t)t.s * T * B * H;
    t.An = states + (size_t)t.s * T * B * H;
    t.Xn = x + (size_t)(shared ? 0 : t.s) * T * B * I;
    t.Yn = dy + (size_t)t.s * T * B * O;
    return t;
}

// finishSmallGradients completes what gradWeights and gradWeightsMma
// accumulate for dW_ih, db (tiles with doIn) and dW_out, db_out (doOut)
// over the staged rows: it adds the boundary step (t = 0 for dW_ih and db,
// t = T-1 for dW_out and db_out), sums the NT / TILE row groups through red
// (NT / TILE x TILE x (2 MX + 2) floats of shared memory) and writes the
// gradients of the tile's units (unit tid % TILE, row group tid / TILE).
template <int TILE, int NT, int MX>
__device__ __forceinline__ void finishSmallGradients(float accX[MX], float accY[MX], float accB, float accBo,
                                                     float* red, const GradTile& gt, float* g, int T, int B, int I,
                                                     int H, int O, int rate, int tid) {
    constexpr int NRG = NT / TILE, RW = 2 * MX + 2;
    const bool doIn = gt.doIn, doOut = gt.doOut;
    const int i0 = gt.i0, j0 = gt.j0;
    const float *Dn = gt.Dn, *An = gt.An, *Xn = gt.Xn, *Yn = gt.Yn;
    const Lay L = gt.L;
    const int col = tid % TILE, rg = tid / TILE;
    const size_t rl = (size_t)(T - 1) * B;
    for (int b = rg; b < B; b += NRG) {
        if (doIn && i0 + col < H) {
            float dv = Dn[(size_t)b * H + i0 + col];
#pragma unroll
            for (int k = 0; k < MX; k++)
                if (k < I) accX[k] = fmaf(dv, Xn[(size_t)b * I + k], accX[k]);
            accB += dv;
        }
        if (doOut) {
            float av = 0.f;
            if (j0 + col < H) av = An[(rl + b) * H + j0 + col];  // a_t (states in training)
#pragma unroll
            for (int o = 0; o < MX; o++)
                if (o < O) accY[o] = fmaf(Yn[(rl + b) * O + o], av, accY[o]);
            if (col < O) accBo += Yn[(rl + b) * O + col];
        }
    }
    // Sum the row groups.
    float* mine = red + (rg * TILE + col) * RW;
#pragma unroll
    for (int k = 0; k < MX; k++) {
        mine[k] = accX[k];
        mine[MX + k] = accY[k];
    }
    mine[2 * MX] = accB;
    mine[2 * MX + 1] = accBo;
    __syncthreads();
    if (rg != 0) return;
    float sx[MX], sy[MX], sb = 0.f, sbo = 0.f;
#pragma unroll
    for (int k = 0; k < MX; k++) {
        sx[k] = 0.f;
        sy[k] = 0.f;
    }
#pragma unroll
    for (int q = 0; q < NRG; q++) {
        const float* part = red + (q * TILE + col) * RW;
#pragma unroll
        for (int k = 0; k < MX; k++) {
            sx[k] += part[k];
            sy[k] += part[MX + k];
        }
        sb += part[2 * MX];
        sbo += part[2 * MX + 1];
    }
    if (doIn && i0 + col < H) {
        const int i = i0 + col;
#pragma unroll
        for (int k = 0; k < MX; k++)
            if (k < I) g[L.wih + i * I + k] = sx[k];
        g[L.bh + i] = sb;
    }
    if (doOut && j0 + col < H) {
        const int j = j0 + col;
#pragma unroll
        for (int o = 0; o < MX; o++)
            if (o < O) g[L.wout + o * H + j] = gt.c * sy[o];
    }
    if (doOut && j0 == 0 && col < O) g[L.bout + col] = sbo;
}

// fetchGradRows starts the asynchronous copies of ROWS rows, from row k0,
// of what a tensor-core weight-gradient block (gradWeightsMma,
// gradWeightsWgmma) multiplies: the tile's deltas into dd (row stride ldd)
// and activations into ad (lda), and x and dy (MX per row) into xd and yd
// where the tile does the small gradients. It commits them as one group,
// empty when copy is false (past the last stage, so that every thread
// counts groups alike). Rows and columns outside the matrices are written
// as zeros. 16-byte copies when H % 4 == 0.
template <int TILE, int NT, int ROWS, int MX>
__device__ __forceinline__ void fetchGradRows(bool copy, int k0, float* dd, int ldd, float* ad, int lda, float* xd,
                                              float* yd, const GradTile& gt, int B, int I, int H, int O, int tid) {
    constexpr int VEC = ROWS * TILE / 4 / NT;  // 16-byte copies per thread and operand
    const int K = gt.K, i0 = gt.i0, j0 = gt.j0;
    const float *Dn = gt.Dn, *An = gt.An, *Xn = gt.Xn, *Yn = gt.Yn;
    if (copy) {
        if ((H & 3) == 0) {
#pragma unroll
            for (int u = 0; u < VEC; u++) {
                const int e = tid + u * NT, kk = e / (TILE / 4), cc = 4 * (e % (TILE / 4)), k = k0 + kk;
                float* dv = dd + kk * ldd + cc;
                float* av = ad + kk * lda + cc;
                if (k < K && i0 + cc < H) cpAsync16(dv, Dn + (size_t)(B + k) * H + i0 + cc);
                else dv[0] = dv[1] = dv[2] = dv[3] = 0.f;
                if (k < K && j0 + cc < H) cpAsync16(av, An + (size_t)k * H + j0 + cc);
                else av[0] = av[1] = av[2] = av[3] = 0.f;
            }
        } else {
            for (int e = tid; e < ROWS * TILE; e += NT) {
                const int kk = e / TILE, cc = e % TILE, k = k0 + kk;
                float* dv = dd + kk * ldd + cc;
                float* av = ad + kk * lda + cc;
                if (k < K && i0 + cc < H) cpAsync4(dv, Dn + (size_t)(B + k) * H + i0 + cc);
                else *dv = 0.f;
                if (k < K && j0 + cc < H) cpAsync4(av, An + (size_t)k * H + j0 + cc);
                else *av = 0.f;
            }
        }
        for (int e = tid; e < ROWS * MX; e += NT) {
            const int kk = e / MX, k = k0 + kk;
            if (gt.doIn) {
                if (k < K && e % MX < I) cpAsync4(xd + e, Xn + (size_t)(B + k) * I + e % MX);
                else xd[e] = 0.f;
            }
            if (gt.doOut) {
                if (k < K && e % MX < O) cpAsync4(yd + e, Yn + (size_t)k * O + e % MX);
                else yd[e] = 0.f;
            }
        }
    }
    cpAsyncCommit();
}

// addSmallGradients adds ROWS staged rows (fetchGradRows) to the thread's
// small-gradient sums, for unit col and rows rg, rg + NRG, ...: dW_ih and db
// (tiles with doIn) and dW_out and db_out (doOut); finishSmallGradients
// completes them.
template <int ROWS, int NRG, int MX>
__device__ __forceinline__ void addSmallGradients(const float* dd, int ldd, const float* ad, int lda, const float* xs,
                                                  const float* ys, const GradTile& gt, int O, int col, int rg,
                                                  float accX[MX], float accY[MX], float& accB, float& accBo) {
    if (gt.doIn) {
#pragma unroll
        for (int kk = rg; kk < ROWS; kk += NRG) {
            const float dv = dd[kk * ldd + col];
            const float4 xv = *reinterpret_cast<const float4*>(xs + kk * MX);  // the same row for the warp: broadcast
            accX[0] = fmaf(dv, xv.x, accX[0]);
            accX[1] = fmaf(dv, xv.y, accX[1]);
            accX[2] = fmaf(dv, xv.z, accX[2]);
            accX[3] = fmaf(dv, xv.w, accX[3]);
            accB += dv;
        }
    }
    if (gt.doOut) {
#pragma unroll
        for (int kk = rg; kk < ROWS; kk += NRG) {
            const float av = ad[kk * lda + col];
            const float4 yv = *reinterpret_cast<const float4*>(ys + kk * MX);
            accY[0] = fmaf(yv.x, av, accY[0]);
            accY[1] = fmaf(yv.y, av, accY[1]);
            accY[2] = fmaf(yv.z, av, accY[2]);
            accY[3] = fmaf(yv.w, av, accY[3]);
            if (col < O) accBo += ys[kk * MX + col];
        }
    }
}

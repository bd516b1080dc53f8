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
// Every gradient buffer is written (=), never accumulated across launches.
// Launches of one step: rnn_forward (grid S), rnn_backward (grid S),
// rnn_grad_whh (grid tiles x S), rnn_adam (grid S).

#define NT_MAX 256   // threads per block of the sequence kernels (at most)
#define R 8          // register tile: each thread owns an 8x8 block of (trials, units)

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

// tileGemm computes acc[r][c] = sum_{k<K} A[k*lda + row(r)] * Bm[k*ldb + col(c)]
// for the thread's 8x8 tile: rows {4tb..4tb+3} and {half_r + 4tb..}, columns
// {4tc..4tc+3} and {half_c + 4tc..}, so that the 16-byte shared loads of a
// quarter warp are contiguous.
__device__ __forceinline__ void tileGemm(float acc[R][R], const float* A, int lda, int rb0, int rb1,
                                         const float* Bm, int ldb, int cb0, int cb1, int K) {
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int c = 0; c < R; c++) acc[r][c] = 0.f;
#pragma unroll 4
    for (int k = 0; k < K; k++) {
        float4 a0 = *reinterpret_cast<const float4*>(A + k * lda + rb0);
        float4 a1 = *reinterpret_cast<const float4*>(A + k * lda + rb1);
        float4 b0 = *reinterpret_cast<const float4*>(Bm + k * ldb + cb0);
        float4 b1 = *reinterpret_cast<const float4*>(Bm + k * ldb + cb1);
        float a[R] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
        float b[R] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
        for (int r = 0; r < R; r++)
#pragma unroll
            for (int c = 0; c < R; c++) acc[r][c] = fmaf(a[r], b[c], acc[r][c]);
    }
}

__device__ __forceinline__ int tileIdx(int q, int half, int u) {
    // u in [0, 8): the u-th row (or column) of tile q.
    return (u < 4) ? 4 * q + u : half + 4 * q + (u - 4);
}

// rnn_forward runs network blockIdx.x over all T steps for its B trials, in
// chunks of Bc trials, and writes
//
//	states (S, T, B, H)  h_t                          (=)
//	yout   (S, T, B, O)  y_t, when yout != 0           (=)
//	dy     (S, T, B, O)  dL/dy_t = 2 M (y - Y) / sum M, when dy != 0 (=)
//	loss   (S)           masked MSE                    (=)
//	grad   (S, P)        W_out and b_out gradients, when dy != 0 (=)
//
// x (N,T,B,I), y (N,T,B,O), mask (N,T,B,O) with xsN = 0 when N = 1.
// Shared memory (floats): WT H*Hp, A0 and A1 H*Bp each, rate only Hs H*Bp,
// then W_ih H*I, b H, W_out O*H, b_out O, x_t Bp*I, dy_t Bp*O, acc O*H+O, red 32.
extern "C" __global__ void __launch_bounds__(NT_MAX)
rnn_forward(const float* __restrict__ params, const float* __restrict__ x, const float* __restrict__ y,
            const float* __restrict__ mask, int shared, float* __restrict__ states,
            float* __restrict__ yout, float* __restrict__ dy, float* __restrict__ loss,
            float* __restrict__ grad, const float* __restrict__ gamma, int T, int B, int I, int H, int O,
            int P, int Bc, int rate, float tau) {
    extern __shared__ __align__(16) float sm[];
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const int Hp = (H + 7) & ~7, Bp = (Bc + 7) & ~7;
    const Lay L = layout(H, I, O);
    const float* p = params + (size_t)s * P;
    const int n = shared ? 0 : s;
    const float* xs = x + (size_t)n * T * B * I;
    const float* ys = y + (size_t)n * T * B * O;
    const float* ms = mask + (size_t)n * T * B * O;
    const float c = rate ? 1.f / (gamma[s] * (float)H) : 1.f;
    const float kappa = rate ? 1.f / (float)H : 1.f;

    float* WT = sm;                   // [k][i], k < H, i < Hp: W_hh[i,k]
    float* A0 = WT + H * Hp;          // [k][b], k < H, b < Bp
    float* A1 = A0 + H * Bp;
    float* Hs = A1 + H * Bp;          // rate: h [i][b]
    float* Wih = Hs + (rate ? H * Bp : 0);
    float* bh = Wih + H * I;
    float* Wo = bh + H;
    float* bo = Wo + O * H;
    float* xt = bo + O;               // [b][k]
    float* dyt = xt + Bp * I;         // [b][o]
    float* acc = dyt + Bp * O;        // dW_out (O,H) then db_out (O)
    float* red = acc + O * H + O;

    for (int e = tid; e < H * Hp; e += nt) {
        int k = e / Hp, i = e % Hp;
        WT[e] = (i < H) ? p[i * H + k] : 0.f;
    }
    for (int e = tid; e < H * I; e += nt) Wih[e] = p[L.wih + e];
    for (int e = tid; e < H; e += nt) bh[e] = p[L.bh + e];
    for (int e = tid; e < O * H; e += nt) Wo[e] = p[L.wout + e];
    for (int e = tid; e < O; e += nt) bo[e] = p[L.bout + e];
    for (int e = tid; e < O * H + O; e += nt) acc[e] = 0.f;

    // sum M over the network's slot.
    float msum = 0.f;
    for (int e = tid; e < T * B * O; e += nt) msum += ms[e];
    msum = blockSum(msum, red);
    const float dscale = msum > 0.f ? 2.f / msum : 0.f;

    const int tilesC = Hp / R, tiles = (Bp / R) * tilesC;
    float lsum = 0.f;
    const int nw = nt >> 5, warp = tid >> 5, lane = tid & 31;

    for (int b0 = 0; b0 < B; b0 += Bc) {
        const int nb = min(Bc, B - b0);
        for (int e = tid; e < H * Bp; e += nt) {
            A0[e] = 0.f;
            if (rate) Hs[e] = 0.f;
        }
        __syncthreads();
        float* Acur = A0;
        float* Anext = A1;
        for (int t = 0; t < T; t++) {
            for (int e = tid; e < Bp * I; e += nt) {
                int b = e / I;
                xt[e] = (b < nb) ? xs[((size_t)t * B + b0 + b) * I + e % I] : 0.f;
            }
            __syncthreads();
            for (int q = tid; q < tiles; q += nt) {
                int qb = q / tilesC, qc = q % tilesC;
                float accu[R][R];
                tileGemm(accu, Acur, Bp, 4 * qb, Bp / 2 + 4 * qb, WT, Hp, 4 * qc, Hp / 2 + 4 * qc, H);
#pragma unroll
                for (int r = 0; r < R; r++) {
                    int b = tileIdx(qb, Bp / 2, r);
#pragma unroll
                    for (int cc = 0; cc < R; cc++) {
                        int i = tileIdx(qc, Hp / 2, cc);
                        if (i >= H) continue;
                        float pre = bh[i];
                        for (int k = 0; k < I; k++) pre = fmaf(Wih[i * I + k], xt[b * I + k], pre);
                        float hn, an;
                        if (rate) {
                            float hold = Hs[i * Bp + b];
                            hn = (1.f - tau) * hold + tau * (kappa * accu[r][cc] + pre);
                            Hs[i * Bp + b] = hn;
                            an = tanhf(hn);
                        } else {
                            hn = tanhf(accu[r][cc] + pre);
                            an = hn;
                        }
                        if (b < nb) {
                            Anext[i * Bp + b] = an;
                            states[(((size_t)s * T + t) * B + b0 + b) * H + i] = hn;
                        } else {
                            Anext[i * Bp + b] = 0.f;
                        }
                    }
                }
            }
            __syncthreads();
            // Readout, loss and dL/dy for (b, o).
            for (int e = tid; e < nb * O; e += nt) {
                int b = e / O, o = e % O;
                float v = 0.f;
                for (int i = 0; i < H; i++) v = fmaf(Wo[o * H + i], Anext[i * Bp + b], v);
                v = c * v + bo[o];
                size_t gi = ((size_t)t * B + b0 + b) * O + o;
                float m = ms[gi], d = v - ys[gi];
                lsum += m * d * d;
                float g = dscale * m * d;
                dyt[e] = g;
                size_t oi = (((size_t)s * T + t) * B + b0 + b) * O + o;
                if (yout) yout[oi] = v;
                if (dy) dy[oi] = g;
            }
            if (dy) {
                __syncthreads();
                // dW_out[o, i] += c sum_b dy[b, o] a[i][b]: one warp per unit i, lanes over b.
                for (int i = warp; i < H; i += nw) {
                    for (int o = 0; o < O; o++) {
                        float v = 0.f;
                        for (int b = lane; b < nb; b += 32) v = fmaf(dyt[b * O + o], Anext[i * Bp + b], v);
                        for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffff, v, off);
                        if (lane == 0) acc[o * H + i] += c * v;
                    }
                }
                if (warp == 0) {
                    for (int o = 0; o < O; o++) {
                        float v = 0.f;
                        for (int b = lane; b < nb; b += 32) v += dyt[b * O + o];
                        for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffff, v, off);
                        if (lane == 0) acc[O * H + o] += v;
                    }
                }
            }
            __syncthreads();
            float* tmp = Acur;
            Acur = Anext;
            Anext = tmp;
        }
    }
    lsum = blockSum(lsum, red);
    if (tid == 0) loss[s] = msum > 0.f ? lsum / msum : 0.f;
    if (dy) {
        float* g = grad + (size_t)s * P;
        for (int e = tid; e < O * H + O; e += nt) g[L.wout + e] = acc[e];
    }
}

// rnn_backward runs network blockIdx.x backward through time and writes
//
//	delta (S, T, B, H)  delta_t                                  (=)
//	grad  (S, P)        W_ih and b gradients                      (=)
//
// from states (S,T,B,H) and dy (S,T,B,O) of rnn_forward. Shared memory
// (floats): W H*Hp ([j][i] = W_hh[j,i]), D0 and D1 H*Bp each, rate only Q H*Bp,
// then W_out O*H, x_t Bp*I, dy_t Bp*O, acc H*I+H.
extern "C" __global__ void __launch_bounds__(NT_MAX)
rnn_backward(const float* __restrict__ params, const float* __restrict__ x, int shared,
             const float* __restrict__ states, const float* __restrict__ dy, float* __restrict__ delta,
             float* __restrict__ grad, const float* __restrict__ gamma, int T, int B, int I, int H, int O,
             int P, int Bc, int rate, float tau) {
    extern __shared__ __align__(16) float sm[];
    const int s = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const int Hp = (H + 7) & ~7, Bp = (Bc + 7) & ~7;
    const Lay L = layout(H, I, O);
    const float* p = params + (size_t)s * P;
    const int n = shared ? 0 : s;
    const float* xs = x + (size_t)n * T * B * I;
    const float c = rate ? 1.f / (gamma[s] * (float)H) : 1.f;
    const float kappa = rate ? 1.f / (float)H : 1.f;

    float* W = sm;               // [j][i] = W_hh[j, i]
    float* D0 = W + H * Hp;      // [j][b]
    float* D1 = D0 + H * Bp;
    float* Q = D1 + H * Bp;      // rate: q [i][b]
    float* Wo = Q + (rate ? H * Bp : 0);
    float* xt = Wo + O * H;      // [b][k]
    float* dyt = xt + Bp * I;    // [b][o]
    float* acc = dyt + Bp * O;   // dW_ih (H,I) then db (H)

    for (int e = tid; e < H * Hp; e += nt) {
        int j = e / Hp, i = e % Hp;
        W[e] = (i < H) ? p[j * H + i] : 0.f;
    }
    for (int e = tid; e < O * H; e += nt) Wo[e] = p[L.wout + e];
    for (int e = tid; e < H * I + H; e += nt) acc[e] = 0.f;

    const int tilesC = Hp / R, tiles = (Bp / R) * tilesC;
    const int nw = nt >> 5, warp = tid >> 5, lane = tid & 31;

    for (int b0 = 0; b0 < B; b0 += Bc) {
        const int nb = min(Bc, B - b0);
        for (int e = tid; e < H * Bp; e += nt) {
            D0[e] = 0.f;
            if (rate) Q[e] = 0.f;
        }
        __syncthreads();
        float* Dnext = D0;  // delta_{t+1}
        float* Dcur = D1;   // delta_t
        for (int t = T - 1; t >= 0; t--) {
            for (int e = tid; e < Bp * I; e += nt) {
                int b = e / I;
                xt[e] = (b < nb) ? xs[((size_t)t * B + b0 + b) * I + e % I] : 0.f;
            }
            for (int e = tid; e < Bp * O; e += nt) {
                int b = e / O;
                dyt[e] = (b < nb) ? dy[(((size_t)s * T + t) * B + b0 + b) * O + e % O] : 0.f;
            }
            __syncthreads();
            for (int q = tid; q < tiles; q += nt) {
                int qb = q / tilesC, qc = q % tilesC;
                float accu[R][R];
                tileGemm(accu, Dnext, Bp, 4 * qb, Bp / 2 + 4 * qb, W, Hp, 4 * qc, Hp / 2 + 4 * qc, H);
#pragma unroll
                for (int r = 0; r < R; r++) {
                    int b = tileIdx(qb, Bp / 2, r);
#pragma unroll
                    for (int cc = 0; cc < R; cc++) {
                        int i = tileIdx(qc, Hp / 2, cc);
                        if (i >= H) continue;
                        float d = 0.f;
                        if (b < nb) {
                            float e = kappa * accu[r][cc];
                            float ro = 0.f;
                            for (int o = 0; o < O; o++) ro = fmaf(Wo[o * H + i], dyt[b * O + o], ro);
                            e = fmaf(c, ro, e);
                            float h = states[(((size_t)s * T + t) * B + b0 + b) * H + i];
                            if (rate) {
                                float a = tanhf(h);
                                float qv = (1.f - tau) * Q[i * Bp + b] + (1.f - a * a) * e;
                                Q[i * Bp + b] = qv;
                                d = tau * qv;
                            } else {
                                d = e * (1.f - h * h);
                            }
                            delta[(((size_t)s * T + t) * B + b0 + b) * H + i] = d;
                        }
                        Dcur[i * Bp + b] = d;
                    }
                }
            }
            __syncthreads();
            // dW_ih[i, k] += sum_b delta[i][b] x[b][k]; db[i] += sum_b delta[i][b].
            for (int i = warp; i < H; i += nw) {
                for (int k = 0; k <= I; k++) {
                    float v = 0.f;
                    if (k < I) {
                        for (int b = lane; b < nb; b += 32) v = fmaf(Dcur[i * Bp + b], xt[b * I + k], v);
                    } else {
                        for (int b = lane; b < nb; b += 32) v += Dcur[i * Bp + b];
                    }
                    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffff, v, off);
                    if (lane == 0) {
                        if (k < I) acc[i * I + k] += v;
                        else acc[H * I + i] += v;
                    }
                }
            }
            __syncthreads();
            float* tmp = Dnext;
            Dnext = Dcur;
            Dcur = tmp;
        }
    }
    float* g = grad + (size_t)s * P;
    for (int e = tid; e < H * I + H; e += nt) g[L.wih + e] = acc[e];
}

#define GT 64   // output tile of rnn_grad_whh
#define GK 16   // rows per shared stage

// rnn_grad_whh writes grad[s, W_hh] (=) for network blockIdx.y and the 64x64
// output tile blockIdx.x:
//
//	dW_hh[i, j] = kappa sum_{t=1}^{T-1} sum_b delta[s,t,b,i] a[s,t-1,b,j],
//
// with a = states (vanilla) or tanh(states) (rate). It is a GEMM with
// K = (T-1) B rows, both operands row-major along the hidden index. 256 threads,
// each a 4x4 block of the tile.
extern "C" __global__ void __launch_bounds__(256)
rnn_grad_whh(const float* __restrict__ delta, const float* __restrict__ states, float* __restrict__ grad,
             int T, int B, int H, int P, int rate) {
    __shared__ __align__(16) float Ds[GK][GT];
    __shared__ __align__(16) float As[GK][GT];
    const int s = blockIdx.y, tid = threadIdx.x;
    const int tilesJ = (H + GT - 1) / GT;
    const int i0 = (blockIdx.x / tilesJ) * GT, j0 = (blockIdx.x % tilesJ) * GT;
    const float kappa = rate ? 1.f / (float)H : 1.f;
    const float* D = delta + ((size_t)s * T + 1) * B * H;   // rows (t, b), t >= 1
    const float* A = states + (size_t)s * T * B * H;        // rows (t-1, b)
    const int K = (T - 1) * B;
    const int ti = tid / 16, tj = tid % 16;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < K; k0 += GK) {
        for (int e = tid; e < GK * GT; e += 256) {
            int kk = e / GT, c = e % GT;
            int k = k0 + kk;
            float dv = 0.f, av = 0.f;
            if (k < K) {
                if (i0 + c < H) dv = D[(size_t)k * H + i0 + c];
                if (j0 + c < H) {
                    av = A[(size_t)k * H + j0 + c];
                    if (rate) av = tanhf(av);
                }
            }
            Ds[kk][c] = dv;
            As[kk][c] = av;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < GK; kk++) {
            float4 d4 = *reinterpret_cast<const float4*>(&Ds[kk][4 * ti]);
            float4 a4 = *reinterpret_cast<const float4*>(&As[kk][4 * tj]);
            float dv[4] = {d4.x, d4.y, d4.z, d4.w};
            float av[4] = {a4.x, a4.y, a4.z, a4.w};
#pragma unroll
            for (int r = 0; r < 4; r++)
#pragma unroll
                for (int q = 0; q < 4; q++) acc[r][q] = fmaf(dv[r], av[q], acc[r][q]);
        }
        __syncthreads();
    }
    float* g = grad + (size_t)s * P;
#pragma unroll
    for (int r = 0; r < 4; r++) {
        int i = i0 + 4 * ti + r;
        if (i >= H) continue;
#pragma unroll
        for (int q = 0; q < 4; q++) {
            int j = j0 + 4 * tj + q;
            if (j < H) g[i * H + j] = kappa * acc[r][q];
        }
    }
}

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
    ss = blockSum(ss, red);
    const float norm = sqrtf(ss);
    const float scale = (clip > 0.f && norm > clip) ? clip / norm : 1.f;
    const int k = steps[s] + 1;
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

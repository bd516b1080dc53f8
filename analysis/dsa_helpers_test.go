package analysis

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// randomRNNTrajectories returns the hidden states of N random tanh networks
// of H units, (K, T, H) each, driven by the same I-channel Gaussian inputs:
// h_t = tanh(W h_{t-1} + U x_t), h_{-1} = 0, with W ~ N(0, g^2/H),
// g ~ U[0.8, 1.6] and U ~ N(0, 1), as reference/make_metric_cases.py makes
// its trajectories.
func randomRNNTrajectories(N, K, T, H, I int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 17))
	x := make([]float64, K*T*I)
	for i := range x {
		x[i] = 0.5 * rng.NormFloat64()
	}
	out := make([][]float64, N)
	for s := 0; s < N; s++ {
		g := 0.8 + 0.8*rng.Float64()
		w := blas64.General{Rows: H, Cols: H, Stride: H, Data: make([]float64, H*H)}
		for i := range w.Data {
			w.Data[i] = rng.NormFloat64() * g / math.Sqrt(float64(H))
		}
		u := blas64.General{Rows: H, Cols: I, Stride: I, Data: make([]float64, H*I)}
		for i := range u.Data {
			u.Data[i] = rng.NormFloat64()
		}
		tr := make([]float64, K*T*H)
		h := blas64.General{Rows: K, Cols: H, Stride: H, Data: make([]float64, K*H)} // (K, H) states
		a := blas64.General{Rows: K, Cols: H, Stride: H, Data: make([]float64, K*H)}
		xt := blas64.General{Rows: K, Cols: I, Stride: I, Data: make([]float64, K*I)}
		for t := 0; t < T; t++ {
			for k := 0; k < K; k++ {
				copy(xt.Data[k*I:(k+1)*I], x[(k*T+t)*I:(k*T+t+1)*I])
			}
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, h, w, 0, a)  // h W^T
			blas64.Gemm(blas.NoTrans, blas.Trans, 1, xt, u, 1, a) // + x U^T
			for k := 0; k < K; k++ {
				for i := 0; i < H; i++ {
					v := math.Tanh(a.Data[k*H+i])
					h.Data[k*H+i] = v
					tr[(k*T+t)*H+i] = v
				}
			}
		}
		out[s] = tr
	}
	return out
}

// rotateUnits returns traj (K, T, n) seen through the orthogonal q (n, n):
// every state x becomes q x.
func rotateUnits(traj []float64, n int, q []float64) []float64 {
	out := make([]float64, len(traj))
	for r := 0; r < len(traj)/n; r++ {
		x := traj[r*n : (r+1)*n]
		for i := 0; i < n; i++ {
			var s float64
			for j := 0; j < n; j++ {
				s += q[i*n+j] * x[j]
			}
			out[r*n+i] = s
		}
	}
	return out
}

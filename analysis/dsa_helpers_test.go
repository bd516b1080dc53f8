package analysis

import (
	"math"
	"math/rand/v2"
)

// randomRNNTrajectories returns the hidden states of N random tanh networks
// of H units, (K, T, H) each, driven by the same I-channel Gaussian inputs:
// h_t = tanh(W h_{t-1} + U x_t) with W ~ N(0, g^2/H), g in [0.8, 1.6], as
// reference/make_metric_cases.py makes its trajectories.
func randomRNNTrajectories(N, K, T, H, I int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 17))
	x := make([]float64, K*T*I)
	for i := range x {
		x[i] = 0.5 * rng.NormFloat64()
	}
	out := make([][]float64, N)
	for s := 0; s < N; s++ {
		g := 0.8 + 0.8*rng.Float64()
		w := make([]float64, H*H)
		for i := range w {
			w[i] = rng.NormFloat64() * g / math.Sqrt(float64(H))
		}
		u := make([]float64, H*I)
		for i := range u {
			u[i] = rng.NormFloat64()
		}
		tr := make([]float64, K*T*H)
		h := make([]float64, H)
		nh := make([]float64, H)
		for k := 0; k < K; k++ {
			clear(h)
			for t := 0; t < T; t++ {
				xt := x[(k*T+t)*I : (k*T+t+1)*I]
				for i := 0; i < H; i++ {
					var a float64
					for j := 0; j < H; j++ {
						a += w[i*H+j] * h[j]
					}
					for j := 0; j < I; j++ {
						a += u[i*I+j] * xt[j]
					}
					nh[i] = math.Tanh(a)
				}
				h, nh = nh, h
				copy(tr[(k*T+t)*H:(k*T+t+1)*H], h)
			}
		}
		out[s] = tr
	}
	return out
}

package cpu

import (
	"math"

	"gonum.org/v1/gonum/mat"

	"degen"
)

// regularize adds to g (P), for parameters p (P), the gradient of
//
//	l1 * sum|w| over the layout's Weight tensors (W_hh, W_ih, W_out): sign(w), 0 at w = 0
//	nuclear * sum_i sigma_i(W_hh): U V^T from a thin SVD W_hh = U Sigma V^T
//
// A W_hh whose SVD fails (NaN or Inf) makes the nuclear gradient NaN, which
// marks only this network as diverged.
func regularize[T float](l degen.Layout, p, g []T, l1, nuclear float64) {
	if l1 != 0 {
		lam := T(l1)
		for _, tn := range l.Tensors() {
			if !tn.Weight {
				continue
			}
			end := tn.Offset + tn.Size()
			gw := g[tn.Offset:end]
			for i, v := range p[tn.Offset:end] {
				switch {
				case v > 0:
					gw[i] += lam
				case v < 0:
					gw[i] -= lam
				}
			}
		}
	}
	if nuclear != 0 {
		uvt, ok := polarFactor(l.H, p[l.Whh:l.Wih])
		for i := range l.H * l.H {
			if ok {
				g[l.Whh+i] += T(nuclear * uvt[i])
			} else {
				g[l.Whh+i] = T(math.NaN())
			}
		}
	}
}

// polarFactor returns U V^T (n, n), row-major, from the thin SVD
// W = U Sigma V^T of the row-major (n, n) matrix w, computed in float64 by
// polar. U V^T is the gradient of the nuclear norm sum_i sigma_i(W)
// wherever W has full rank. ok is false when the SVD fails (NaN or Inf in w).
func polarFactor[T float](n int, w []T) (uvt []float64, ok bool) {
	a := make([]float64, n*n)
	for i := range a {
		v := float64(w[i])
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		a[i] = v
	}
	return polar(n, a)
}

// polar computes U V^T of a finite row-major (n, n) matrix: gonum's
// mat.SVD by default, LAPACK's dgesdd from OpenBLAS under -tags openblas
// (about ten times faster at H = 128).
var polar = polarGonum

// polarGonum is polar with gonum's mat.SVD (thin).
func polarGonum(n int, a []float64) (uvt []float64, ok bool) {
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, n, a), mat.SVDThin) {
		return nil, false
	}
	var u, v, prod mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	prod.Mul(&u, v.T())
	return prod.RawMatrix().Data, true
}

// Regularization returns one network's structural penalty
//
//	l1 * (sum|W_hh| + sum|W_ih| + sum|W_out|) + nuclear * sum_i sigma_i(W_hh)
//
// for its parameters params (P) in layout l (the L1 sum is over the layout's
// Weight tensors; biases are not penalised). It is NaN when the singular
// values of W_hh cannot be computed.
func Regularization(l degen.Layout, params []float64, l1, nuclear float64) float64 {
	var r float64
	if l1 != 0 {
		var sum float64
		for _, tn := range l.Tensors() {
			if !tn.Weight {
				continue
			}
			for _, v := range params[tn.Offset : tn.Offset+tn.Size()] {
				sum += math.Abs(v)
			}
		}
		r += l1 * sum
	}
	if nuclear != 0 {
		var svd mat.SVD
		if !svd.Factorize(mat.NewDense(l.H, l.H, append([]float64(nil), params[l.Whh:l.Wih]...)), mat.SVDNone) {
			return math.NaN()
		}
		var sum float64
		for _, s := range svd.Values(nil) {
			sum += s
		}
		r += nuclear * sum
	}
	return r
}

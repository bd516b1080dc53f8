package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// hankelGram returns G = H^T H, (n*D, n*D) row-major with both triangles
// filled, for the delay embedding H of traj (K, T, n) (see hankel), without
// forming H. Block (a, b) of G pairs delays a <= b at lag L = b - a:
//
//	G_ab = sum_k sum_{t<T'} x_{k,t+D-1-a} x_{k,t+D-1-b}^T
//	     = F_L - sum_k [sum_{u=L}^{D-2-a} + sum_{u=T-a}^{T-1}] x_{k,u} x_{k,u-L}^T,
//
// with the full lagged sums F_L = sum_k sum_{u=L}^{T-1} x_{k,u} x_{k,u-L}^T.
// The D lagged sums cost 2 D K T n^2 flops, about D/2 times fewer than
// forming H and its symmetric product H^T H, in D large products.
func hankelGram(traj []float64, K, T, n, D int) []float64 {
	p := n * D
	F := make([][]float64, D) // F[L] (n, n)
	for L := 0; L < D; L++ {
		// One product over all K*T rows (u, u-L), which also pairs the
		// first L steps of a trial with the last of the one before; those
		// K-1 times L cross-trial terms are then taken out.
		F[L] = make([]float64, n*n)
		f := blas64.General{Rows: n, Cols: n, Stride: n, Data: F[L]}
		rows := K*T - L
		x := blas64.General{Rows: rows, Cols: n, Stride: n, Data: traj[L*n:]}
		y := blas64.General{Rows: rows, Cols: n, Stride: n, Data: traj[:rows*n]}
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, x, y, 0, f)
		for k := 1; k < K; k++ {
			for u := k * T; u < k*T+L; u++ {
				xu := blas64.Vector{N: n, Inc: 1, Data: traj[u*n : (u+1)*n]}
				yu := blas64.Vector{N: n, Inc: 1, Data: traj[(u-L)*n : (u-L+1)*n]}
				blas64.Ger(-1, xu, yu, f)
			}
		}
	}
	g := make([]float64, p*p)
	blk := make([]float64, n*n)
	for a := 0; a < D; a++ {
		for b := a; b < D; b++ {
			L := b - a
			copy(blk, F[L])
			bm := blas64.General{Rows: n, Cols: n, Stride: n, Data: blk}
			for k := 0; k < K; k++ {
				sub := func(u int) {
					x := blas64.Vector{N: n, Inc: 1, Data: traj[(k*T+u)*n : (k*T+u+1)*n]}
					y := blas64.Vector{N: n, Inc: 1, Data: traj[(k*T+u-L)*n : (k*T+u-L+1)*n]}
					blas64.Ger(-1, x, y, bm)
				}
				for u := L; u <= D-2-a; u++ {
					sub(u)
				}
				for u := T - a; u <= T-1; u++ {
					sub(u)
				}
			}
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					v := blk[i*n+j]
					g[(a*n+i)*p+b*n+j] = v
					g[(b*n+j)*p+a*n+i] = v
				}
			}
		}
	}
	return g
}

// topEigen returns the r largest eigenvalues (descending) and their
// eigenvectors (p, r) of the symmetric positive semidefinite g, (p, p)
// row-major. Small matrices use a dense eigendecomposition; larger ones
// Lanczos with full reorthogonalisation from a fixed start, grown until
// every wanted Ritz pair has residual ||g y - theta y|| <= 1e-10 theta_1
// (or the Krylov space is the whole space, where it is exact).
func topEigen(g []float64, p, r int) ([]float64, *mat.Dense, error) {
	if p <= 160 || 4*r >= p {
		return denseTopEigen(g, p, r)
	}
	G := blas64.General{Rows: p, Cols: p, Stride: p, Data: g}
	maxM := p
	Q := make([]float64, 0, 64*p) // Lanczos vectors, row j = q_j
	alpha := make([]float64, 0, 64)
	beta := make([]float64, 0, 64) // beta[j] couples q_j and q_{j+1}
	rng := rand.New(rand.NewPCG(0x5eed, uint64(p)))
	q := make([]float64, p)
	for i := range q {
		q[i] = rng.NormFloat64()
	}
	scal(q, 1/norm2(q))
	w := make([]float64, p)
	coef := make([]float64, maxM)
	next := 2*r + 20
	for m := 0; m < maxM; m++ {
		Q = append(Q, q...)
		blas64.Gemv(blas.NoTrans, 1, G, blas64.Vector{N: p, Inc: 1, Data: q}, 0, blas64.Vector{N: p, Inc: 1, Data: w})
		a := dot(q, w)
		alpha = append(alpha, a)
		// Full reorthogonalisation against all Lanczos vectors, twice
		// (classical Gram-Schmidt, "twice is enough").
		Qm := blas64.General{Rows: m + 1, Cols: p, Stride: p, Data: Q}
		for pass := 0; pass < 2; pass++ {
			c := blas64.Vector{N: m + 1, Inc: 1, Data: coef[:m+1]}
			blas64.Gemv(blas.NoTrans, 1, Qm, blas64.Vector{N: p, Inc: 1, Data: w}, 0, c)
			blas64.Gemv(blas.Trans, -1, Qm, c, 1, blas64.Vector{N: p, Inc: 1, Data: w})
		}
		b := norm2(w)
		if b <= 1e-13*math.Abs(alpha[0]) && m+1 < maxM {
			// An invariant subspace: it may hold only one copy of a
			// repeated eigenvalue, so let the dense solver decide.
			return denseTopEigen(g, p, r)
		}
		done := m+1 == maxM
		if m+1 >= next || done {
			vals, vecs, ok := ritz(alpha, beta, r)
			if ok && !done {
				// Residual of Ritz pair i: |b * s_{m,i}|.
				conv := true
				for i := 0; i < r; i++ {
					if math.Abs(b*vecs.At(m, i)) > 1e-10*vals[0] {
						conv = false
						break
					}
				}
				done = conv
			}
			if done {
				if !ok || m+1 < r {
					return denseTopEigen(g, p, r)
				}
				// Ritz vectors Y = Q^T S, (p, r).
				y := mat.NewDense(p, r, nil)
				var qm mat.Dense
				qm.SetRawMatrix(Qm)
				y.Mul(qm.T(), vecs)
				return vals, y, nil
			}
			next = m + 1 + max(10, r/2)
		}
		beta = append(beta, b)
		copy(q, w) // Q holds its own copy of the previous q
		scal(q, 1/b)
	}
	return denseTopEigen(g, p, r)
}

// ritz returns the r largest eigenvalues (descending) of the symmetric
// tridiagonal matrix with diagonal alpha and off-diagonal beta, and their
// eigenvectors as columns (len(alpha), r).
func ritz(alpha, beta []float64, r int) ([]float64, *mat.Dense, bool) {
	m := len(alpha)
	if m < r {
		return nil, nil, false
	}
	t := mat.NewSymDense(m, nil)
	for i := 0; i < m; i++ {
		t.SetSym(i, i, alpha[i])
		if i+1 < m {
			t.SetSym(i, i+1, beta[i])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(t, true) {
		return nil, nil, false
	}
	vals, vecs := largestEigen(&es, r)
	return vals, vecs, true
}

// denseTopEigen is topEigen by a full dense eigendecomposition.
func denseTopEigen(g []float64, p, r int) ([]float64, *mat.Dense, error) {
	s := mat.NewSymDense(p, nil)
	for i := 0; i < p; i++ {
		for j := i; j < p; j++ {
			s.SetSym(i, j, g[i*p+j])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(s, true) {
		return nil, nil, fmt.Errorf("dsa: eigendecomposition of the %dx%d Gram matrix of the delay embedding did not converge", p, p)
	}
	vals, vecs := largestEigen(&es, r)
	return vals, vecs, nil
}

// largestEigen returns the r largest eigenvalues (descending) of the
// factorised (m, m) es, which holds its vectors, and their eigenvectors as
// columns (m, r). EigenSym orders eigenvalues ascending.
func largestEigen(es *mat.EigenSym, r int) ([]float64, *mat.Dense) {
	all := es.Values(nil)
	m := len(all)
	var v mat.Dense
	es.VectorsTo(&v)
	vals := make([]float64, r)
	vecs := mat.NewDense(m, r, nil)
	for i := 0; i < r; i++ {
		vals[i] = all[m-1-i]
		vecs.SetCol(i, mat.Col(nil, m-1-i, &v))
	}
	return vals, vecs
}

func dot(a, b []float64) float64 { return floats.Dot(a, b) }

func norm2(a []float64) float64 { return floats.Norm(a, 2) }

func scal(a []float64, c float64) { floats.Scale(c, a) }

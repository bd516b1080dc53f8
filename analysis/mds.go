package analysis

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// MDS embeds N items in dims dimensions by classical (Torgerson) scaling of
// the symmetric (N, N) distance matrix d: with J = I - 11^T/N,
//
//	B = -1/2 J D^(2) J   (D^(2) the elementwise squared distances),
//
// the coordinates (N, dims) are X = V_k diag(sqrt(lambda_k)) for the dims
// largest eigenvalues lambda_k of B (negative ones, from non-Euclidean
// distances, give a zero coordinate). Euclidean distances are recovered
// exactly up to rotation, reflection and translation; X is centred.
// Eigenvector signs are fixed so that each column's largest-magnitude entry
// is positive, which makes the output deterministic.
func MDS(d mat.Symmetric, dims int) (*mat.Dense, error) {
	n := d.SymmetricDim()
	if n < 1 || dims < 1 {
		return nil, fmt.Errorf("mds: need at least one item and one dimension, got %d items, %d dims", n, dims)
	}
	b := mat.NewSymDense(n, nil)
	rowMean := make([]float64, n)
	var total float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := d.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("mds: distance (%d, %d) is %v", i, j, v)
			}
			rowMean[i] += v * v / float64(n)
		}
		total += rowMean[i] / float64(n)
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := d.At(i, j)
			b.SetSym(i, j, -0.5*(v*v-rowMean[i]-rowMean[j]+total))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(b, true) {
		return nil, fmt.Errorf("mds: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, c int) bool { return vals[order[a]] > vals[order[c]] })
	x := mat.NewDense(n, dims, nil)
	for c := 0; c < dims && c < n; c++ {
		k := order[c]
		scale := math.Sqrt(max(vals[k], 0))
		sign, big := 1.0, 0.0
		for i := 0; i < n; i++ {
			if v := vecs.At(i, k); math.Abs(v) > big+1e-12 {
				big, sign = math.Abs(v), math.Copysign(1, v)
			}
		}
		for i := 0; i < n; i++ {
			x.Set(i, c, sign*scale*vecs.At(i, k))
		}
	}
	return x, nil
}

package analysis

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"
)

// RepOptions configure the representation measures.
type RepOptions struct {
	// SVCCAVariance is the fraction of variance the SVD step of SVCCA keeps
	// (the fewest leading directions reaching it); default 0.99.
	SVCCAVariance float64
	// SVCCADims, when positive, keeps exactly that many directions instead.
	SVCCADims int
	// SVCCASpectrum says what SVCCAVariance is a fraction of:
	// SpectrumVariance (default) counts squared singular values, the
	// variance each direction explains (Raghu et al. 2017, and degen since
	// its first release); SpectrumSingular counts the singular values
	// themselves, as google/svcca's tutorial does. The second keeps more
	// directions for the same fraction.
	SVCCASpectrum string
}

// The conventions of RepOptions.SVCCASpectrum.
const (
	SpectrumVariance = "variance"
	SpectrumSingular = "singular"
)

// DefaultRepOptions keep 99% of the variance in SVCCA.
func DefaultRepOptions() RepOptions {
	return RepOptions{SVCCAVariance: 0.99, SVCCASpectrum: SpectrumVariance}
}

// Representation is one network's hidden states X (n samples, H units),
// n = K*T, prepared once for comparison with many others: centred (each
// unit's mean over samples removed) and scaled to ||X||_F = 1, with the
// eigendecomposition X^T X = V diag(s^2) V^T.
type Representation struct {
	n, h int
	x    []float64 // (n, H) centred, unit Frobenius norm
	v    []float64 // (H, H) right singular vectors, columns in decreasing s
	s    []float64 // (H) singular values of X, decreasing
	keep int       // directions SVCCA keeps
}

// NewRepresentation prepares the states (n, H), row-major. It fails on a
// NaN or Inf, on states with no variance, and when SVCCADims exceeds the
// number of directions with nonzero variance.
func NewRepresentation(states []float64, n, h int, opts RepOptions) (*Representation, error) {
	if n < 2 || h < 1 || len(states) != n*h {
		return nil, fmt.Errorf("representation: states have %d values, want n x H = %d x %d with n >= 2", len(states), n, h)
	}
	if err := CheckFinite("representation: states", states); err != nil {
		return nil, err
	}
	if opts.SVCCAVariance == 0 && opts.SVCCADims == 0 {
		opts.SVCCAVariance = DefaultRepOptions().SVCCAVariance
	}
	switch opts.SVCCASpectrum {
	case "", SpectrumVariance, SpectrumSingular:
	default:
		return nil, fmt.Errorf("representation: SVCCA spectrum must be %q or %q, got %q", SpectrumVariance, SpectrumSingular, opts.SVCCASpectrum)
	}
	if opts.SVCCADims < 0 || (opts.SVCCADims == 0 && !(opts.SVCCAVariance > 0 && opts.SVCCAVariance <= 1)) {
		return nil, fmt.Errorf("representation: SVCCA needs dims > 0 or a variance fraction in (0, 1], got dims %d, variance %g", opts.SVCCADims, opts.SVCCAVariance)
	}
	r := &Representation{n: n, h: h, x: make([]float64, n*h)}
	mean := make([]float64, h)
	for i := 0; i < n; i++ {
		for j, v := range states[i*h : (i+1)*h] {
			mean[j] += v
		}
	}
	var ss float64
	for i := 0; i < n; i++ {
		for j, v := range states[i*h : (i+1)*h] {
			c := v - mean[j]/float64(n)
			r.x[i*h+j] = c
			ss += c * c
		}
	}
	if !(ss > 0) {
		return nil, fmt.Errorf("representation: the hidden states have no variance (every unit constant)")
	}
	norm := math.Sqrt(ss)
	for k := range r.x {
		r.x[k] /= norm
	}
	gram := make([]float64, h*h)
	gemm(blas.Trans, blas.NoTrans, h, h, n, r.x, r.x, gram)
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(h, gram), true) {
		return nil, fmt.Errorf("representation: eigendecomposition of the state covariance failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, h)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	r.v = make([]float64, h*h)
	r.s = make([]float64, h)
	for c, k := range order {
		r.s[c] = math.Sqrt(max(vals[k], 0))
		for i := 0; i < h; i++ {
			r.v[i*h+c] = vecs.At(i, k)
		}
	}
	// Directions with variance below 1e-12 of the largest are numerically absent.
	rank := 0
	for rank < h && r.s[rank] > 1e-6*r.s[0] {
		rank++
	}
	if opts.SVCCADims > 0 {
		if opts.SVCCADims > rank {
			return nil, fmt.Errorf("representation: SVCCA dims %d exceed the %d directions with nonzero variance", opts.SVCCADims, rank)
		}
		r.keep = opts.SVCCADims
	} else {
		// weight of each direction: s^2 (total ||X||^2 = 1) or s
		weight := func(s float64) float64 { return s * s }
		if opts.SVCCASpectrum == SpectrumSingular {
			weight = func(s float64) float64 { return s }
		}
		var total, cum float64
		for _, s := range r.s[:rank] {
			total += weight(s)
		}
		for r.keep < rank {
			cum += weight(r.s[r.keep])
			r.keep++
			if cum >= (opts.SVCCAVariance-1e-12)*total {
				break
			}
		}
	}
	return r, nil
}

// RepScores compares two representations X and Y (both centred, ||X|| = ||Y|| = 1).
type RepScores struct {
	// CKA is linear centred kernel alignment, HSIC-based (Kornblith et al. 2019):
	// ||X^T Y||_F^2 / (||X^T X||_F ||Y^T Y||_F), in [0, 1], 1 for copies
	// that differ by a rotation and an isotropic scale.
	CKA float64 `json:"cka"`
	// SVCCA is the mean canonical correlation (Raghu et al. 2017) between
	// the leading SVD directions of X and Y: the singular values of
	// U_x^T U_y, averaged over min(r_x, r_y) of them.
	SVCCA float64 `json:"svcca"`
	// Procrustes is the angular Procrustes shape distance (Williams et al.
	// 2021, alpha = 1): arccos max_Q tr(X^T Y Q) = arccos ||X^T Y||_* over
	// orthogonal Q (zero-padding the narrower network), in [0, pi/2]; the
	// euclidean form is min_Q ||X - Y Q||_F = sqrt(2 - 2 cos(angle)).
	Procrustes float64 `json:"procrustes"`
}

// CompareRepresentations returns CKA, SVCCA and the Procrustes angle of a
// and b, all from the cross-covariance C = X^T Y (H_a, H_b):
// ||X^T X||_F^2 = sum s^4, U_x^T U_y = S_x^-1 V_x^T C V_y S_y^-1, and
// ||X^T Y||_* is the sum of C's singular values. Cost O(n H_a H_b + H^3).
func CompareRepresentations(a, b *Representation) (RepScores, error) {
	if a.n != b.n {
		return RepScores{}, fmt.Errorf("representation: the networks have %d and %d samples (K*T), want the same trials", a.n, b.n)
	}
	c := make([]float64, a.h*b.h)
	gemm(blas.Trans, blas.NoTrans, a.h, b.h, a.n, a.x, b.x, c)
	var sc RepScores
	var cc float64
	for _, v := range c {
		cc += v * v
	}
	sc.CKA = min(1, cc/(a.gramNorm()*b.gramNorm()))

	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(a.h, b.h, c), mat.SVDNone) {
		return RepScores{}, fmt.Errorf("representation: SVD of the cross-covariance failed")
	}
	var nuc float64
	for _, v := range svd.Values(nil) {
		nuc += v
	}
	sc.Procrustes = math.Acos(min(1, max(0, nuc)))

	// SVCCA: W = S_x^-1 V_x^T C V_y S_y^-1 restricted to the kept directions.
	ra, rb := a.keep, b.keep
	cv := make([]float64, a.h*rb) // C V_y[:, :rb]
	vb := columns(b.v, b.h, rb)
	gemm(blas.NoTrans, blas.NoTrans, a.h, rb, b.h, c, vb, cv)
	w := make([]float64, ra*rb)
	va := columns(a.v, a.h, ra)
	gemm(blas.Trans, blas.NoTrans, ra, rb, a.h, va, cv, w)
	for i := 0; i < ra; i++ {
		for j := 0; j < rb; j++ {
			w[i*rb+j] /= a.s[i] * b.s[j]
		}
	}
	if !svd.Factorize(mat.NewDense(ra, rb, w), mat.SVDNone) {
		return RepScores{}, fmt.Errorf("representation: SVD of the SVCCA correlation matrix failed")
	}
	rho := svd.Values(nil)
	var sum float64
	for _, v := range rho {
		sum += min(1, v)
	}
	sc.SVCCA = sum / float64(len(rho))
	return sc, nil
}

// gramNorm returns ||X^T X||_F = sqrt(sum s^4).
func (r *Representation) gramNorm() float64 {
	var s4 float64
	for _, s := range r.s {
		s4 += s * s * s * s
	}
	return math.Sqrt(s4)
}

// columns returns the first k columns of the (rows, cols) row-major matrix m
// as a (rows, k) matrix; cols = rows here.
func columns(m []float64, rows, k int) []float64 {
	out := make([]float64, rows*k)
	for i := 0; i < rows; i++ {
		copy(out[i*k:(i+1)*k], m[i*rows:i*rows+k])
	}
	return out
}

// RepresentationMatrices holds the pairwise representation distances of N
// networks, each symmetric (N, N) with a zero diagonal.
type RepresentationMatrices struct {
	CKA        *mat.SymDense // 1 - CKA
	SVCCA      *mat.SymDense // 1 - mean canonical correlation
	Procrustes *mat.SymDense // angular Procrustes shape distance (radians)
}

// RepresentationDistances compares the hidden states of every pair of
// networks, states[s] being network s's (n, h) row-major states.
func RepresentationDistances(states [][]float64, n, h int, opts RepOptions, progress ...func()) (*RepresentationMatrices, error) {
	if len(states) < 2 {
		return nil, fmt.Errorf("representation distances: need at least two networks, got %d", len(states))
	}
	reps := make([]*Representation, len(states))
	if err := ParallelFor(len(states), func(s int) error {
		r, err := NewRepresentation(states[s], n, h, opts)
		if err != nil {
			return fmt.Errorf("network %d: %w", s, err)
		}
		reps[s] = r
		return nil
	}); err != nil {
		return nil, fmt.Errorf("representation distances: %w", err)
	}
	scores := make([]RepScores, len(states)*len(states))
	procrustes, err := Pairwise(len(states), func(i, j int) (float64, error) {
		sc, err := CompareRepresentations(reps[i], reps[j])
		scores[i*len(states)+j] = sc
		return sc.Procrustes, err
	}, progress...)
	if err != nil {
		return nil, fmt.Errorf("representation distances: %w", err)
	}
	out := &RepresentationMatrices{
		CKA:        mat.NewSymDense(len(states), nil),
		SVCCA:      mat.NewSymDense(len(states), nil),
		Procrustes: procrustes,
	}
	for i := range states {
		for j := i + 1; j < len(states); j++ {
			sc := scores[i*len(states)+j]
			out.CKA.SetSym(i, j, 1-sc.CKA)
			out.SVCCA.SetSym(i, j, 1-sc.SVCCA)
		}
	}
	return out, nil
}

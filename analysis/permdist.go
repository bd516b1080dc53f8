package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// NetWeights are the weights of one network that PermutationDistance
// compares. Wih and Wout are used only with PermOptions.TieIO.
type NetWeights struct {
	Whh  *mat.Dense // (H, H) recurrent weights
	Wih  *mat.Dense // (H, I) input weights, or nil
	Wout *mat.Dense // (O, H) readout weights, or nil
}

// PermOptions configure PermutationDistance.
type PermOptions struct {
	// Normalize divides the distance by H^2 (SCIENCE.md: for comparing widths).
	Normalize bool
	// TieIO makes the input rows (W_ih) and readout columns (W_out) follow
	// the same permutation and adds their mismatch to the objective:
	//   ||W_hh1 - P^T W_hh2 P||^2 + ||W_ih1 - P^T W_ih2||^2 + ||W_out1 - W_out2 P||^2.
	TieIO bool
	// Restarts is the number of seeded random doubly stochastic Frank–Wolfe
	// starts tried besides the barycentre and the signature start.
	Restarts int
	// MaxIter bounds the Frank–Wolfe iterations of each start.
	MaxIter int
	// Kicks is the number of iterated-local-search rounds (random 3-swap
	// perturbation, then 2-opt, kept if better) applied to the best
	// candidate at H = 64. A round costs about O(H^2), so smaller networks
	// get Kicks * (64/H)^2 rounds (at most 20 * Kicks: the same time per
	// pair, and the exact optimum at H <= 8 in our tests), larger ones
	// Kicks * 64/H (a pair of H = 128 takes about 40 ms).
	Kicks int
	// Seed seeds the random starts and kicks.
	Seed uint64
}

// DefaultPermOptions are the options the command line uses by default.
func DefaultPermOptions() PermOptions {
	return PermOptions{Restarts: 0, MaxIter: 3, Kicks: 100, Seed: 1}
}

// PermResult is the outcome of PermutationDistance.
type PermResult struct {
	// Distance is ||W1 - P^T W2 P||_F at the permutation found (with TieIO the
	// square root of the tied objective), divided by H^2 when normalised.
	Distance float64 `json:"distance"`
	// Perm matches unit i of the first network with unit Perm[i] of the
	// second: (P^T W2 P)[i,j] = W2[Perm[i], Perm[j]].
	Perm []int `json:"permutation"`
}

// PermutationDistance returns an approximate minimiser over permutation
// matrices P of
//
//	||W1 - P^T W2 P||_F   (+ the tied input and readout terms with TieIO),
//
// a quadratic assignment problem (QAP), and its value. Equivalently it
// maximises f(P) = tr(W1^T P^T W2 P) + <L, P>, with L = F2 F1^T the
// linear term of the tied weights F = [W_ih, W_out^T] (H, I+O).
//
// The solver (after Vogelstein et al. 2015, "FAQ", for non-symmetric
// matrices) runs Frank–Wolfe on the relaxation of f to doubly stochastic P:
// the gradient is G(P) = W2 P W1^T + W2^T P W1 + L, the linear step is a
// linear assignment (LinearAssignment) and the step length the exact maximum
// of the quadratic along the step. It starts from the barycentre J/H and
// from Restarts seeded random doubly stochastic matrices, and rounds each
// result to the nearest permutation. A "signature" start matches units by
// the sorted values of their rows and columns (invariant under relabelling
// of the other units), which recovers planted permutations directly. The
// candidate with the lowest objective is then polished by 2-opt local
// search (swap two units while that lowers the objective; each swap's
// change costs O(1) from maintained products W1 B^T, W1^T B, updated in
// O(H^2) per accepted swap) and by iterated local search (Kicks rounds).
// Polishing every candidate instead cost 40% more time at H=128 for a worse
// result than spending that time on more rounds. It is a heuristic: the
// value is an upper bound of the true minimum. Both networks must have the
// same H; a negative Restarts or Kicks is an error.
func PermutationDistance(w1, w2 NetWeights, opts PermOptions) (PermResult, error) {
	q, err := newQAP(w1, w2, opts.TieIO)
	if err != nil {
		return PermResult{}, err
	}
	if opts.Restarts < 0 || opts.Kicks < 0 {
		return PermResult{}, fmt.Errorf("permutation distance: restarts and kicks must be >= 0, got %d and %d", opts.Restarts, opts.Kicks)
	}
	if opts.MaxIter <= 0 {
		opts.MaxIter = DefaultPermOptions().MaxIter
	}
	pi, cost := q.solve(opts)
	d := math.Sqrt(max(cost, 0))
	if opts.Normalize {
		d /= float64(q.h * q.h)
	}
	return PermResult{Distance: d, Perm: pi}, nil
}

// PermutationDistances returns the symmetric (N, N) matrix of
// PermutationDistance between every pair of networks, computed in parallel.
func PermutationDistances(nets []NetWeights, opts PermOptions, progress ...func()) (*mat.SymDense, error) {
	if len(nets) < 2 {
		return nil, fmt.Errorf("permutation distances: need at least two networks, got %d", len(nets))
	}
	return Pairwise(len(nets), func(i, j int) (float64, error) {
		r, err := PermutationDistance(nets[i], nets[j], opts)
		return r.Distance, err
	}, progress...)
}

// qap holds one problem instance as flat row-major arrays.
type qap struct {
	h      int
	a, at  []float64 // (H, H) W1 and its transpose
	b      []float64 // (H, H) W2
	f1, f2 []float64 // (H, m) tied features [W_ih, W_out^T], nil without TieIO
	m      int
	aStack []float64 // (2H, H) [W1^T; W1], the right factor of G
	lin    []float64 // (H, H) L = F2 F1^T, nil without TieIO
	scale  float64   // ||W1||^2 + ||W2||^2 + ||F1||^2 + ||F2||^2, for tolerances
	lap    lapWork
}

func denseData(name string, m *mat.Dense, rows, cols int) ([]float64, error) {
	if m == nil {
		return nil, fmt.Errorf("%s is missing", name)
	}
	r, c := m.Dims()
	if r != rows || c != cols {
		return nil, fmt.Errorf("%s has shape (%d, %d), want (%d, %d)", name, r, c, rows, cols)
	}
	out := make([]float64, 0, rows*cols)
	for i := 0; i < r; i++ {
		out = append(out, m.RawRowView(i)...)
	}
	if err := CheckFinite(name, out); err != nil {
		return nil, err
	}
	return out, nil
}

func newQAP(w1, w2 NetWeights, tie bool) (*qap, error) {
	if w1.Whh == nil || w2.Whh == nil {
		return nil, fmt.Errorf("permutation distance: W_hh is missing")
	}
	h, c := w1.Whh.Dims()
	if h != c || h == 0 {
		return nil, fmt.Errorf("permutation distance: first W_hh has shape (%d, %d), want square", h, c)
	}
	q := &qap{h: h}
	var err error
	if q.a, err = denseData("permutation distance: first W_hh", w1.Whh, h, h); err != nil {
		return nil, err
	}
	if q.b, err = denseData("permutation distance: second W_hh", w2.Whh, h, h); err != nil {
		return nil, err
	}
	q.at = transpose(q.a, h, h)
	q.aStack = append(slices.Clone(q.at), q.a...)
	for _, v := range q.a {
		q.scale += v * v
	}
	for _, v := range q.b {
		q.scale += v * v
	}
	if tie {
		if q.f1, q.m, err = tiedFeatures("first", w1, h); err != nil {
			return nil, err
		}
		var m2 int
		if q.f2, m2, err = tiedFeatures("second", w2, h); err != nil {
			return nil, err
		}
		if m2 != q.m {
			return nil, fmt.Errorf("permutation distance: tied weights have %d and %d input+output channels", q.m, m2)
		}
		q.lin = make([]float64, h*h)
		gemm(blas.NoTrans, blas.Trans, h, h, q.m, q.f2, q.f1, q.lin)
		for _, v := range q.f1 {
			q.scale += v * v
		}
		for _, v := range q.f2 {
			q.scale += v * v
		}
	}
	return q, nil
}

// tiedFeatures returns F = [W_ih, W_out^T] (H, I+O) of one network.
func tiedFeatures(which string, w NetWeights, h int) ([]float64, int, error) {
	if w.Wih == nil || w.Wout == nil {
		return nil, 0, fmt.Errorf("permutation distance: %s network lacks W_ih or W_out, needed to tie inputs and outputs", which)
	}
	_, in := w.Wih.Dims()
	out, _ := w.Wout.Dims()
	wih, err := denseData("permutation distance: "+which+" W_ih", w.Wih, h, in)
	if err != nil {
		return nil, 0, err
	}
	wout, err := denseData("permutation distance: "+which+" W_out", w.Wout, out, h)
	if err != nil {
		return nil, 0, err
	}
	m := in + out
	f := make([]float64, h*m)
	for i := 0; i < h; i++ {
		copy(f[i*m:], wih[i*in:(i+1)*in])
		for o := 0; o < out; o++ {
			f[i*m+in+o] = wout[o*h+i]
		}
	}
	return f, m, nil
}

func transpose(x []float64, r, c int) []float64 {
	t := make([]float64, r*c)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			t[j*r+i] = x[i*c+j]
		}
	}
	return t
}

// gemm computes c = op(a) op(b) for row-major a, b, c with c (m, n) and
// inner dimension k.
func gemm(ta, tb blas.Transpose, m, n, k int, a, b, c []float64) {
	ga := blas64.General{Rows: m, Cols: k, Stride: k, Data: a}
	if ta == blas.Trans {
		ga = blas64.General{Rows: k, Cols: m, Stride: m, Data: a}
	}
	gb := blas64.General{Rows: k, Cols: n, Stride: n, Data: b}
	if tb == blas.Trans {
		gb = blas64.General{Rows: n, Cols: k, Stride: k, Data: b}
	}
	blas64.Gemm(ta, tb, 1, ga, gb, 0, blas64.General{Rows: m, Cols: n, Stride: n, Data: c})
}

// cost returns the objective sum_ij (W1[i,j] - W2[pi i, pi j])^2 (+ the
// tied terms sum_i ||F1[i] - F2[pi i]||^2) at the permutation pi.
func (q *qap) cost(pi []int) float64 {
	h := q.h
	var s float64
	for i := 0; i < h; i++ {
		bi := q.b[pi[i]*h : pi[i]*h+h]
		for j := 0; j < h; j++ {
			d := q.a[i*h+j] - bi[pi[j]]
			s += d * d
		}
	}
	for i := 0; q.f1 != nil && i < h; i++ {
		for k := 0; k < q.m; k++ {
			d := q.f1[i*q.m+k] - q.f2[pi[i]*q.m+k]
			s += d * d
		}
	}
	return s
}

// solve runs every start and returns the best permutation and its cost.
func (q *qap) solve(opts PermOptions) ([]int, float64) {
	var cands [][]int
	cands = append(cands, q.signatureStart())
	h := q.h
	bary := make([]float64, h*h)
	for k := range bary {
		bary[k] = 1 / float64(h)
	}
	cands = append(cands, q.frankWolfe(bary, q.gradBarycentre(), opts.MaxIter))
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(h)))
	for r := 0; r < opts.Restarts; r++ {
		cands = append(cands, q.frankWolfe(randomDoublyStochastic(h, rng), nil, opts.MaxIter))
	}
	var bestPi []int
	bestCost := math.Inf(1)
	for _, pi := range cands {
		if c := q.cost(pi); c < bestCost {
			bestPi, bestCost = pi, c
		}
	}
	best := q.twoOpt(bestPi)
	kicks := opts.Kicks
	switch {
	case h < 64:
		kicks = min(20*kicks, kicks*64*64/(h*h))
	case h > 64:
		kicks = max(1, kicks*64/h)
	}
	q.iteratedLocalSearch(best, kicks, rng)
	return best.pi, q.cost(best.pi)
}

// signatureStart matches unit i of W1 with unit j of W2 by a linear
// assignment on the distance between their sorted row values, sorted column
// values and (with TieIO) tied features, all invariant under relabelling of
// the other units.
func (q *qap) signatureStart() []int {
	h := q.h
	// Each unit's signature: nq evenly spaced order statistics of its row
	// and of its column (all of them when H <= 32).
	nq := min(h, 32)
	sig := func(w, wt []float64) []float64 {
		s := make([]float64, 0, 2*nq*h)
		buf := make([]float64, h)
		for i := 0; i < h; i++ {
			for _, line := range [][]float64{w[i*h : i*h+h], wt[i*h : i*h+h]} {
				copy(buf, line)
				slices.Sort(buf)
				for k := 0; k < nq; k++ {
					s = append(s, buf[k*(h-1)/max(nq-1, 1)])
				}
			}
		}
		return s
	}
	s1 := sig(q.a, q.at)
	s2 := sig(q.b, transpose(q.b, h, h))
	// cost[i,j] = ||s1_i - s2_j||^2 + ||F1_i - F2_j||^2 = |s1_i|^2 + |s2_j|^2 - 2 s1_i.s2_j + ...
	cost := make([]float64, h*h)
	gemm(blas.NoTrans, blas.Trans, h, h, 2*nq, s1, s2, cost)
	if q.f1 != nil {
		cross := make([]float64, h*h)
		gemm(blas.NoTrans, blas.Trans, h, h, q.m, q.f1, q.f2, cross)
		for k := range cost {
			cost[k] += cross[k]
		}
	}
	norm := func(x []float64, w int) []float64 {
		out := make([]float64, h)
		for i := range out {
			for _, v := range x[i*w : (i+1)*w] {
				out[i] += v * v
			}
		}
		return out
	}
	n1, n2 := norm(s1, 2*nq), norm(s2, 2*nq)
	if q.f1 != nil {
		f1, f2 := norm(q.f1, q.m), norm(q.f2, q.m)
		for i := range n1 {
			n1[i] += f1[i]
			n2[i] += f2[i]
		}
	}
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			cost[i*h+j] = n1[i] + n2[j] - 2*cost[i*h+j]
		}
	}
	pi := make([]int, h)
	q.lap.solve(h, cost, pi)
	return pi
}

// randomDoublyStochastic returns (J/H + S)/2, S a Sinkhorn-balanced matrix
// of uniform random entries: a random interior point of the Birkhoff
// polytope near its centre (as in graspologic's FAQ).
func randomDoublyStochastic(h int, rng *rand.Rand) []float64 {
	s := make([]float64, h*h)
	for k := range s {
		s[k] = rng.Float64() + 1e-3
	}
	for it := 0; it < 30; it++ {
		for i := 0; i < h; i++ {
			var r float64
			for j := 0; j < h; j++ {
				r += s[i*h+j]
			}
			for j := 0; j < h; j++ {
				s[i*h+j] /= r
			}
		}
		for j := 0; j < h; j++ {
			var c float64
			for i := 0; i < h; i++ {
				c += s[i*h+j]
			}
			for i := 0; i < h; i++ {
				s[i*h+j] /= c
			}
		}
	}
	for k := range s {
		s[k] = 0.5*s[k] + 0.5/float64(h)
	}
	return s
}

// gradQuad writes G(P) = W2 P W1^T + W2^T P W1 (no linear term) into g,
// for P (H, H) with rows indexing W2's units and columns W1's units.
func (q *qap) gradQuad(p, g []float64, x []float64) {
	h := q.h
	// x = [W2 P | W2^T P] (H, 2H); g = x [W1^T; W1].
	tmp := make([]float64, h*h)
	gemm(blas.NoTrans, blas.NoTrans, h, h, h, q.b, p, tmp)
	for i := 0; i < h; i++ {
		copy(x[i*2*h:], tmp[i*h:i*h+h])
	}
	gemm(blas.Trans, blas.NoTrans, h, h, h, q.b, p, tmp)
	for i := 0; i < h; i++ {
		copy(x[i*2*h+h:], tmp[i*h:i*h+h])
	}
	gemm(blas.NoTrans, blas.NoTrans, h, h, 2*h, x, q.aStack, g)
}

// gradVertex writes G(Q) for the permutation matrix Q with Q[pi(j), j] = 1,
// using (W2 Q)[a,j] = W2[a, pi(j)] and (W2^T Q)[a,j] = W2[pi(j), a].
func (q *qap) gradVertex(pi []int, g, x []float64) {
	h := q.h
	for a := 0; a < h; a++ {
		row := x[a*2*h : (a+1)*2*h]
		for j := 0; j < h; j++ {
			row[j] = q.b[a*h+pi[j]]
			row[h+j] = q.b[pi[j]*h+a]
		}
	}
	gemm(blas.NoTrans, blas.NoTrans, h, h, 2*h, x, q.aStack, g)
}

// gradBarycentre returns G(J/H) = (r2 r1^T + c2 c1^T)/H in O(H^2), r and c
// being the row and column sums of W1 and W2.
func (q *qap) gradBarycentre() []float64 {
	h := q.h
	r1, c1, r2, c2 := make([]float64, h), make([]float64, h), make([]float64, h), make([]float64, h)
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			r1[i] += q.a[i*h+j]
			c1[j] += q.a[i*h+j]
			r2[i] += q.b[i*h+j]
			c2[j] += q.b[i*h+j]
		}
	}
	g := make([]float64, h*h)
	for a := 0; a < h; a++ {
		for b := 0; b < h; b++ {
			g[a*h+b] = (r2[a]*r1[b] + c2[a]*c1[b]) / float64(h)
		}
	}
	return g
}

// updateVertexGrad turns g = G(Q_old) into G(Q_new) for permutation
// matrices given by old and pi (Q[pi(j), j] = 1): each column j whose
// partner moved from l to l' adds the rank-one terms
// (W2[:, l'] - W2[:, l]) W1[:, j]^T + (W2[l', :] - W2[l, :])^T W1[j, :].
// It returns false, leaving g alone, when more than H/4 columns moved (a
// full product is then cheaper).
func (q *qap) updateVertexGrad(old, pi []int, g []float64) bool {
	h := q.h
	moved := 0
	for j := range pi {
		if pi[j] != old[j] {
			moved++
		}
	}
	if 4*moved > h {
		return false
	}
	colDiff, rowDiff := make([]float64, h), make([]float64, h)
	colA, rowA := make([]float64, h), make([]float64, h)
	for j := range pi {
		l, l2 := old[j], pi[j]
		if l == l2 {
			continue
		}
		for a := 0; a < h; a++ {
			colDiff[a] = q.b[a*h+l2] - q.b[a*h+l]
			rowDiff[a] = q.b[l2*h+a] - q.b[l*h+a]
			colA[a] = q.a[a*h+j] // W1[:, j] = row j of W1^T
		}
		copy(rowA, q.a[j*h:(j+1)*h])
		gg := blas64.General{Rows: h, Cols: h, Stride: h, Data: g}
		blas64.Ger(1, blas64.Vector{N: h, Inc: 1, Data: colDiff}, blas64.Vector{N: h, Inc: 1, Data: colA}, gg)
		blas64.Ger(1, blas64.Vector{N: h, Inc: 1, Data: rowDiff}, blas64.Vector{N: h, Inc: 1, Data: rowA}, gg)
	}
	return true
}

// frankWolfe maximises f(P) = tr(W1^T P^T W2 P) + <L, P> over doubly
// stochastic P from p0 (overwritten), then rounds P to the permutation pi
// maximising <P, Q> and returns pi (unit i of W1 matches unit pi[i] of W2).
// gp0, if not nil, is G(p0).
func (q *qap) frankWolfe(p, gp0 []float64, maxIter int) []int {
	h := q.h
	x := make([]float64, 2*h*h)
	gp := make([]float64, h*h) // G(P), quadratic part
	gq := make([]float64, h*h)
	grad := make([]float64, h*h)
	cost := make([]float64, h*h)
	sigma := make([]int, h)
	pi := make([]int, h)
	var lastPi []int // the previous vertex, whose gradient gq holds
	if gp0 != nil {
		copy(gp, gp0)
	} else {
		q.gradQuad(p, gp, x)
	}
	for it := 0; it < maxIter; it++ {
		for k := range grad {
			grad[k] = gp[k]
			if q.lin != nil {
				grad[k] += q.lin[k]
			}
			cost[k] = -grad[k]
		}
		// Linear step: the vertex Q (Q[r, sigma(r)] = 1) maximising <grad, Q>.
		q.lap.solve(h, cost, sigma)
		for r, c := range sigma {
			pi[c] = r
		}
		if lastPi == nil || !q.updateVertexGrad(lastPi, pi, gq) {
			q.gradVertex(pi, gq, x)
		}
		lastPi = append(lastPi[:0], pi...)
		// Along D = Q - P: f(P + t D) = f(P) + t b + t^2 c with
		// b = <grad, D> (the Frank–Wolfe gap, >= 0) and c = <G(D), D>/2.
		var bLin, cQuad, fScale float64
		for k := range p {
			d := -p[k]
			if r := k / h; sigma[r] == k%h {
				d += 1
			}
			bLin += grad[k] * d
			cQuad += (gq[k] - gp[k]) * d
			fScale += math.Abs(grad[k] * p[k])
		}
		cQuad /= 2
		if bLin <= 1e-12*(fScale+q.scale) {
			break
		}
		t := 1.0
		if cQuad < 0 {
			t = min(1, -bLin/(2*cQuad))
		}
		for k := range p {
			d := -p[k]
			if r := k / h; sigma[r] == k%h {
				d += 1
			}
			p[k] += t * d
			gp[k] += t * (gq[k] - gp[k])
		}
	}
	// Round: the permutation closest to P maximises <P, Q>.
	for k := range p {
		cost[k] = -p[k]
	}
	q.lap.solve(h, cost, sigma)
	for r, c := range sigma {
		pi[c] = r
	}
	return pi
}

// swapState is the 2-opt bookkeeping for a permutation pi: with
// B[i,j] = W2[pi i, pi j], G[i] = F2[pi i] and A = W1, it holds
// M = A B^T, N = A^T B and K = F1 G^T. The change of the cost when units u
// and v swap partners is then O(1) (delta), and a swap updates B, G, M, N
// and K in O(H^2) (swap).
type swapState struct {
	q        *qap
	pi       []int
	b, g     []float64 // (H, H), (H, m)
	m, n, k  []float64 // (H, H); k nil without TieIO
	col, row []float64 // (H) scratch: B[:, v] - B[:, u], B[v, :] - B[u, :]
	cu, ru   []float64 // (H) scratch: A[:, u] - A[:, v], A[u, :] - A[v, :]
}

func (q *qap) newSwapState(pi []int) *swapState {
	h := q.h
	s := &swapState{q: q, pi: pi, b: make([]float64, h*h), m: make([]float64, h*h), n: make([]float64, h*h),
		col: make([]float64, h), row: make([]float64, h), cu: make([]float64, h), ru: make([]float64, h)}
	if q.f1 != nil {
		s.k = make([]float64, h*h)
		s.g = make([]float64, h*q.m)
	}
	s.recompute()
	return s
}

// recompute rebuilds B, G, M, N, K from pi exactly.
func (s *swapState) recompute() {
	q, h := s.q, s.q.h
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			s.b[i*h+j] = q.b[s.pi[i]*h+s.pi[j]]
		}
		if s.g != nil {
			copy(s.g[i*q.m:(i+1)*q.m], q.f2[s.pi[i]*q.m:(s.pi[i]+1)*q.m])
		}
	}
	gemm(blas.NoTrans, blas.Trans, h, h, h, q.a, s.b, s.m)
	gemm(blas.Trans, blas.NoTrans, h, h, h, q.a, s.b, s.n)
	if s.k != nil {
		gemm(blas.NoTrans, blas.Trans, h, h, q.m, q.f1, s.g, s.k)
	}
}

// delta returns the change of the cost if units u and v swap partners:
//
//	2 [ M_uu - M_uv - M_vu + M_vv + N_uu - N_uv - N_vu + N_vv + K_uu - K_uv - K_vu + K_vv
//	    - (A_uu - A_vu)(B_uu - B_vu) - (A_uv - A_vv)(B_uv - B_vv)
//	    - (A_uu - A_uv)(B_uu - B_uv) - (A_vu - A_vv)(B_vu - B_vv)
//	    + (A_uu - A_vv)(B_uu - B_vv) + (A_uv - A_vu)(B_uv - B_vu) ]
//
// The M and N terms count rows and columns u, v over all j; the next two
// lines remove their j in {u, v} entries and the last adds the 2x2 corner.
func (s *swapState) delta(u, v int) float64 {
	h := s.q.h
	a, b, m, n := s.q.a, s.b, s.m, s.n
	uu, uv, vu, vv := u*h+u, u*h+v, v*h+u, v*h+v
	d := m[uu] - m[uv] - m[vu] + m[vv] + n[uu] - n[uv] - n[vu] + n[vv]
	if s.k != nil {
		d += s.k[uu] - s.k[uv] - s.k[vu] + s.k[vv]
	}
	d += -(a[uu]-a[vu])*(b[uu]-b[vu]) - (a[uv]-a[vv])*(b[uv]-b[vv]) -
		(a[uu]-a[uv])*(b[uu]-b[uv]) - (a[vu]-a[vv])*(b[vu]-b[vv]) +
		(a[uu]-a[vv])*(b[uu]-b[vv]) + (a[uv]-a[vu])*(b[uv]-b[vu])
	return 2 * d
}

// swap exchanges the partners of units u and v. With S the transposition
// (u v): B' = S B S, M' = (A S) B^T S, N' = (A^T S) B S, K' = K S and
// G' = S G. A S - A is nonzero only in columns u and v, so each update is a
// rank-one correction followed by a column swap.
func (s *swapState) swap(u, v int) {
	q, h := s.q, s.q.h
	a, b, m, n := q.a, s.b, s.m, s.n
	for y := 0; y < h; y++ {
		s.col[y] = b[y*h+v] - b[y*h+u]
		s.row[y] = b[v*h+y] - b[u*h+y]
		s.cu[y] = a[y*h+u] - a[y*h+v]
		s.ru[y] = a[u*h+y] - a[v*h+y]
	}
	// M1 = M + cu col^T, N1 = N + ru row^T, then swap columns u and v.
	blas64.Ger(1, blas64.Vector{N: h, Inc: 1, Data: s.cu}, blas64.Vector{N: h, Inc: 1, Data: s.col},
		blas64.General{Rows: h, Cols: h, Stride: h, Data: m})
	blas64.Ger(1, blas64.Vector{N: h, Inc: 1, Data: s.ru}, blas64.Vector{N: h, Inc: 1, Data: s.row},
		blas64.General{Rows: h, Cols: h, Stride: h, Data: n})
	for x := 0; x < h; x++ {
		m[x*h+u], m[x*h+v] = m[x*h+v], m[x*h+u]
		n[x*h+u], n[x*h+v] = n[x*h+v], n[x*h+u]
		if s.k != nil {
			s.k[x*h+u], s.k[x*h+v] = s.k[x*h+v], s.k[x*h+u]
		}
	}
	for y := 0; y < h; y++ {
		b[u*h+y], b[v*h+y] = b[v*h+y], b[u*h+y]
	}
	for x := 0; x < h; x++ {
		b[x*h+u], b[x*h+v] = b[x*h+v], b[x*h+u]
	}
	if s.g != nil {
		for c := 0; c < q.m; c++ {
			s.g[u*q.m+c], s.g[v*q.m+c] = s.g[v*q.m+c], s.g[u*q.m+c]
		}
	}
	s.pi[u], s.pi[v] = s.pi[v], s.pi[u]
}

// descend swaps the partners of two units while that lowers the cost by
// more than tol (first improvement, sweeping all pairs), appends the swaps
// made to log and returns it with the total change of the cost.
func (s *swapState) descend(tol float64, log [][2]int) ([][2]int, float64) {
	h := s.q.h
	var total float64
	for sweep := 0; sweep < 10*h; sweep++ {
		improved := false
		for u := 0; u < h; u++ {
			for v := u + 1; v < h; v++ {
				if d := s.delta(u, v); d < -tol {
					s.swap(u, v)
					log = append(log, [2]int{u, v})
					total += d
					improved = true
				}
			}
		}
		if !improved {
			break
		}
	}
	return log, total
}

// descendFrom is descend restricted to pairs that involve an active unit:
// it starts with the units in active, and every swap made activates both
// units again ("don't look bits"), so a search after a small perturbation
// costs O(H) per active unit instead of O(H^2) per sweep.
func (s *swapState) descendFrom(tol float64, log [][2]int, active []int) ([][2]int, float64) {
	h := s.q.h
	queued := make([]bool, h)
	for _, u := range active {
		queued[u] = true
	}
	var total float64
	for steps := 0; len(active) > 0 && steps < 100*h; steps++ {
		u := active[len(active)-1]
		active = active[:len(active)-1]
		queued[u] = false
		for v := 0; v < h; v++ {
			if v == u {
				continue
			}
			if d := s.delta(min(u, v), max(u, v)); d < -tol {
				s.swap(min(u, v), max(u, v))
				log = append(log, [2]int{min(u, v), max(u, v)})
				total += d
				for _, w := range [2]int{v, u} {
					if !queued[w] {
						queued[w] = true
						active = append(active, w)
					}
				}
				break
			}
		}
	}
	return log, total
}

// touched returns the distinct units of the last n swaps of log.
func touched(log [][2]int, n int) []int {
	var out []int
	for _, p := range log[len(log)-n:] {
		for _, u := range p {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// twoOpt improves pi in place by swapping the partners of two units while
// that lowers the cost, until no swap does, and returns the search state.
// The incremental products may carry rounding drift; iteratedLocalSearch
// recomputes them exactly before it stops.
func (q *qap) twoOpt(pi []int) *swapState {
	s := q.newSwapState(pi)
	s.descend(q.tol(), nil)
	return s
}

// tol is the smallest cost change a local search acts on.
func (q *qap) tol() float64 { return 1e-12 * (q.scale + 1e-300) }

// iteratedLocalSearch improves the 2-opt local optimum held by s with kicks
// rounds of iterated local search: swap kickSize random pairs, descend
// again from the units touched, and keep the result only if the cost went
// down; otherwise restore the saved state (a copy is cheaper than undoing
// the swaps one by one).
func (q *qap) iteratedLocalSearch(s *swapState, kicks int, rng *rand.Rand) {
	h := q.h
	if h < 3 || kicks <= 0 {
		return
	}
	kickSize := min(3, h/2)
	tol := q.tol()
	saved := s.clone()
	var log [][2]int
	for it := 0; it < kicks; it++ {
		log = log[:0]
		var change float64
		for k := 0; k < kickSize; k++ {
			u, v := rng.IntN(h), rng.IntN(h-1)
			if v >= u {
				v++
			}
			change += s.delta(min(u, v), max(u, v))
			s.swap(min(u, v), max(u, v))
			log = append(log, [2]int{u, v})
		}
		var down float64
		log, down = s.descendFrom(tol, log, touched(log, kickSize))
		if change+down < -tol {
			if it%64 == 63 {
				s.recompute()
			}
			saved.copyFrom(s) // keep the better permutation
			continue
		}
		s.copyFrom(saved)
	}
	s.recompute()
	for {
		log, _ := s.descend(tol, nil)
		if len(log) == 0 {
			return
		}
		s.recompute()
	}
}

// clone returns a deep copy of s.
func (s *swapState) clone() *swapState {
	c := *s
	c.pi = slices.Clone(s.pi)
	c.b, c.m, c.n = slices.Clone(s.b), slices.Clone(s.m), slices.Clone(s.n)
	c.k, c.g = slices.Clone(s.k), slices.Clone(s.g)
	c.col, c.row, c.cu, c.ru = slices.Clone(s.col), slices.Clone(s.row), slices.Clone(s.cu), slices.Clone(s.ru)
	return &c
}

// copyFrom overwrites s's permutation and products with src's.
func (s *swapState) copyFrom(src *swapState) {
	copy(s.pi, src.pi)
	copy(s.b, src.b)
	copy(s.m, src.m)
	copy(s.n, src.n)
	copy(s.k, src.k)
	copy(s.g, src.g)
}

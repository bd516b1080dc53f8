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
	// Runs is the number of independent searches from the best start,
	// each a simulated annealing followed by robust tabu search; the best
	// of them is the result (0: DefaultPermRuns(H)). Trained networks have
	// deep funnels far apart, which annealing finds and tabu search alone
	// does not leave; within a funnel tabu search finds much better
	// permutations than annealing in the same time. Several runs make the
	// result stable across seeds.
	Runs int
	// AnnealMoves is the length of each run's annealing in proposed swaps
	// per unit (AnnealMoves*H proposals of O(H) each; 0: no annealing).
	AnnealMoves int
	// TabuIters is the number of tabu search iterations of each run (each
	// scans all H(H-1)/2 swaps).
	TabuIters int
	// Seed seeds the random starts and the runs.
	Seed uint64
}

// DefaultPermOptions are the options the command line uses by default:
// with them a run costs O(H^2) (a pair of trained networks took about
// 0.2 s at H=32, 0.4 s at H=64 and 0.65 s at H=128 of one loaded core),
// and every trained-network pair measured came out at or below scipy's FAQ,
// best of 62 runs (bench/RESULTS.md, "Distances you can trust").
func DefaultPermOptions() PermOptions {
	return PermOptions{Restarts: 0, MaxIter: 3, AnnealMoves: 4000, TabuIters: 4000, Seed: 1}
}

// DefaultPermRuns returns the runs used when PermOptions.Runs is 0:
// 256/H, from 2 to 8 (8 up to H=32, 4 at H=64). Small networks need more runs
// (their funnels lie further apart relative to the distance) and each run
// costs less.
func DefaultPermRuns(h int) int {
	return max(2, min(8, 256/max(h, 1)))
}

// PermResult is the outcome of PermutationDistance.
type PermResult struct {
	// Distance is ||W1 - P^T W2 P||_F at the permutation found (with TieIO the
	// square root of the tied objective), divided by H^2 when normalised.
	Distance float64 `json:"distance"`
	// Perm matches unit i of the first network with unit Perm[i] of the
	// second: (P^T W2 P)[i,j] = W2[Perm[i], Perm[j]].
	Perm []int `json:"permutation"`
	// Runs is the number of independent searches and RunsAtBest how many
	// of them ended at the best value (within 1e-9, relative): few means
	// the value may still be above the minimum.
	Runs       int `json:"runs"`
	RunsAtBest int `json:"runs_at_best"`
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
// The solver has three stages.
//
//  1. Starts. Frank–Wolfe on the relaxation of f to doubly stochastic P
//     (after Vogelstein et al. 2015, "FAQ", for non-symmetric matrices):
//     the gradient is G(P) = W2 P W1^T + W2^T P W1 + L, the linear step a
//     linear assignment (LinearAssignment), the step length the exact
//     maximum of the quadratic along the step; from the barycentre J/H and
//     Restarts random doubly stochastic matrices, each rounded to the
//     nearest permutation. A "signature" start matches units by the sorted
//     values of their rows and columns, which recovers planted
//     permutations directly. The best start is polished by 2-opt.
//  2. Runs (Runs of them, each from that start): simulated annealing
//     (AnnealMoves*H proposed swaps, temperature from 0.3 to 0.02 times
//     the mean cost change of a random swap) finds the funnel, then robust
//     tabu search (TabuIters iterations, Taillard 1991) descends it; each
//     swap's cost change is O(1) from maintained products (swapState).
//  3. The best run, polished by 2-opt, is the result; PermResult says how
//     many runs reached it.
//
// It is a heuristic: the value is an upper bound of the true minimum.
// Both networks must have the same H; negative counts are an error.
func PermutationDistance(w1, w2 NetWeights, opts PermOptions) (PermResult, error) {
	q, err := newQAP(w1, w2, opts.TieIO)
	if err != nil {
		return PermResult{}, err
	}
	if opts.Restarts < 0 || opts.Runs < 0 || opts.AnnealMoves < 0 || opts.TabuIters < 0 {
		return PermResult{}, fmt.Errorf("permutation distance: restarts, runs, anneal moves and tabu iterations must be >= 0, got %d, %d, %d and %d",
			opts.Restarts, opts.Runs, opts.AnnealMoves, opts.TabuIters)
	}
	if opts.MaxIter <= 0 {
		opts.MaxIter = DefaultPermOptions().MaxIter
	}
	res := q.solve(opts)
	d := math.Sqrt(max(res.cost, 0))
	if opts.Normalize {
		d /= float64(q.h * q.h)
	}
	return PermResult{Distance: d, Perm: res.pi, Runs: res.runs, RunsAtBest: res.atBest}, nil
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
	b, bt  []float64 // (H, H) W2 and its transpose
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
	q.bt = transpose(q.b, h, h)
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

// solution is what solve found.
type solution struct {
	pi           []int
	cost         float64
	runs, atBest int
}

// solve runs every start, then the independent runs from the best of
// them, and returns the best permutation found.
func (q *qap) solve(opts PermOptions) solution {
	h := q.h
	cands := [][]int{q.signatureStart()}
	bary := make([]float64, h*h)
	for k := range bary {
		bary[k] = 1 / float64(h)
	}
	cands = append(cands, q.frankWolfe(bary, q.gradBarycentre(), opts.MaxIter))
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(h)))
	for r := 0; r < opts.Restarts; r++ {
		cands = append(cands, q.frankWolfe(randomDoublyStochastic(h, rng), nil, opts.MaxIter))
	}
	var start *swapState
	for _, pi := range cands {
		if start == nil || q.cost(pi) < q.cost(start.pi) {
			start = q.newSwapState(pi)
		}
	}
	q.polish(start)
	runs := opts.Runs
	if runs == 0 {
		runs = DefaultPermRuns(h)
	}
	if h < 3 || opts.AnnealMoves == 0 && opts.TabuIters == 0 {
		return solution{pi: start.pi, cost: q.cost(start.pi), runs: 1, atBest: 1}
	}
	scale := q.swapScale(start, 1000, rng)
	var best []int
	costs := make([]float64, runs)
	for r := range costs {
		s := start.clone()
		if opts.AnnealMoves > 0 && scale > 0 {
			q.anneal(s, opts.AnnealMoves*h, 0.3*scale, 0.02*scale, rng)
		}
		q.tabuSearch(s, opts.TabuIters, rng)
		q.polish(s)
		costs[r] = q.cost(s.pi)
		if best == nil || costs[r] < q.cost(best) {
			best = s.pi
		}
	}
	lo := slices.Min(costs)
	atBest := 0
	for _, c := range costs {
		if c <= lo+1e-9*max(lo, q.tol()) {
			atBest++
		}
	}
	return solution{pi: best, cost: lo, runs: runs, atBest: atBest}
}

// polish runs 2-opt on s to a local optimum, recomputing the products
// exactly between rounds so that rounding drift cannot fake a gain.
func (q *qap) polish(s *swapState) {
	for {
		s.recompute()
		if log, _ := s.descend(q.tol(), nil); len(log) == 0 {
			return
		}
	}
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

// swapState is the local-search bookkeeping for a permutation pi: with
// B[i,j] = W2[pi i, pi j], G[i] = F2[pi i] and A = W1 it holds
// S = A B^T + A^T B + F1 G^T and its transpose. The change of the cost when
// units u and v swap partners is then O(1) (delta) from rows u of S, S^T,
// A, A^T, B and B^T, and a swap updates B, G, S and S^T in O(H^2) (swap).
type swapState struct {
	q        *qap
	pi       []int
	b, bt, g []float64 // (H, H) B and B^T, (H, m) G (nil without TieIO)
	s, st    []float64 // (H, H) S and S^T
	col, row []float64 // (H) scratch: B[:, v] - B[:, u], B[v, :] - B[u, :]
	cu, ru   []float64 // (H) scratch: A[:, u] - A[:, v], A[u, :] - A[v, :]
}

func (q *qap) newSwapState(pi []int) *swapState {
	h := q.h
	s := &swapState{q: q, pi: slices.Clone(pi), b: make([]float64, h*h), bt: make([]float64, h*h),
		s: make([]float64, h*h), st: make([]float64, h*h),
		col: make([]float64, h), row: make([]float64, h), cu: make([]float64, h), ru: make([]float64, h)}
	if q.f1 != nil {
		s.g = make([]float64, h*q.m)
	}
	s.recompute()
	return s
}

// recompute rebuilds B, B^T, G, S and S^T from pi exactly.
func (s *swapState) recompute() {
	q, h := s.q, s.q.h
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			s.b[i*h+j] = q.b[s.pi[i]*h+s.pi[j]]
			s.bt[j*h+i] = s.b[i*h+j]
		}
		if s.g != nil {
			copy(s.g[i*q.m:(i+1)*q.m], q.f2[s.pi[i]*q.m:(s.pi[i]+1)*q.m])
		}
	}
	gemm(blas.NoTrans, blas.Trans, h, h, h, q.a, s.b, s.s)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, blas64.General{Rows: h, Cols: h, Stride: h, Data: q.a},
		blas64.General{Rows: h, Cols: h, Stride: h, Data: s.b}, 1, blas64.General{Rows: h, Cols: h, Stride: h, Data: s.s})
	if s.g != nil {
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, blas64.General{Rows: h, Cols: q.m, Stride: q.m, Data: q.f1},
			blas64.General{Rows: h, Cols: q.m, Stride: q.m, Data: s.g}, 1, blas64.General{Rows: h, Cols: h, Stride: h, Data: s.s})
	}
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			s.st[j*h+i] = s.s[i*h+j]
		}
	}
}

// delta returns the change of the cost if units u and v swap partners:
//
//	2 [ S_uu - S_uv - S_vu + S_vv
//	    - (A_uu - A_vu)(B_uu - B_vu) - (A_uv - A_vv)(B_uv - B_vv)
//	    - (A_uu - A_uv)(B_uu - B_uv) - (A_vu - A_vv)(B_vu - B_vv)
//	    + (A_uu - A_vv)(B_uu - B_vv) + (A_uv - A_vu)(B_uv - B_vu) ]
//
// The S terms count rows and columns u, v over all j; the next two lines
// remove their j in {u, v} entries and the last adds the 2x2 corner.
func (s *swapState) delta(u, v int) float64 {
	h := s.q.h
	return swapDelta(s.s[u*h+u], s.s[v*h+v], s.s[u*h+v], s.st[u*h+v],
		s.q.a[u*h+u], s.q.a[v*h+v], s.q.a[u*h+v], s.q.at[u*h+v],
		s.b[u*h+u], s.b[v*h+v], s.b[u*h+v], s.bt[u*h+v])
}

// swapDelta is delta from its twelve entries: the diagonal entries uu and
// vv, and uv and vu (read from the transposes' rows u), of S, A and B.
func swapDelta(suu, svv, suv, svu, auu, avv, auv, avu, buu, bvv, buv, bvu float64) float64 {
	d := suu - suv - svu + svv
	d += -(auu-avu)*(buu-bvu) - (auv-avv)*(buv-bvv) -
		(auu-auv)*(buu-buv) - (avu-avv)*(bvu-bvv) +
		(auu-avv)*(buu-bvv) + (auv-avu)*(buv-bvu)
	return 2 * d
}

// swap exchanges the partners of units u and v. With T the transposition
// (u v): B' = T B T, S' = S1 T with S1 = S + (A T - A) B^T + (A^T T - A^T) B
// (the tied term F1 G'^T = F1 G^T T needs no correction), and S'^T =
// T S1^T. A T - A is nonzero only in columns u and v, so each correction is
// rank one, followed by a column swap (a row swap for S^T).
func (s *swapState) swap(u, v int) {
	q, h := s.q, s.q.h
	a, b := q.a, s.b
	for y := 0; y < h; y++ {
		s.col[y] = b[y*h+v] - b[y*h+u]
		s.row[y] = b[v*h+y] - b[u*h+y]
		s.cu[y] = a[y*h+u] - a[y*h+v]
		s.ru[y] = a[u*h+y] - a[v*h+y]
	}
	vec := func(x []float64) blas64.Vector { return blas64.Vector{N: h, Inc: 1, Data: x} }
	S := blas64.General{Rows: h, Cols: h, Stride: h, Data: s.s}
	St := blas64.General{Rows: h, Cols: h, Stride: h, Data: s.st}
	blas64.Ger(1, vec(s.cu), vec(s.col), S)
	blas64.Ger(1, vec(s.ru), vec(s.row), S)
	blas64.Ger(1, vec(s.col), vec(s.cu), St)
	blas64.Ger(1, vec(s.row), vec(s.ru), St)
	for x := 0; x < h; x++ {
		s.s[x*h+u], s.s[x*h+v] = s.s[x*h+v], s.s[x*h+u]
	}
	su, sv := s.st[u*h:(u+1)*h], s.st[v*h:(v+1)*h]
	for y := range su {
		su[y], sv[y] = sv[y], su[y]
	}
	for _, m := range [][]float64{s.b, s.bt} {
		for y := 0; y < h; y++ {
			m[u*h+y], m[v*h+y] = m[v*h+y], m[u*h+y]
		}
		for x := 0; x < h; x++ {
			m[x*h+u], m[x*h+v] = m[x*h+v], m[x*h+u]
		}
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

// tol is the smallest cost change a local search acts on.
func (q *qap) tol() float64 { return 1e-12 * (q.scale + 1e-300) }

// clone returns a deep copy of s.
func (s *swapState) clone() *swapState {
	c := *s
	c.pi = slices.Clone(s.pi)
	c.b, c.bt, c.g = slices.Clone(s.b), slices.Clone(s.bt), slices.Clone(s.g)
	c.s, c.st = slices.Clone(s.s), slices.Clone(s.st)
	c.col, c.row, c.cu, c.ru = slices.Clone(s.col), slices.Clone(s.row), slices.Clone(s.cu), slices.Clone(s.ru)
	return &c
}

// anneal runs simulated annealing from the permutation held by s: n
// proposals of a random swap, each accepted when it lowers the cost or
// with probability exp(-delta/T), T falling geometrically from t0 to t1.
// Many proposals are accepted while it is hot, so it works on the
// permutation alone (an O(H) delta, an O(1) swap; see pairDelta) rather
// than on s's products (O(1) delta, O(H^2) swap). It leaves s at the best
// permutation it visited.
func (q *qap) anneal(s *swapState, n int, t0, t1 float64, rng *rand.Rand) {
	h := q.h
	if h < 2 || n <= 0 {
		return
	}
	pi := s.pi
	cur := q.cost(pi)
	best, bestPi := cur, slices.Clone(pi)
	cool := math.Pow(t1/t0, 1/float64(n))
	t := t0
	for it := 0; it < n; it++ {
		u, v := rng.IntN(h), rng.IntN(h-1)
		if v >= u {
			v++
		}
		d := q.pairDelta(pi, u, v)
		if d < 0 || rng.Float64() < math.Exp(-d/t) {
			pi[u], pi[v] = pi[v], pi[u]
			cur += d
			if cur < best {
				best = cur
				copy(bestPi, pi)
			}
		}
		t *= cool
	}
	copy(pi, bestPi)
	s.recompute()
}

// pairDelta returns the change of the cost if units u and v swap partners
// in pi, in O(H) from W1, W2 and their transposes. With B[i,j] =
// W2[pi i, pi j] the cost is constant - 2 sum_ij A_ij B_ij (- 2 sum_i
// F1_i . F2_(pi i)), and the swap changes rows and columns u and v of B:
//
//	delta = -2 [ sum_{j != u,v} (A_uj - A_vj)(B_vj - B_uj) + (A_ju - A_jv)(B_jv - B_ju)
//	             + (A_uu - A_vv)(B_vv - B_uu) + (A_uv - A_vu)(B_vu - B_uv)
//	             + L[pi v, u] + L[pi u, v] - L[pi u, u] - L[pi v, v] ].
func (q *qap) pairDelta(pi []int, u, v int) float64 {
	h := q.h
	au, av := q.a[u*h:(u+1)*h], q.a[v*h:(v+1)*h]     // rows u, v of A
	atu, atv := q.at[u*h:(u+1)*h], q.at[v*h:(v+1)*h] // columns u, v of A
	pu, pv := pi[u], pi[v]
	bu, bv := q.b[pu*h:(pu+1)*h], q.b[pv*h:(pv+1)*h]     // rows pi u, pi v of W2
	btu, btv := q.bt[pu*h:(pu+1)*h], q.bt[pv*h:(pv+1)*h] // columns pi u, pi v of W2
	au, av, atu, atv = au[:len(pi)], av[:len(pi)], atu[:len(pi)], atv[:len(pi)]
	term := func(j, pj int) float64 {
		return (au[j]-av[j])*(bv[pj]-bu[pj]) + (atu[j]-atv[j])*(btv[pj]-btu[pj])
	}
	var sum float64
	for j, pj := range pi {
		sum += term(j, pj)
	}
	sum -= term(u, pu) + term(v, pv) // j = u, v belong to the corner
	sum += (au[u]-av[v])*(bv[pv]-bu[pu]) + (au[v]-av[u])*(bv[pu]-bu[pv])
	if q.lin != nil {
		sum += q.lin[pv*h+u] + q.lin[pu*h+v] - q.lin[pu*h+u] - q.lin[pv*h+v]
	}
	return -2 * sum
}

// swapScale returns the mean absolute cost change of m random swaps at the
// permutation held by s, the natural temperature unit of anneal.
func (q *qap) swapScale(s *swapState, m int, rng *rand.Rand) float64 {
	h := q.h
	var sum float64
	for k := 0; k < m; k++ {
		u, v := rng.IntN(h), rng.IntN(h-1)
		if v >= u {
			v++
		}
		sum += math.Abs(s.delta(min(u, v), max(u, v)))
	}
	return sum / float64(m)
}

// tabuSearch runs robust tabu search (after Taillard's 1991 code) from
// the permutation held by s for iters iterations. Each iteration makes the
// best allowed swap even if it raises the cost. A swap is forbidden when
// both units would return to partners they left less than a random tenure
// ago (the cube of a uniform times 8H); it is forced (aspiration) when both
// units have not held the offered partners for 5H^2 iterations, or when it
// reaches a new best. It leaves s at the best permutation visited.
func (q *qap) tabuSearch(s *swapState, iters int, rng *rand.Rand) {
	h := q.h
	if h < 2 || iters <= 0 {
		return
	}
	tabu := make([]int, h*h) // tabu[u*h+p]: until when unit u may not take partner p back
	for k := range tabu {
		tabu[k] = -k
	}
	duration := float64(8 * h)
	aspiration := 5 * h * h
	cur := q.cost(s.pi)
	bestCost, bestPi := cur, slices.Clone(s.pi)
	tol := q.tol()
	aDiag, sDiag, bDiag := make([]float64, h), make([]float64, h), make([]float64, h)
	for v := range aDiag {
		aDiag[v] = q.a[v*h+v]
	}
	for it := 1; it <= iters; it++ {
		for v := range sDiag {
			sDiag[v], bDiag[v] = s.s[v*h+v], s.b[v*h+v]
		}
		mu, mv, md := -1, -1, math.Inf(1) // the move chosen and its delta
		aspired := false
		// No entry is older than it - aspiration before this iteration, so
		// until then only a new best can aspire: a swap no better than the
		// chosen one that does not reach a new best is skipped unread.
		ageAspires := it-aspiration > -h*h
		newBest := bestCost - tol - cur // d below this reaches a new best
		for u := 0; u < h; u++ {
			su, stu := s.s[u*h:(u+1)*h], s.st[u*h:(u+1)*h]
			au, atu := q.a[u*h:(u+1)*h], q.at[u*h:(u+1)*h]
			bu, btu := s.b[u*h:(u+1)*h], s.bt[u*h:(u+1)*h]
			tabuU, piU := tabu[u*h:(u+1)*h], s.pi[u]
			for v := u + 1; v < h; v++ {
				d := swapDelta(su[u], sDiag[v], su[v], stu[v], au[u], aDiag[v], au[v], atu[v], bu[u], bDiag[v], bu[v], btu[v])
				if d >= md && (aspired || !ageAspires && d >= newBest) {
					continue
				}
				tu, tv := tabuU[s.pi[v]], tabu[v*h+piU]
				allowed := tu < it || tv < it
				asp := (tu < it-aspiration && tv < it-aspiration) || cur+d < bestCost-tol
				if (asp && !aspired) || (asp && d < md) || (!asp && !aspired && allowed && d < md) {
					mu, mv, md = u, v, d
					aspired = aspired || asp
				}
			}
		}
		if mu < 0 {
			continue
		}
		r := rng.Float64()
		tabu[mu*h+s.pi[mu]] = it + int(r*r*r*duration)
		r = rng.Float64()
		tabu[mv*h+s.pi[mv]] = it + int(r*r*r*duration)
		s.swap(mu, mv)
		cur += md
		if it%(8*h) == 0 {
			s.recompute()
			cur = q.cost(s.pi)
		}
		if cur < bestCost-tol {
			bestCost = cur
			copy(bestPi, s.pi)
		}
	}
	copy(s.pi, bestPi)
	s.recompute()
}

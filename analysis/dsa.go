package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Scores of DSA: both are computed on Frobenius-normalised operators
// Ax = A_x/||A_x||_F and Ay = A_y/||A_y||_F with the best orthogonal C:
//
//	angular:   arccos(tr(Ax^T C Ay C^T))  in [0, pi]
//	euclidean: ||Ax - C Ay C^T||_F = sqrt(2 - 2 cos(angular))  in [0, 2]
const (
	ScoreAngular   = "angular"
	ScoreEuclidean = "euclidean"
)

// DSAOptions configure Dynamical Similarity Analysis. Every network of one
// comparison must use the same Delays and Rank.
type DSAOptions struct {
	Delays   int    // n_delays of the delay embedding (interval 1), at least 1
	Rank     int    // columns of V kept for the HAVOK operator, at least 1
	Score    string // ScoreAngular (default when empty) or ScoreEuclidean
	Restarts int    // random starts per component of O(n) (0: DefaultRestarts(Rank); negative: none, only the spectral, Schur and signed-permutation starts)
	Seed     uint64 // seed of the random starts and the null's trial splits
}

// check returns an error for options no data can satisfy.
func (o DSAOptions) check() error {
	if o.Delays < 1 {
		return fmt.Errorf("dsa: delays must be at least 1, got %d", o.Delays)
	}
	if o.Rank < 1 {
		return fmt.Errorf("dsa: rank must be at least 1, got %d", o.Rank)
	}
	switch o.Score {
	case "", ScoreAngular, ScoreEuclidean:
	default:
		return fmt.Errorf("dsa: score must be %q or %q, got %q", ScoreAngular, ScoreEuclidean, o.Score)
	}
	return nil
}

// Operator is the HAVOK one-step operator of one network's trajectories.
//
// With the delay embedding (Hankel matrix) H, (K*T', n*D) for K trials of
// T' = T - D + 1 rows each, row (k, t) = [x_{k,t+D-1}, x_{k,t+D-2}, ...,
// x_{k,t}] (as mitchellostrow/DSA orders it; no centring, no scaling), and
// its thin SVD H = V S U^T, the operator is the least-squares fit within
// trials of the first Rank columns of V one step ahead:
//
//	A = argmin_A sum_k sum_{t<T'-1} ||V_r[k,t+1] - A V_r[k,t]||^2,  (r, r)
//
// which is A_v of the reference implementation (compared there after
// Frobenius normalisation). The signs of V's columns are arbitrary, which
// changes A by an orthogonal similarity that DSA ignores.
type Operator struct {
	A              *mat.Dense // (r, r) the HAVOK operator A_v
	Rank           int        // r
	SingularValues []float64  // the leading r singular values of H, descending
}

// FitOperator fits the HAVOK operator of one network's trajectories traj,
// (K, T, n) row-major: K trials of T steps of n units. It returns an error
// when the data are not finite, when the trials are too short for the
// delays (T - Delays + 1 < 2), or when Rank exceeds what the embedding
// allows (n*Delays columns, K*(T - Delays) one-step pairs, or the numerical
// rank of H: sigma_r <= 1e-7 sigma_1).
func FitOperator(traj []float64, K, T, n int, opt DSAOptions) (*Operator, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if K < 1 || T < 1 || n < 1 {
		return nil, fmt.Errorf("dsa: trajectories need positive sizes, got K=%d trials, T=%d steps, n=%d units", K, T, n)
	}
	if len(traj) != K*T*n {
		return nil, fmt.Errorf("dsa: trajectories have %d values, want K*T*n = %d*%d*%d = %d", len(traj), K, T, n, K*T*n)
	}
	if err := CheckFinite("dsa: trajectories", traj); err != nil {
		return nil, err
	}
	D, r := opt.Delays, opt.Rank
	tp := T - D + 1 // rows of the embedding per trial
	if tp < 2 {
		return nil, fmt.Errorf("dsa: %d delays need trials longer than %d steps, got T=%d", D, D, T)
	}
	cols := n * D
	if r > cols {
		return nil, fmt.Errorf("dsa: rank %d exceeds the embedding dimension n*delays = %d*%d = %d", r, n, D, cols)
	}
	if r > K*(tp-1) {
		return nil, fmt.Errorf("dsa: rank %d exceeds the %d one-step pairs of %d trials of %d embedded steps", r, K*(tp-1), K, tp)
	}
	v, sv, err := leadingRightVectors(traj, K, T, n, D, r)
	if err != nil {
		return nil, err
	}
	// Least squares V_minus X = V_plus within trials, A = X^T.
	vm := mat.NewDense(K*(tp-1), r, nil)
	vp := mat.NewDense(K*(tp-1), r, nil)
	for k := 0; k < K; k++ {
		for t := 0; t < tp-1; t++ {
			i := k*(tp-1) + t
			vm.SetRow(i, v.RawRowView(k*tp+t))
			vp.SetRow(i, v.RawRowView(k*tp+t+1))
		}
	}
	var x mat.Dense
	if err := x.Solve(vm, vp); err != nil {
		return nil, fmt.Errorf("dsa: one-step least squares at rank %d: %w", r, err)
	}
	a := mat.DenseCopyOf(x.T())
	if err := CheckFinite("dsa: operator", a.RawMatrix().Data); err != nil {
		return nil, err
	}
	if frobenius(a) == 0 {
		return nil, fmt.Errorf("dsa: the fitted operator is zero")
	}
	return &Operator{A: a, Rank: r, SingularValues: sv}, nil
}

// hankel returns the delay embedding of traj (K, T, n) with D delays,
// (K*(T-D+1), n*D): row (k, t), column block d holds x_{k, t+D-1-d}.
func hankel(traj []float64, K, T, n, D int) []float64 {
	tp := T - D + 1
	cols := n * D
	h := make([]float64, K*tp*cols)
	for k := 0; k < K; k++ {
		for t := 0; t < tp; t++ {
			row := h[(k*tp+t)*cols : (k*tp+t+1)*cols]
			for d := 0; d < D; d++ {
				src := (k*T + t + D - 1 - d) * n
				copy(row[d*n:(d+1)*n], traj[src:src+n])
			}
		}
	}
	return h
}

// leadingRightVectors returns the first r columns of V, (K*T', r), and the
// leading r singular values of the delay embedding H = V S U^T of traj
// (see hankel), from an eigendecomposition of the smaller Gram matrix:
// H^T H = U S^2 U^T gives V_r = H U_r S_r^{-1}; H H^T = V S^2 V^T gives V_r
// directly. It returns an error when sigma_r <= 1e-7 sigma_1 (the Gram
// matrix resolves singular values down to about 1e-8 sigma_1).
func leadingRightVectors(traj []float64, K, T, n, D, r int) (*mat.Dense, []float64, error) {
	tp := T - D + 1
	rows, cols := K*tp, n*D
	var (
		g     []float64
		small int
		h     []float64
	)
	if cols <= rows {
		small = cols
		g = hankelGram(traj, K, T, n, D)
	} else {
		small = rows
		h = hankel(traj, K, T, n, D)
		H := blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: h}
		g = make([]float64, rows*rows)
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, H, H, 0, blas64.General{Rows: rows, Cols: rows, Stride: rows, Data: g})
	}
	vals, lead, err := topEigen(g, small, r)
	if err != nil {
		return nil, nil, err
	}
	sv := make([]float64, r)
	for i := 0; i < r; i++ {
		sv[i] = math.Sqrt(math.Max(0, vals[i]))
	}
	if sv[0] == 0 {
		return nil, nil, fmt.Errorf("dsa: the trajectories are all zero")
	}
	if sv[r-1] <= 1e-7*sv[0] {
		return nil, nil, fmt.Errorf("dsa: rank %d exceeds the numerical rank of the delay embedding (sigma_%d/sigma_1 = %.3g)", r, r, sv[r-1]/sv[0])
	}
	if h != nil {
		return lead, sv, nil
	}
	// V_r = H U_r S_r^{-1} without forming H: rows (k, t) of H U_r are
	// sum_d x_{k,t+D-1-d} U_r[d*n:(d+1)*n, :].
	v := mat.NewDense(rows, r, nil)
	vr := v.RawMatrix()
	ur := lead.RawMatrix()
	for k := 0; k < K; k++ {
		dst := blas64.General{Rows: tp, Cols: r, Stride: vr.Stride, Data: vr.Data[k*tp*vr.Stride:]}
		for d := 0; d < D; d++ {
			x := blas64.General{Rows: tp, Cols: n, Stride: n, Data: traj[(k*T+D-1-d)*n:]}
			u := blas64.General{Rows: n, Cols: r, Stride: ur.Stride, Data: ur.Data[d*n*ur.Stride:]}
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, x, u, 1, dst)
		}
	}
	for i := 0; i < r; i++ {
		col := v.ColView(i).(*mat.VecDense)
		col.ScaleVec(1/sv[i], col)
	}
	return v, sv, nil
}

// DSADistance returns the DSA score between two operators of the same rank:
// min over C in O(r) of the opt.Score of A/||A||_F and C B C^T/||B||_F (see
// ScoreAngular, ScoreEuclidean), found by AlignOrthogonal with opt.Restarts
// random starts per component and seed opt.Seed.
func DSADistance(a, b *Operator, opt DSAOptions) (float64, error) {
	fit, err := DSAAlign(a, b, opt)
	if err != nil {
		return 0, err
	}
	if opt.Score == ScoreEuclidean {
		return fit.Distance, nil
	}
	return fit.Angle(), nil
}

// DSAAlign returns the best orthogonal alignment of the Frobenius-normalised
// operators of a and b: fit.Angle() is the angular score and fit.Distance
// the euclidean one.
func DSAAlign(a, b *Operator, opt DSAOptions) (OrthogonalFit, error) {
	if err := opt.check(); err != nil {
		return OrthogonalFit{}, err
	}
	if a == nil || b == nil {
		return OrthogonalFit{}, fmt.Errorf("dsa: nil operator")
	}
	if a.Rank != b.Rank {
		return OrthogonalFit{}, fmt.Errorf("dsa: operators have ranks %d and %d; compare networks at one rank", a.Rank, b.Rank)
	}
	an := mat.NewDense(a.Rank, a.Rank, nil)
	an.Scale(1/frobenius(a.A), a.A)
	bn := mat.NewDense(b.Rank, b.Rank, nil)
	bn.Scale(1/frobenius(b.A), b.A)
	return AlignOrthogonal(an, bn, OrthogonalOptions{Restarts: opt.Restarts, Seed: opt.Seed})
}

// pairSeed mixes a seed with a pair (or network and split) index so every
// pair draws its own random starts whatever the order of the work.
func pairSeed(seed uint64, i, j int) uint64 {
	x := seed ^ (uint64(i)+1)*0x9e3779b97f4a7c15 ^ (uint64(j)+1)*0xc2b2ae3d27d4eb4f
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x
}

// checkTrajectories returns an error naming the first network whose
// trajectories have the wrong length.
func checkTrajectories(trajs [][]float64, K, T, n int) error {
	for s, t := range trajs {
		if len(t) != K*T*n {
			return fmt.Errorf("dsa: network %d has %d values, want K*T*n = %d*%d*%d = %d", s, len(t), K, T, n, K*T*n)
		}
	}
	return nil
}

// FitOperators fits the HAVOK operator of every network, trajs[s] being
// (K, T, n), in parallel over networks.
func FitOperators(trajs [][]float64, K, T, n int, opt DSAOptions) ([]*Operator, error) {
	if err := checkTrajectories(trajs, K, T, n); err != nil {
		return nil, err
	}
	ops := make([]*Operator, len(trajs))
	err := ParallelFor(len(trajs), func(s int) error {
		op, err := FitOperator(trajs[s], K, T, n, opt)
		if err != nil {
			return fmt.Errorf("network %d: %w", s, err)
		}
		ops[s] = op
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ops, nil
}

// DSAMatrix returns the (N, N) DSA score matrix of N networks, trajs[s]
// being network s's trajectories (K, T, n). Operators are fitted once per
// network; pairs run in parallel, each with its own seed derived from
// opt.Seed, so the result does not depend on scheduling. progress, if not
// nil, is called once per finished pair.
func DSAMatrix(trajs [][]float64, K, T, n int, opt DSAOptions, progress ...func()) (*mat.SymDense, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if len(trajs) < 2 {
		return nil, fmt.Errorf("dsa: need at least two networks, got %d", len(trajs))
	}
	ops, err := FitOperators(trajs, K, T, n, opt)
	if err != nil {
		return nil, err
	}
	return DSAOperatorMatrix(ops, opt, progress...)
}

// DSAOperatorMatrix returns the (N, N) DSA score matrix of fitted operators.
// progress, if not nil, is called once per finished pair.
func DSAOperatorMatrix(ops []*Operator, opt DSAOptions, progress ...func()) (*mat.SymDense, error) {
	return Pairwise(len(ops), func(i, j int) (float64, error) {
		o := opt
		o.Seed = pairSeed(opt.Seed, i, j)
		return DSADistance(ops[i], ops[j], o)
	}, progress...)
}

// DSANull returns the null distribution of DSA scores: for each network s
// and split j < splits, the K trials are shuffled (seeded by opt.Seed, s
// and j), divided into two disjoint halves of K/2 trials (one trial left out
// when K is odd), and null[s][j] is the score between the operators of the
// two halves. It measures how far apart one network's dynamics look from
// finite data alone; it needs K >= 2 and a Rank the halves allow.
func DSANull(trajs [][]float64, K, T, n int, opt DSAOptions, splits int) ([][]float64, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if K < 2 {
		return nil, fmt.Errorf("dsa null: need at least 2 trials to split, got %d", K)
	}
	if splits < 1 {
		return nil, fmt.Errorf("dsa null: splits must be at least 1, got %d", splits)
	}
	if err := checkTrajectories(trajs, K, T, n); err != nil {
		return nil, err
	}
	half := K / 2
	null := make([][]float64, len(trajs))
	for s := range null {
		null[s] = make([]float64, splits)
	}
	err := ParallelFor(len(trajs)*splits, func(job int) error {
		s, j := job/splits, job%splits
		seed := pairSeed(opt.Seed, s, -1-j)
		perm := rand.New(rand.NewPCG(seed, 1)).Perm(K)
		var ops [2]*Operator
		for p := 0; p < 2; p++ {
			sub := make([]float64, 0, half*T*n)
			for _, k := range perm[p*half : (p+1)*half] {
				sub = append(sub, trajs[s][k*T*n:(k+1)*T*n]...)
			}
			op, err := FitOperator(sub, half, T, n, opt)
			if err != nil {
				return fmt.Errorf("network %d, split %d, half %d: %w", s, j, p, err)
			}
			ops[p] = op
		}
		o := opt
		o.Seed = seed
		d, err := DSADistance(ops[0], ops[1], o)
		if err != nil {
			return fmt.Errorf("network %d, split %d: %w", s, j, err)
		}
		null[s][j] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return null, nil
}

// SummarizeNull returns the mean and standard error (see PairStats) of all
// N*splits scores of a DSANull result.
func SummarizeNull(null [][]float64) PairStats {
	var vals []float64
	for _, row := range null {
		vals = append(vals, row...)
	}
	return summarize(vals)
}

package analysis

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"degen"
)

// dsaCases holds the DSA part of reference/metric_cases.npz.
type dsaCases struct {
	N, K, T, n   int
	trajs        [][]float64 // N of (K, T, n)
	angular, euc []float64   // (N, N) reference scores
}

// metricCasesPath returns the committed copy of metric_cases.npz, or the
// shared one beside the repository, or "" when neither exists.
func metricCasesPath() string {
	for _, p := range []string{
		filepath.Join("testdata", "metric_cases.npz"),
		filepath.Join("..", "..", "shared", "reference", "metric_cases.npz"),
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// readCaseArray reads name from the NPZ at path.
func readCaseArray(path, name string) (*degen.Array, error) {
	return degen.ReadNPZArray(path, name)
}

func loadDSACases(t testing.TB) *dsaCases {
	t.Helper()
	path := metricCasesPath()
	if path == "" {
		t.Skip("metric_cases.npz is in neither analysis/testdata nor ../shared/reference: skipping the reference comparison")
	}
	tr, err := readCaseArray(path, "trajectories")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Shape) != 4 {
		t.Fatalf("trajectories: shape %v, want (N, K, T, n)", tr.Shape)
	}
	c := &dsaCases{N: tr.Shape[0], K: tr.Shape[1], T: tr.Shape[2], n: tr.Shape[3]}
	per := c.K * c.T * c.n
	for s := 0; s < c.N; s++ {
		c.trajs = append(c.trajs, tr.Data[s*per:(s+1)*per])
	}
	for _, x := range []struct {
		name string
		dst  *[]float64
	}{{"dsa_angular", &c.angular}, {"dsa_euclidean", &c.euc}} {
		a, err := readCaseArray(path, x.name)
		if err != nil {
			t.Fatal(err)
		}
		*x.dst = a.Data
	}
	return c
}

func TestDSAMetricCases(t *testing.T) {
	c := loadDSACases(t)
	for _, tc := range []struct {
		score string
		ref   []float64
	}{{ScoreAngular, c.angular}, {ScoreEuclidean, c.euc}} {
		opt := DSAOptions{Delays: 4, Rank: 12, Score: tc.score, Seed: 3}
		t0, c0 := time.Now(), processCPU()
		d, err := DSAMatrix(c.trajs, c.K, c.T, c.n, opt)
		if err != nil {
			t.Fatal(err)
		}
		el, cpu := time.Since(t0), processCPU()-c0
		pairs := c.N * (c.N - 1) / 2
		t.Logf("%s: %d pairs in %v wall, %v CPU (%.1f ms wall, %.1f ms CPU per pair)", tc.score, pairs, el.Round(time.Millisecond), cpu.Round(time.Millisecond),
			float64(el.Milliseconds())/float64(pairs), float64(cpu.Milliseconds())/float64(pairs))
		var lower float64
		for i := 0; i < c.N; i++ {
			if d.At(i, i) != 0 {
				t.Errorf("%s: diagonal (%d,%d) = %g", tc.score, i, i, d.At(i, i))
			}
			for j := i + 1; j < c.N; j++ {
				got, ref := d.At(i, j), tc.ref[i*c.N+j]
				t.Logf("%s (%d,%d): got %.4f reference %.4f", tc.score, i, j, got, ref)
				if got > ref+0.02 {
					t.Errorf("%s (%d,%d): %.4f exceeds the reference %.4f by more than 0.02", tc.score, i, j, got, ref)
				}
				lower = math.Max(lower, ref-got)
			}
		}
		t.Logf("%s: twin pair (1,6) = %.2g", tc.score, d.At(1, 6))
		if twin := d.At(1, 6); twin > 0.02 {
			t.Errorf("%s: twin pair (1,6) = %.4f, want < 0.02 (reference %.4f)", tc.score, twin, tc.ref[1*c.N+6])
		}
		t.Logf("%s: at most %.4f below the reference", tc.score, lower)
	}
}

// linearTrajectories returns K trials of T steps of x_{t+1} = F x_t from
// Gaussian x_0, (K, T, n), and F.
func linearTrajectories(K, T, n int, rng *rand.Rand) ([]float64, *mat.Dense) {
	f := gaussDense(n, n, rng)
	// Scale F to spectral radius 0.95 so trials neither vanish nor explode.
	var eig mat.Eigen
	eig.Factorize(f, mat.EigenNone)
	var rad float64
	for _, v := range eig.Values(nil) {
		rad = math.Max(rad, cmplx.Abs(v))
	}
	f.Scale(0.95/rad, f)
	traj := make([]float64, K*T*n)
	for k := 0; k < K; k++ {
		x := mat.NewVecDense(n, nil)
		for i := 0; i < n; i++ {
			x.SetVec(i, rng.NormFloat64())
		}
		for t := 0; t < T; t++ {
			for i := 0; i < n; i++ {
				traj[(k*T+t)*n+i] = x.AtVec(i)
			}
			x.MulVec(f, x)
		}
	}
	return traj, f
}

func sortedEigenvalues(m mat.Matrix) []complex128 {
	var eig mat.Eigen
	eig.Factorize(m, mat.EigenNone)
	v := eig.Values(nil)
	sort.Slice(v, func(i, j int) bool {
		if real(v[i]) != real(v[j]) {
			return real(v[i]) < real(v[j])
		}
		return imag(v[i]) < imag(v[j])
	})
	return v
}

// TestFitOperatorLinear checks a known answer: for noise-free linear
// dynamics x_{t+1} = F x_t, one delay and full rank, the HAVOK operator is
// S^{-1} U^T F U S, similar to F, so it has F's eigenvalues.
func TestFitOperatorLinear(t *testing.T) {
	for _, tc := range []struct{ K, T, n int }{{1, 40, 3}, {4, 30, 5}, {8, 20, 12}, {3, 70, 16}} {
		rng := rand.New(rand.NewPCG(uint64(tc.n), 21))
		traj, f := linearTrajectories(tc.K, tc.T, tc.n, rng)
		op, err := FitOperator(traj, tc.K, tc.T, tc.n, DSAOptions{Delays: 1, Rank: tc.n})
		if err != nil {
			t.Fatal(err)
		}
		got, want := sortedEigenvalues(op.A), sortedEigenvalues(f)
		for i := range want {
			if cmplx.Abs(got[i]-want[i]) > 1e-6 {
				t.Errorf("%+v: eigenvalue %d = %v, want %v", tc, i, got[i], want[i])
			}
		}
	}
}

// TestDSAInvariances checks that DSA ignores an orthogonal change of basis
// of the units and a rescaling of the data: both give score 0 (up to
// optimiser tolerance), at delays and ranks that use both Gram branches
// (H^T H and H H^T) and both eigensolvers (dense, and Lanczos from n*D > 160).
func TestDSAInvariances(t *testing.T) {
	for _, tc := range []struct{ K, T, n, D, r int }{
		{8, 60, 16, 4, 12}, {2, 15, 24, 3, 20}, {5, 40, 9, 1, 9}, {3, 50, 20, 10, 33}, {4, 60, 48, 4, 20},
	} {
		trajs := randomRNNTrajectories(1, tc.K, tc.T, tc.n, 2, uint64(tc.n))
		rng := rand.New(rand.NewPCG(uint64(tc.n), 22))
		q := haarOrthogonal(tc.n, rng)
		rot := rotateUnits(trajs[0], tc.n, q.RawMatrix().Data)
		scaled := append([]float64(nil), trajs[0]...)
		for i := range scaled {
			scaled[i] *= 3.5
		}
		for _, score := range []string{ScoreAngular, ScoreEuclidean} {
			opt := DSAOptions{Delays: tc.D, Rank: tc.r, Score: score, Seed: 1}
			d, err := DSAMatrix([][]float64{trajs[0], rot, scaled}, tc.K, tc.T, tc.n, opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
				if v := d.At(p[0], p[1]); v > 1e-8 {
					t.Errorf("%+v %s: score(%d,%d) = %g, want 0", tc, score, p[0], p[1], v)
				}
			}
		}
	}
}

// TestDSAMatrixProperties checks symmetry, the zero diagonal, determinism
// for a seed, the angular-euclidean relation e = 2 sin(a/2) of one optimum,
// and that different dynamics score above the split-half null.
func TestDSAMatrixProperties(t *testing.T) {
	const K, T, n = 6, 50, 10
	trajs := randomRNNTrajectories(4, K, T, n, 2, 31)
	opt := DSAOptions{Delays: 3, Rank: 8, Seed: 9}
	d1, err := DSAMatrix(trajs, K, T, n, opt)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := DSAMatrix(trajs, K, T, n, opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Score = ScoreEuclidean
	de, err := DSAMatrix(trajs, K, T, n, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if d1.At(i, i) != 0 {
			t.Errorf("diagonal %d = %g", i, d1.At(i, i))
		}
		for j := 0; j < 4; j++ {
			if d1.At(i, j) != d1.At(j, i) || d1.At(i, j) != d2.At(i, j) {
				t.Errorf("(%d,%d): %g, transposed %g, second run %g", i, j, d1.At(i, j), d1.At(j, i), d2.At(i, j))
			}
			if want := 2 * math.Sin(d1.At(i, j)/2); math.Abs(de.At(i, j)-want) > 1e-6 {
				t.Errorf("(%d,%d): euclidean %g, want 2 sin(angular/2) = %g", i, j, de.At(i, j), want)
			}
		}
	}
	// Linear systems with different random spectra, 400 trials each: the
	// cross score is far above each system's split-half null (not zero: the
	// halves' HAVOK operators are similar, S^-1 U^T F U S, but not
	// orthogonally similar, since S and U are estimated from the data).
	rng := rand.New(rand.NewPCG(4, 4))
	var lin [][]float64
	for s := 0; s < 2; s++ {
		tr, _ := linearTrajectories(400, 30, 6, rng)
		lin = append(lin, tr)
	}
	lopt := DSAOptions{Delays: 2, Rank: 6, Seed: 3}
	cross, err := DSAMatrix(lin, 400, 30, 6, lopt)
	if err != nil {
		t.Fatal(err)
	}
	null, err := DSANull(lin, 400, 30, 6, lopt, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(null) != 2 || len(null[0]) != 3 {
		t.Fatalf("null has shape (%d, %d), want (2, 3)", len(null), len(null[0]))
	}
	for s, row := range null {
		for j, v := range row {
			// Above 0: the halves are different data; far below the cross score.
			if !(v > 1e-4 && v < 0.15*cross.At(0, 1)) {
				t.Errorf("null[%d][%d] = %g, want in (1e-4, %g)", s, j, v, 0.15*cross.At(0, 1))
			}
		}
	}
	t.Logf("linear systems: cross score %.4f, split-half null %.4f", cross.At(0, 1), null)
	if st := SummarizeNull(null); st.Count != 6 {
		t.Errorf("SummarizeNull counts %d scores, want 6", st.Count)
	}
}

func TestDSAErrors(t *testing.T) {
	const K, T, n = 3, 20, 4
	good := randomRNNTrajectories(2, K, T, n, 1, 41)
	nan := append([]float64(nil), good[0]...)
	nan[17] = math.NaN()
	inf := append([]float64(nil), good[0]...)
	inf[5] = math.Inf(-1)
	// Every unit equal: the embedding with one delay has rank 1.
	flat := make([]float64, K*T*n)
	for i := range flat {
		flat[i] = good[0][i/n*n]
	}
	zero := make([]float64, K*T*n)
	for _, tc := range []struct {
		name  string
		trajs [][]float64
		opt   DSAOptions
		want  string
	}{
		{"one network", good[:1], DSAOptions{Delays: 2, Rank: 4}, "at least two networks"},
		{"short data", [][]float64{good[0][:10], good[1]}, DSAOptions{Delays: 2, Rank: 4}, "network 0 has 10 values"},
		{"NaN", [][]float64{good[0], nan}, DSAOptions{Delays: 2, Rank: 4}, "NaN"},
		{"Inf", [][]float64{inf, good[1]}, DSAOptions{Delays: 2, Rank: 4}, "Inf"},
		{"rank above embedding", good, DSAOptions{Delays: 2, Rank: 9}, "exceeds the embedding dimension"},
		{"delays too long", good, DSAOptions{Delays: 20, Rank: 2}, "longer than"},
		{"rank above pairs", good, DSAOptions{Delays: 18, Rank: 7}, "one-step pairs"},
		{"numerical rank", [][]float64{flat, good[1]}, DSAOptions{Delays: 1, Rank: 3}, "numerical rank"},
		{"zero data", [][]float64{good[0], zero}, DSAOptions{Delays: 1, Rank: 2}, "all zero"},
		{"zero delays", good, DSAOptions{Delays: 0, Rank: 2}, "delays"},
		{"zero rank", good, DSAOptions{Delays: 2, Rank: 0}, "rank"},
		{"bad score", good, DSAOptions{Delays: 2, Rank: 2, Score: "cosine"}, "score"},
	} {
		_, err := DSAMatrix(tc.trajs, K, T, n, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	a, _ := FitOperator(good[0], K, T, n, DSAOptions{Delays: 2, Rank: 3})
	b, _ := FitOperator(good[1], K, T, n, DSAOptions{Delays: 2, Rank: 4})
	if _, err := DSADistance(a, b, DSAOptions{Delays: 2, Rank: 3}); err == nil {
		t.Error("operators of ranks 3 and 4: no error")
	}
	if _, err := DSANull(good, K, T, n, DSAOptions{Delays: 2, Rank: 3}, 0); err == nil {
		t.Error("zero null splits: no error")
	}
	if _, err := DSANull([][]float64{good[0][:n*T]}, 1, T, n, DSAOptions{Delays: 2, Rank: 3}, 1); err == nil {
		t.Error("null of one trial: no error")
	}
}

// TestDSADefaultSearchFindsBest checks the default O(n) search against a
// search with four times the random starts on every metric_cases pair at
// rank 12: the default must not be worse by more than 1e-6 rad.
func TestDSADefaultSearchFindsBest(t *testing.T) {
	if testing.Short() {
		t.Skip("a wider search on 21 pairs: skipped with -short")
	}
	c := loadDSACases(t)
	opt := DSAOptions{Delays: 4, Rank: 12, Seed: 3}
	ops, err := FitOperators(c.trajs, c.K, c.T, c.n, opt)
	if err != nil {
		t.Fatal(err)
	}
	def, err := DSAOperatorMatrix(ops, opt)
	if err != nil {
		t.Fatal(err)
	}
	wide := opt
	wide.Restarts = 4 * DefaultRestarts(opt.Rank)
	wide.Seed = 101
	ref, err := DSAOperatorMatrix(ops, wide)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < c.N; i++ {
		for j := i + 1; j < c.N; j++ {
			if d, w := def.At(i, j), ref.At(i, j); d > w+1e-6 {
				t.Errorf("(%d,%d): default search %.6f, wider search %.6f", i, j, d, w)
			}
		}
	}
}

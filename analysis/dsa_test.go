package analysis

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// readCaseArray reads name from the NPZ at path, also under the key
// name+".npy" that numpy.savez stores.
func readCaseArray(path, name string) (*degen.Array, error) {
	a, err := degen.ReadNPZArray(path, name)
	if err != nil {
		if b, err2 := degen.ReadNPZArray(path, name+".npy"); err2 == nil {
			return b, nil
		}
	}
	return a, err
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
		t0 := time.Now()
		d, err := DSAMatrix(c.trajs, c.K, c.T, c.n, opt)
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(t0)
		pairs := c.N * (c.N - 1) / 2
		t.Logf("%s: %d pairs in %v (%.1f ms per pair)", tc.score, pairs, el, float64(el.Milliseconds())/float64(pairs))
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
		if twin := d.At(1, 6); twin > 0.02 {
			t.Errorf("%s: twin pair (1,6) = %.4f, want < 0.02 (reference %.4f)", tc.score, twin, tc.ref[1*c.N+6])
		}
		t.Logf("%s: at most %.4f below the reference", tc.score, lower)
	}
}

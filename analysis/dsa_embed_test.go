package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

func TestHankelGram(t *testing.T) {
	for _, tc := range []struct{ K, T, n, D int }{
		{1, 5, 1, 1}, {2, 7, 3, 3}, {3, 20, 5, 4}, {4, 9, 2, 9}, {2, 65, 7, 5},
	} {
		rng := rand.New(rand.NewPCG(uint64(tc.K*100+tc.T), 3))
		traj := make([]float64, tc.K*tc.T*tc.n)
		for i := range traj {
			traj[i] = rng.NormFloat64()
		}
		rows, cols := tc.K*(tc.T-tc.D+1), tc.n*tc.D
		h := hankel(traj, tc.K, tc.T, tc.n, tc.D)
		want := make([]float64, cols*cols)
		H := blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: h}
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, H, H, 0, blas64.General{Rows: cols, Cols: cols, Stride: cols, Data: want})
		got := hankelGram(traj, tc.K, tc.T, tc.n, tc.D)
		var worst float64
		for i := range want {
			worst = math.Max(worst, math.Abs(got[i]-want[i]))
		}
		if worst > 1e-10 {
			t.Errorf("%+v: worst |G - H^T H| = %g", tc, worst)
		}
	}
}

func TestTopEigenLanczos(t *testing.T) {
	for _, tc := range []struct{ p, r, k int }{{200, 10, 400}, {257, 30, 300}, {300, 12, 150}} {
		// G = X^T X for Gaussian X (k, p) with decaying column scales.
		rng := rand.New(rand.NewPCG(uint64(tc.p), 9))
		x := mat.NewDense(tc.k, tc.p, nil)
		for i := 0; i < tc.k; i++ {
			for j := 0; j < tc.p; j++ {
				x.Set(i, j, rng.NormFloat64()*math.Pow(0.98, float64(j)))
			}
		}
		var g mat.Dense
		g.Mul(x.T(), x)
		raw := g.RawMatrix().Data
		vals, vecs, err := topEigen(raw, tc.p, tc.r)
		if err != nil {
			t.Fatal(err)
		}
		wantVals, wantVecs, err := denseTopEigen(raw, tc.p, tc.r)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < tc.r; i++ {
			if math.Abs(vals[i]-wantVals[i]) > 1e-9*wantVals[0] {
				t.Errorf("p=%d: eigenvalue %d = %.12g, want %.12g", tc.p, i, vals[i], wantVals[i])
			}
			c := math.Abs(mat.Dot(vecs.ColView(i), wantVecs.ColView(i)))
			if 1-c > 1e-8 {
				t.Errorf("p=%d: eigenvector %d has |cos| %.12f with the dense one", tc.p, i, c)
			}
		}
	}
}

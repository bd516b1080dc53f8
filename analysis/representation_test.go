package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomOrthogonal returns a Haar-random (n, n) orthogonal matrix with the
// requested determinant sign.
func randomOrthogonal(n int, negative bool, rng *rand.Rand) *mat.Dense {
	var qr mat.QR
	qr.Factorize(randomDense(n, n, rng))
	var q mat.Dense
	qr.QTo(&q)
	if (mat.Det(&q) < 0) != negative {
		for i := 0; i < n; i++ {
			q.Set(i, 0, -q.At(i, 0))
		}
	}
	return &q
}

// lowRankStates returns (n, h) states of rank r plus a little noise.
func lowRankStates(n, h, r int, noise float64, rng *rand.Rand) *mat.Dense {
	var x mat.Dense
	x.Mul(randomDense(n, r, rng), randomDense(r, h, rng))
	for i := 0; i < n; i++ {
		for j := 0; j < h; j++ {
			x.Set(i, j, x.At(i, j)+noise*rng.NormFloat64()+3) // offset: centring matters
		}
	}
	return &x
}

func rawData(m *mat.Dense) []float64 {
	r, c := m.Dims()
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		out = append(out, m.RawRowView(i)...)
	}
	return out
}

func compare(t *testing.T, x, y *mat.Dense, opts RepOptions) RepScores {
	t.Helper()
	n, hx := x.Dims()
	_, hy := y.Dims()
	a, err := NewRepresentation(rawData(x), n, hx, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRepresentation(rawData(y), n, hy, opts)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := CompareRepresentations(a, b)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestRepresentationInvariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ n, h int }{{50, 7}, {200, 31}, {300, 65}} {
		for _, negative := range []bool{false, true} {
			x := lowRankStates(c.n, c.h, c.h/2+1, 0.3, rng)
			var y mat.Dense
			y.Mul(x, randomOrthogonal(c.h, negative, rng))
			y.Scale(2.5, &y)
			sc := compare(t, x, &y, DefaultRepOptions())
			if math.Abs(sc.CKA-1) > 1e-9 || math.Abs(sc.SVCCA-1) > 1e-6 || sc.Procrustes > 1e-6 {
				t.Errorf("n=%d H=%d det<0=%v: rotated, scaled copy gave %+v, want CKA 1, SVCCA 1, angle 0", c.n, c.h, negative, sc)
			}
		}
	}
}

// naiveCKA computes linear CKA from the n x n Gram matrices with the
// centring matrix: HSIC(K, L) = tr(K C L C), C = I - 11^T/n.
func naiveCKA(x, y *mat.Dense) float64 {
	n, _ := x.Dims()
	c := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			c.Set(i, j, -1/float64(n))
		}
		c.Set(i, i, 1-1/float64(n))
	}
	hsic := func(a, b *mat.Dense) float64 {
		var k, l, kc, lc, p mat.Dense
		k.Mul(a, a.T())
		l.Mul(b, b.T())
		kc.Mul(&k, c)
		lc.Mul(&l, c)
		p.Mul(&kc, &lc)
		return mat.Trace(&p)
	}
	return hsic(x, y) / math.Sqrt(hsic(x, x)*hsic(y, y))
}

// naiveProcrustes returns arccos <X, Y Q> for centred, unit-norm X, Y and the
// orthogonal Q = U V^T from the SVD Y^T X = U S V^T, checked by computing
// ||X - Y Q|| directly.
func naiveProcrustes(x, y *mat.Dense) float64 {
	center := func(m *mat.Dense) *mat.Dense {
		n, h := m.Dims()
		out := mat.DenseCopyOf(m)
		for j := 0; j < h; j++ {
			var s float64
			for i := 0; i < n; i++ {
				s += m.At(i, j)
			}
			for i := 0; i < n; i++ {
				out.Set(i, j, m.At(i, j)-s/float64(n))
			}
		}
		out.Scale(1/mat.Norm(out, 2), out)
		return out
	}
	xc, yc := center(x), center(y)
	var yx mat.Dense
	yx.Mul(yc.T(), xc)
	var svd mat.SVD
	svd.Factorize(&yx, mat.SVDFull)
	var u, v, q, yq mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	q.Mul(&u, v.T())
	yq.Mul(yc, &q)
	var diff mat.Dense
	diff.Sub(xc, &yq)
	d := mat.Norm(&diff, 2)
	return math.Acos(1 - d*d/2)
}

// naiveSVCCA keeps r directions of each thin SVD and returns the mean of
// the singular values of U_x^T U_y.
func naiveSVCCA(x, y *mat.Dense, rx, ry int) float64 {
	basis := func(m *mat.Dense, r int) mat.Matrix {
		n, h := m.Dims()
		c := mat.DenseCopyOf(m)
		for j := 0; j < h; j++ {
			var s float64
			for i := 0; i < n; i++ {
				s += m.At(i, j)
			}
			for i := 0; i < n; i++ {
				c.Set(i, j, m.At(i, j)-s/float64(n))
			}
		}
		var svd mat.SVD
		svd.Factorize(c, mat.SVDThin)
		var u mat.Dense
		svd.UTo(&u)
		return u.Slice(0, n, 0, r)
	}
	var w mat.Dense
	w.Mul(basis(x, rx).T(), basis(y, ry))
	var svd mat.SVD
	svd.Factorize(&w, mat.SVDNone)
	var s float64
	vals := svd.Values(nil)
	for _, v := range vals {
		s += v
	}
	return s / float64(len(vals))
}

func TestRepresentationAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, c := range []struct{ n, hx, hy, dims int }{{40, 5, 5, 3}, {120, 17, 17, 9}, {130, 20, 12, 6}} {
		x := lowRankStates(c.n, c.hx, c.hx, 0.1, rng)
		y := lowRankStates(c.n, c.hy, c.hy, 0.1, rng)
		// make y partly share x's structure so the measures are not trivial
		for i := 0; i < c.n; i++ {
			for j := 0; j < min(c.hx, c.hy); j++ {
				y.Set(i, j, y.At(i, j)+2*x.At(i, j))
			}
		}
		sc := compare(t, x, y, RepOptions{SVCCADims: c.dims})
		if want := naiveCKA(x, y); math.Abs(sc.CKA-want) > 1e-9 {
			t.Errorf("%+v: CKA %v, naive %v", c, sc.CKA, want)
		}
		if c.hx == c.hy {
			if want := naiveProcrustes(x, y); math.Abs(sc.Procrustes-want) > 1e-6 {
				t.Errorf("%+v: Procrustes %v, naive %v", c, sc.Procrustes, want)
			}
		}
		if want := naiveSVCCA(x, y, c.dims, c.dims); math.Abs(sc.SVCCA-want) > 1e-6 {
			t.Errorf("%+v: SVCCA %v, naive %v", c, sc.SVCCA, want)
		}
		if sc.CKA <= 0 || sc.CKA >= 1 || sc.SVCCA <= 0 || sc.SVCCA >= 1 || sc.Procrustes <= 0 {
			t.Errorf("%+v: scores %+v should lie strictly inside their ranges", c, sc)
		}
	}
}

func TestSVCCAVarianceSelection(t *testing.T) {
	// States of rank 4 plus tiny noise: 99% of the variance needs 4 directions.
	rng := rand.New(rand.NewPCG(25, 26))
	x := lowRankStates(200, 12, 4, 1e-3, rng)
	r, err := NewRepresentation(rawData(x), 200, 12, DefaultRepOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r.keep != 4 {
		t.Errorf("kept %d directions, want 4", r.keep)
	}
}

// TestSVCCASpectrumConventions: states with singular values 10, 5, 2, 1,
// 0.5, 0.2 keep 3 directions for 99% of the squared singular values (the
// variance, Raghu et al.) and 6 for 99% of the singular values (google/svcca's
// tutorial: np.sum(s[:k]) / np.sum(s)); the scores then equal the naive
// SVCCA at those dimensions.
func TestSVCCASpectrumConventions(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	sv := []float64{10, 5, 2, 1, 0.5, 0.2}
	n, h := 60, len(sv)
	states := func() *mat.Dense {
		// U: orthonormal columns orthogonal to the ones vector (so centring
		// keeps them), V: orthogonal; X = U diag(sv) V^T.
		g := randomDense(n, h+1, rng)
		for i := 0; i < n; i++ {
			g.Set(i, 0, 1)
		}
		var qr mat.QR
		qr.Factorize(g)
		var q mat.Dense
		qr.QTo(&q)
		u := q.Slice(0, n, 1, h+1)
		var us mat.Dense
		us.Mul(u, mat.NewDiagDense(h, sv))
		var x mat.Dense
		x.Mul(&us, randomOrthogonal(h, true, rng).T())
		return &x
	}
	x, y := states(), states()
	for i := 0; i < n; i++ { // share some structure
		for j := 0; j < h; j++ {
			y.Set(i, j, y.At(i, j)+x.At(i, j))
		}
	}
	for _, c := range []struct {
		spectrum string
		keep     int
	}{{SpectrumVariance, 3}, {SpectrumSingular, 6}} {
		opts := RepOptions{SVCCAVariance: 0.99, SVCCASpectrum: c.spectrum}
		r, err := NewRepresentation(rawData(x), n, h, opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.keep != c.keep {
			t.Errorf("%s: kept %d directions, want %d", c.spectrum, r.keep, c.keep)
		}
		ry, err := NewRepresentation(rawData(y), n, h, opts)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := CompareRepresentations(r, ry)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveSVCCA(x, y, r.keep, ry.keep); math.Abs(sc.SVCCA-want) > 1e-6 {
			t.Errorf("%s: SVCCA %v, naive at %d and %d directions %v", c.spectrum, sc.SVCCA, r.keep, ry.keep, want)
		}
	}
	if _, err := NewRepresentation(rawData(x), n, h, RepOptions{SVCCAVariance: 0.99, SVCCASpectrum: "squares"}); err == nil {
		t.Error("an unknown SVCCA spectrum was accepted")
	}
}

func TestRepresentationDistances(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	n, h := 80, 9
	states := make([][]float64, 4)
	for s := range states {
		states[s] = rawData(lowRankStates(n, h, 5, 0.2, rng))
	}
	var rot mat.Dense
	rot.Mul(mat.NewDense(n, h, states[0]), randomOrthogonal(h, true, rng))
	states[2] = rawData(&rot)
	d, err := RepresentationDistances(states, n, h, DefaultRepOptions())
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*mat.SymDense{"cka": d.CKA, "svcca": d.SVCCA, "procrustes": d.Procrustes} {
		for i := range states {
			if m.At(i, i) != 0 {
				t.Errorf("%s: diagonal %d = %v", name, i, m.At(i, i))
			}
			for j := range states {
				if m.At(i, j) != m.At(j, i) || m.At(i, j) < -1e-12 {
					t.Errorf("%s: bad entry (%d, %d) = %v", name, i, j, m.At(i, j))
				}
			}
		}
		if m.At(0, 2) > 1e-6 {
			t.Errorf("%s: rotated copy at distance %v, want 0", name, m.At(0, 2))
		}
		if m.At(0, 1) < 1e-3 {
			t.Errorf("%s: different networks at distance %v, want clearly positive", name, m.At(0, 1))
		}
	}
}

func TestRepresentationErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	good := rawData(lowRankStates(20, 4, 4, 0.1, rng))
	nan := append([]float64(nil), good...)
	nan[7] = math.NaN()
	constant := make([]float64, 20*4)
	for k := range constant {
		constant[k] = 0.5
	}
	cases := []struct {
		name   string
		states []float64
		n, h   int
		opts   RepOptions
	}{
		{"shape", good, 20, 5, DefaultRepOptions()},
		{"NaN", nan, 20, 4, DefaultRepOptions()},
		{"no variance", constant, 20, 4, DefaultRepOptions()},
		{"dims above rank", rawData(lowRankStates(20, 6, 2, 0, rng)), 20, 6, RepOptions{SVCCADims: 4}},
		{"bad variance", good, 20, 4, RepOptions{SVCCAVariance: 1.5}},
	}
	for _, c := range cases {
		if _, err := NewRepresentation(c.states, c.n, c.h, c.opts); err == nil {
			t.Errorf("%s: want an error", c.name)
		}
	}
	a, _ := NewRepresentation(good, 20, 4, DefaultRepOptions())
	b, _ := NewRepresentation(good[:10*4], 10, 4, DefaultRepOptions())
	if _, err := CompareRepresentations(a, b); err == nil {
		t.Error("different sample counts: want an error")
	}
	if _, err := RepresentationDistances([][]float64{good}, 20, 4, DefaultRepOptions()); err == nil {
		t.Error("one network: want an error")
	}
}

// BenchmarkRepresentationPair times CKA, SVCCA and Procrustes of one pair
// at the reference study's scale: 64 trials x 100 steps of 128 units.
func BenchmarkRepresentationPair(b *testing.B) {
	rng := rand.New(rand.NewPCG(51, 52))
	n, h := 6400, 128
	x, err := NewRepresentation(rawData(lowRankStates(n, h, 40, 0.1, rng)), n, h, DefaultRepOptions())
	if err != nil {
		b.Fatal(err)
	}
	y, err := NewRepresentation(rawData(lowRankStates(n, h, 40, 0.1, rng)), n, h, DefaultRepOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := CompareRepresentations(x, y); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkNewRepresentation times the per-network preparation (centring,
// covariance, eigendecomposition) at the same scale.
func BenchmarkNewRepresentation(b *testing.B) {
	rng := rand.New(rand.NewPCG(53, 54))
	n, h := 6400, 128
	states := rawData(lowRankStates(n, h, 40, 0.1, rng))
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := NewRepresentation(states, n, h, DefaultRepOptions()); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

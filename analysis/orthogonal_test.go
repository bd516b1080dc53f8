package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gaussDense returns an (r, c) matrix of standard normal entries.
func gaussDense(r, c int, rng *rand.Rand) *mat.Dense {
	d := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			d.Set(i, j, rng.NormFloat64())
		}
	}
	return d
}

// checkOrthogonal fails unless c^T c = I to 1e-10.
func checkOrthogonal(t *testing.T, what string, c *mat.Dense) {
	t.Helper()
	n, _ := c.Dims()
	var ctc mat.Dense
	ctc.Mul(c.T(), c)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(ctc.At(i, j)-want) > 1e-10 {
				t.Fatalf("%s: C^T C [%d,%d] = %g, want %g", what, i, j, ctc.At(i, j), want)
			}
		}
	}
}

// TestAlignOrthogonalTwin checks d(A, C0^T A C0) = 0 for random orthogonal
// C0 of both determinant signs, at sizes around the ranks DSA uses.
func TestAlignOrthogonalTwin(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 12, 16, 31, 33} {
		for _, reflect := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(uint64(n), 11))
			a := gaussDense(n, n, rng)
			c0 := haarOrthogonal(n, rng)
			if mat.Det(c0) < 0 != reflect {
				negateColumn(c0, 0)
			}
			var tmp, b mat.Dense
			tmp.Mul(c0.T(), a)
			b.Mul(&tmp, c0) // B = C0^T A C0, so A = C0 B C0^T
			fit, err := AlignOrthogonal(a, &b, OrthogonalOptions{Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			checkOrthogonal(t, "twin", fit.C)
			if fit.Distance > 1e-9*frobenius(a) || fit.Angle() > 1e-9 {
				t.Errorf("n=%d det=%v: distance %.3g angle %.3g, want 0", n, map[bool]string{false: "+1", true: "-1"}[reflect], fit.Distance, fit.Angle())
			}
		}
	}
}

// TestAlignOrthogonalConsistent checks that the reported C, inner product,
// cosine and distance agree, and that the search never does worse than the
// identity, on random pairs.
func TestAlignOrthogonalConsistent(t *testing.T) {
	for _, n := range []int{2, 5, 12, 17} {
		rng := rand.New(rand.NewPCG(uint64(n), 12))
		a, b := gaussDense(n, n, rng), gaussDense(n, n, rng)
		b.Scale(3, b)
		fit, err := AlignOrthogonal(a, b, OrthogonalOptions{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		checkOrthogonal(t, "fit", fit.C)
		var m, d mat.Dense
		m.Mul(fit.C, b)
		m.Mul(&m, fit.C.T())
		d.Sub(a, &m)
		if got := frobenius(&d); math.Abs(got-fit.Distance) > 1e-9*fit.Distance {
			t.Errorf("n=%d: ||A - C B C^T|| = %g, fit reports %g", n, got, fit.Distance)
		}
		na, nb := frobenius(a), frobenius(b)
		if d2 := na*na + nb*nb - 2*fit.Inner; math.Abs(d2-fit.Distance*fit.Distance) > 1e-9*d2 {
			t.Errorf("n=%d: |A|^2+|B|^2-2<A,CBC^T> = %g, distance^2 = %g", n, d2, fit.Distance*fit.Distance)
		}
		var id mat.Dense
		id.Sub(a, b)
		if fit.Distance > frobenius(&id) {
			t.Errorf("n=%d: distance %g exceeds ||A - B|| = %g", n, fit.Distance, frobenius(&id))
		}
	}
}

// TestAlignOrthogonalBruteForce compares with a fine grid over O(2):
// rotations R(th) and reflections R(th) diag(1, -1).
func TestAlignOrthogonalBruteForce(t *testing.T) {
	for seed := uint64(0); seed < 8; seed++ {
		rng := rand.New(rand.NewPCG(seed, 13))
		a, b := gaussDense(2, 2, rng), gaussDense(2, 2, rng)
		best := math.Inf(1)
		const steps = 100000
		for k := 0; k < steps; k++ {
			th := 2 * math.Pi * float64(k) / steps
			c, s := math.Cos(th), math.Sin(th)
			for _, refl := range []float64{1, -1} {
				cm := [4]float64{c, -s * refl, s, c * refl}
				var cb, m [4]float64
				for i := 0; i < 2; i++ {
					for j := 0; j < 2; j++ {
						cb[i*2+j] = cm[i*2]*b.At(0, j) + cm[i*2+1]*b.At(1, j)
					}
				}
				var d2 float64
				for i := 0; i < 2; i++ {
					for j := 0; j < 2; j++ {
						m[i*2+j] = cb[i*2]*cm[j*2] + cb[i*2+1]*cm[j*2+1] // (C B C^T)[i,j]
						e := a.At(i, j) - m[i*2+j]
						d2 += e * e
					}
				}
				best = math.Min(best, math.Sqrt(d2))
			}
		}
		fit, err := AlignOrthogonal(a, b, OrthogonalOptions{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if fit.Distance > best+1e-9 || fit.Distance < best-1e-6 {
			t.Errorf("seed %d: distance %.10f, grid minimum %.10f", seed, fit.Distance, best)
		}
	}
}

func TestAlignOrthogonalErrors(t *testing.T) {
	nan := mat.NewDense(2, 2, []float64{1, math.NaN(), 0, 1})
	for _, tc := range []struct {
		name string
		a, b mat.Matrix
	}{
		{"not square", mat.NewDense(2, 3, nil), mat.NewDense(2, 3, nil)},
		{"sizes differ", mat.NewDense(2, 2, nil), mat.NewDense(3, 3, nil)},
		{"NaN", nan, mat.NewDense(2, 2, []float64{1, 0, 0, 1})},
		{"Inf", mat.NewDense(1, 1, []float64{1}), mat.NewDense(1, 1, []float64{math.Inf(1)})},
	} {
		if _, err := AlignOrthogonal(tc.a, tc.b, OrthogonalOptions{}); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// A zero matrix is no error: every C is optimal.
	fit, err := AlignOrthogonal(mat.NewDense(2, 2, nil), mat.NewDense(2, 2, []float64{3, 0, 0, 4}), OrthogonalOptions{})
	if err != nil || math.Abs(fit.Distance-5) > 1e-12 || fit.Cosine != 0 || fit.Angle() != math.Pi/2 {
		t.Errorf("zero A: distance %g cosine %g angle %g err %v, want 5, 0, pi/2, nil", fit.Distance, fit.Cosine, fit.Angle(), err)
	}
}

// TestSchurStartsNormal checks that a Schur start alone aligns an exact
// twin of a normal matrix (rotation-scaling blocks and real eigenvalues of
// distinct moduli in a random orthogonal basis): the best start has
// tr(A^T C B C^T) = ||A||^2 before any ascent step.
func TestSchurStartsNormal(t *testing.T) {
	for _, n := range []int{1, 2, 7, 12, 13} {
		rng := rand.New(rand.NewPCG(uint64(n), 14))
		blocks := mat.NewDense(n, n, nil)
		for i := 0; i < n; {
			r := 0.3 + 0.05*float64(i) // distinct moduli
			if i+1 < n && i%3 != 2 {
				th := 0.2 + 0.4*rng.Float64()
				c, s := r*math.Cos(th), r*math.Sin(th)
				blocks.Set(i, i, c)
				blocks.Set(i, i+1, -s)
				blocks.Set(i+1, i, s)
				blocks.Set(i+1, i+1, c)
				i += 2
			} else {
				blocks.Set(i, i, -r)
				i++
			}
		}
		q := haarOrthogonal(n, rng)
		var a, b, tmp mat.Dense
		tmp.Mul(q, blocks)
		a.Mul(&tmp, q.T()) // A = Q blocks Q^T, normal
		c0 := haarOrthogonal(n, rng)
		tmp.Mul(c0.T(), &a)
		b.Mul(&tmp, c0) // B = C0^T A C0
		starts := schurStarts(&a, &b)
		if len(starts) == 0 {
			t.Fatalf("n=%d: no Schur starts", n)
		}
		best := math.Inf(-1)
		for _, c := range starts {
			checkOrthogonal(t, "schur start", c)
			var m mat.Dense
			similarity(&m, c, &b, &tmp)
			best = math.Max(best, inner(&a, &m))
		}
		na := frobenius(&a)
		if gap := na*na - best; gap > 1e-10*na*na {
			t.Errorf("n=%d: best Schur start leaves ||A||^2 - <A, C B C^T> = %.3g", n, gap)
		}
	}
}

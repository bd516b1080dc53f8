package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func euclidean(x *mat.Dense) *mat.SymDense {
	n, k := x.Dims()
	d := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var s float64
			for c := 0; c < k; c++ {
				s += (x.At(i, c) - x.At(j, c)) * (x.At(i, c) - x.At(j, c))
			}
			d.SetSym(i, j, math.Sqrt(s))
		}
	}
	return d
}

func TestMDSRecoversPlanarConfiguration(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{3, 10, 65} {
		// A planar configuration, rotated into 5 dimensions and shifted.
		plane := randomDense(n, 2, rng)
		lift := mat.NewDense(n, 5, nil)
		for i := 0; i < n; i++ {
			lift.Set(i, 0, plane.At(i, 0))
			lift.Set(i, 1, plane.At(i, 1))
		}
		var emb mat.Dense
		emb.Mul(lift, randomOrthogonal(5, false, rng))
		for i := 0; i < n; i++ {
			for c := 0; c < 5; c++ {
				emb.Set(i, c, emb.At(i, c)+7)
			}
		}
		want := euclidean(plane)
		x, err := MDS(euclidean(&emb), 2)
		if err != nil {
			t.Fatal(err)
		}
		got := euclidean(x)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if math.Abs(got.At(i, j)-want.At(i, j)) > 1e-8 {
					t.Fatalf("n=%d: embedded distance (%d, %d) = %v, want %v", n, i, j, got.At(i, j), want.At(i, j))
				}
			}
		}
		for c := 0; c < 2; c++ {
			var mean float64
			for i := 0; i < n; i++ {
				mean += x.At(i, c) / float64(n)
			}
			if math.Abs(mean) > 1e-9 {
				t.Errorf("n=%d: column %d has mean %v, want centred", n, c, mean)
			}
		}
	}
}

func TestMDSErrors(t *testing.T) {
	d := mat.NewSymDense(3, nil)
	d.SetSym(0, 1, math.NaN())
	if _, err := MDS(d, 2); err == nil {
		t.Error("NaN distance: want an error")
	}
	if _, err := MDS(mat.NewSymDense(3, nil), 0); err == nil {
		t.Error("zero dims: want an error")
	}
	// Two items, two dims: the second coordinate is zero, not NaN.
	d2 := mat.NewSymDense(2, []float64{0, 3, 3, 0})
	x, err := MDS(d2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(math.Abs(x.At(0, 0)-x.At(1, 0))-3) > 1e-12 || x.At(0, 1) != 0 && math.Abs(x.At(0, 1)) > 1e-12 {
		t.Errorf("two points: got %v", mat.Formatted(x))
	}
}

package analysis

import (
	"math"
	"strings"
	"testing"
)

func TestBehaviour(t *testing.T) {
	for _, tc := range []struct {
		loss                    []float64
		mean, sigma, se, lo, hi float64
	}{
		{[]float64{1, 2, 3, 4}, 2.5, math.Sqrt(1.25), math.Sqrt(5.0/3) / 2, 1, 4},
		{[]float64{0.5}, 0.5, 0, 0, 0.5, 0.5},
		{[]float64{2, 2, 2}, 2, 0, 0, 2, 2},
	} {
		s, err := Behaviour(tc.loss)
		if err != nil {
			t.Fatal(err)
		}
		if s.N != len(tc.loss) || math.Abs(s.Mean-tc.mean) > 1e-15 || math.Abs(s.SigmaOOD-tc.sigma) > 1e-15 ||
			math.Abs(s.StdErr-tc.se) > 1e-15 || s.Min != tc.lo || s.Max != tc.hi {
			t.Errorf("%v: got %+v", tc.loss, s)
		}
	}
	for _, tc := range []struct {
		loss []float64
		want string
	}{
		{nil, "no OOD losses"},
		{[]float64{1, math.NaN()}, "NaN"},
		{[]float64{math.Inf(1)}, "Inf"},
		{[]float64{1, -0.5}, "negative"},
	} {
		if _, err := Behaviour(tc.loss); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.loss, err, tc.want)
		}
	}
}

func TestMaskedMSEAndOutputDistances(t *testing.T) {
	// Three networks, M = 4 elements each; the mask scores elements 0, 1, 3
	// with weights 1, 1, 2.
	out := []float64{
		1, 2, 3, 4,
		1, 2, 30, 6,
		0, 0, 0, 0,
	}
	target := []float64{1, 1, 1, 1}
	mask := []float64{1, 1, 0, 2}
	loss, err := MaskedMSE(out, 3, target, mask)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range []float64{(0 + 1 + 2*9) / 4.0, (0 + 1 + 2*25) / 4.0, (1 + 1 + 2*1) / 4.0} {
		if math.Abs(loss[s]-want) > 1e-15 {
			t.Errorf("masked MSE of network %d = %g, want %g", s, loss[s], want)
		}
	}
	all, err := MaskedMSE(out[:4], 1, target, nil)
	if err != nil || math.Abs(all[0]-(0+1+4+9)/4.0) > 1e-15 {
		t.Errorf("unmasked MSE = %v (err %v), want 3.5", all, err)
	}
	d, err := OutputDistances(out, 3, mask)
	if err != nil {
		t.Fatal(err)
	}
	want := [3][3]float64{
		{0, math.Sqrt(2 * 4 / 4.0), math.Sqrt((1 + 4 + 2*16) / 4.0)},
		{0, 0, math.Sqrt((1 + 4 + 2*36) / 4.0)},
	}
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			w := want[min(i, j)][max(i, j)]
			if math.Abs(d.At(i, j)-w) > 1e-15 {
				t.Errorf("distance (%d,%d) = %g, want %g", i, j, d.At(i, j), w)
			}
		}
	}
	for _, tc := range []struct {
		name string
		f    func() error
		want string
	}{
		{"split", func() error { _, err := OutputDistances(out[:11], 3, nil); return err }, "do not split"},
		{"one network", func() error { _, err := OutputDistances(out[:4], 1, nil); return err }, "at least two"},
		{"mask length", func() error { _, err := OutputDistances(out, 3, mask[:3]); return err }, "mask has 3"},
		{"empty mask", func() error { _, err := OutputDistances(out, 3, []float64{0, 0, 0, 0}); return err }, "scores no element"},
		{"negative mask", func() error { _, err := OutputDistances(out, 3, []float64{1, -1, 0, 0}); return err }, "negative"},
		{"NaN output", func() error { _, err := MaskedMSE([]float64{1, math.NaN()}, 1, []float64{1, 1}, nil); return err }, "NaN"},
		{"targets", func() error { _, err := MaskedMSE(out, 3, target[:2], nil); return err }, "targets have 2"},
	} {
		if err := tc.f(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

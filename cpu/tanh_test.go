package cpu

import (
	"math"
	"testing"
)

// TestTanh32 checks tanhSlice32 (vector lanes and scalar tails) against
// math.Tanh on a dense grid, and its handling of NaN, ±Inf and ±0.
func TestTanh32(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 100003} {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(-12 + 24*float64(i)/float64(max(n-1, 1)))
		}
		want := make([]float64, n)
		for i, x := range v {
			want[i] = math.Tanh(float64(x))
		}
		tanhSlice32(v)
		for i := range v {
			if err := math.Abs(float64(v[i])-want[i]) / math.Max(math.Abs(want[i]), 1e-30); err > 5e-7 {
				t.Fatalf("n=%d: tanh(%g) = %.9g, want %.9g (relative error %.2g)", n, -12+24*float64(i)/float64(max(n-1, 1)), v[i], want[i], err)
			}
		}
	}
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 1e-30, -3e-5, 0.5, 20}
	for _, lanes := range []int{1, 8} { // scalar and vector paths
		v := make([]float32, 0, len(special)*lanes)
		for _, x := range special {
			for range lanes {
				v = append(v, x)
			}
		}
		tanhSlice32(v)
		for k, x := range special {
			got := v[k*lanes]
			switch {
			case math.IsNaN(float64(x)):
				if !math.IsNaN(float64(got)) {
					t.Errorf("lanes=%d: tanh(NaN) = %g, want NaN", lanes, got)
				}
			case math.Abs(float64(got)-math.Tanh(float64(x))) > 5e-7*math.Abs(math.Tanh(float64(x))):
				t.Errorf("lanes=%d: tanh(%g) = %g, want %g", lanes, x, got, math.Tanh(float64(x)))
			}
		}
	}
}

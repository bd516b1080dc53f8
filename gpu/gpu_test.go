//go:build cuda

package gpu_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"degen"
	"degen/cpu/cputest"
	"degen/gpu"
	"degen/tasks"
)

func newGPU(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
	return gpu.New(d, m, gamma)
}

// tolerances are the CPU float32 backend's (cputest.Float32: about ten times
// the worst float32-vs-float64 error the CPU shows). The GPU computes in
// plain float32 too; it differs from the CPU float32 backend only in the
// order of its sums (an 8x8 register tile over k for the recurrence, a 64x64
// GEMM tile over (t, b) rows for dW_hh, warp shuffles for the small
// gradients) and in tanhf (2 ulp) against the CPU's rational tanh, so the
// same bounds apply.
func tolerances() cputest.Tolerances { return cputest.Float32() }

// TestConformance runs the shared suite: every case of the size table (H in
// 31..129, S = 1 and S above the number of multiprocessors, both cells)
// against the float64 CPU reference, with NaN guards behind every output.
func TestConformance(t *testing.T) {
	cputest.Conformance(t, "gpu", newGPU, tolerances())
}

// TestFaults checks that sizes the GPU cannot hold fail in New with one
// clear message, before anything runs.
func TestFaults(t *testing.T) {
	for _, c := range []struct {
		name string
		d    degen.Dims
		want string
	}{
		{"H too large for shared memory", degen.Dims{S: 1, B: 4, T: 3, I: 3, H: 400, O: 3}, "shared memory"},
		{"ensemble larger than device memory", degen.Dims{S: 1 << 20, B: 128, T: 1000, I: 3, H: 128, O: 3}, "at most S="},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := degen.Model{Cell: degen.Vanilla, H: c.d.H}
			be, err := gpu.New(c.d, m, make([]float32, c.d.S))
			if err == nil {
				be.Close()
				t.Fatalf("New: no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want a message with %q", err, c.want)
			}
			t.Logf("%v", err)
		})
	}
}

// TestLongerBatch checks that a batch longer than Dims().T (OOD evaluation)
// grows the buffers and matches a fresh backend built for that length.
func TestLongerBatch(t *testing.T) {
	d := degen.Dims{S: 3, B: 5, T: 4, I: 2, H: 33, O: 2}
	m := degen.Model{Cell: degen.Vanilla, H: d.H}
	l := degen.NewLayout(d.H, d.I, d.O)
	st := degen.NewTrainState(d.S, l)
	for s := range d.S {
		degen.InitParams(m, l, 7, uint64(s), st.Params[s*l.P:(s+1)*l.P])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	bt := tasks.NewBatch(d.S, d.B, 2*d.T, d.I, d.O)
	for i := range bt.X {
		bt.X[i] = float32(2*rng.Float64() - 1)
	}
	for i := range bt.Mask {
		bt.Mask[i] = 1
	}
	run := func(d degen.Dims) []float32 {
		be, err := gpu.New(d, m, make([]float32, d.S))
		if err != nil {
			t.Fatal(err)
		}
		defer be.Close()
		if err := be.SetState(st); err != nil {
			t.Fatal(err)
		}
		out := make([]float32, d.S*bt.T*d.B*d.O)
		if err := be.Evaluate(bt, out, nil, make([]float32, d.S)); err != nil {
			t.Fatal(err)
		}
		return out
	}
	short := run(d)
	d.T *= 2
	long := run(d)
	for i := range long {
		if short[i] != long[i] {
			t.Fatalf("output %d: %g after growing, %g from a backend built for T=%d", i, short[i], long[i], d.T)
		}
	}
}

//go:build cuda || cudaemu

package gpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"degen"
	"degen/cpu"
	"degen/cpu/cputest"
	"degen/gpu"
	"degen/kernels"
	"degen/tasks"
)

func newGPU(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
	return gpu.New(d, m, gamma)
}

// initState returns a train state with every network of d initialised by
// degen.InitParams from seed.
func initState(m degen.Model, d degen.Dims, seed uint64) *degen.TrainState {
	l := degen.NewLayout(d.H, d.I, d.O)
	st := degen.NewTrainState(d.S, l)
	for s := range d.S {
		degen.InitParams(m, l, seed, uint64(s), st.Params[s*l.P:(s+1)*l.P])
	}
	return st
}

// pulseBatch returns n slots of flip-flop-like trials: inputs ±1 pulses on
// 10% of the steps, targets ±1, every output scored.
func pulseBatch(rng *rand.Rand, n int, d degen.Dims) *tasks.Batch {
	bt := tasks.NewBatch(n, d.B, d.T, d.I, d.O)
	for i := range bt.X {
		if rng.Float64() < 0.1 {
			bt.X[i] = float32(2*rng.IntN(2) - 1)
		}
	}
	for i := range bt.Y {
		bt.Y[i] = float32(2*rng.IntN(2) - 1)
		bt.Mask[i] = 1
	}
	return bt
}

// newFails checks that gpu.New of a vanilla ensemble of d fails, under the
// environment the caller set, with a message containing want; it returns
// the message.
func newFails(t *testing.T, what string, d degen.Dims, want string) string {
	t.Helper()
	be, err := gpu.New(d, degen.Model{Cell: degen.Vanilla, H: d.H}, make([]float32, d.S))
	if err == nil {
		be.Close()
		t.Fatalf("%s: New gave no error", what)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: New: %v, want a message with %q", what, err, want)
	}
	return err.Error()
}

// backendFactory makes a backend for the conformance suite.
type backendFactory = func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error)

// withVariants returns a factory that makes the GPU backend and fails
// unless it runs the wanted kernels: the variants ForwardVariant,
// BackwardVariant and GradVariant return ("" leaves one unchecked).
func withVariants(fwd, bwd, grad string) backendFactory {
	return func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
		be, err := gpu.New(d, m, gamma)
		if err != nil {
			return nil, err
		}
		got := [3]string{be.ForwardVariant(), be.BackwardVariant(), be.GradVariant()}
		for k, want := range [3]string{fwd, bwd, grad} {
			if want != "" && got[k] != want {
				be.Close()
				return nil, fmt.Errorf("kernels forward %s, backward %s, weight gradients %s; want %q, %q, %q", got[0], got[1], got[2], fwd, bwd, grad)
			}
		}
		return be, nil
	}
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
// against the float64 CPU reference, with NaN guards behind every output;
// with the default kernels (weight gradients on the tensor cores), with
// every GEMM on the CUDA cores (DEGEN_MMA=off) and with two warp groups in
// the sequence kernels (DEGEN_GROUPS=2).
func TestConformance(t *testing.T) {
	cputest.Conformance(t, "gpu", newGPU, tolerances())
	t.Run("cuda cores", func(t *testing.T) {
		t.Setenv(gpu.MmaEnv, "off")
		cputest.Conformance(t, "gpu", newGPU, tolerances())
	})
	t.Run("two warp groups", func(t *testing.T) {
		t.Setenv(gpu.GroupsEnv, "2")
		cputest.Conformance(t, "gpu", newGPU, tolerances())
	})
}

// TestResultIndependentOfSlot runs the suite's slot check: a network alone
// and in the last slot of an ensemble gets bit-identical results.
func TestResultIndependentOfSlot(t *testing.T) {
	cputest.SlotIndependence(t, newGPU)
}

// TestFusedBackward runs the suite's case with rnn_backward_fused (all
// weight gradients accumulated on chip) forced, on sizes where it can run:
// enough trials that every unit has a thread, both tile sizes, several
// chunks of trials, H off the warp and tile boundaries; and checks that
// forcing it where it cannot run fails in New with a clear message.
func TestFusedBackward(t *testing.T) {
	t.Setenv(gpu.BackwardEnv, "fused")
	for i, c := range []cputest.Case{
		{Cell: degen.Vanilla, S: 3, B: 40, T: 5, I: 4, H: 33, O: 4},
		{Cell: degen.Rate, S: 3, B: 40, T: 5, I: 4, H: 33, O: 4},
		{Cell: degen.Vanilla, S: 2, B: 64, T: 6, I: 3, H: 64, O: 2},
		{Cell: degen.Rate, S: 2, B: 64, T: 6, I: 1, H: 64, O: 3},
		{Cell: degen.Vanilla, S: 2, B: 128, T: 4, I: 3, H: 128, O: 3},
		{Cell: degen.Vanilla, S: 1, B: 256, T: 3, I: 2, H: 128, O: 1}, // two chunks of 128 trials
		{Cell: degen.Rate, S: 1, B: 256, T: 3, I: 2, H: 64, O: 1},     // two chunks of 128 trials
		{Cell: degen.Vanilla, S: 2, B: 32, T: 7, I: 3, H: 32, O: 3},
	} {
		t.Run(c.String(), func(t *testing.T) { cputest.RunCase(t, c, uint64(200+i), newGPU, tolerances()) })
	}
	newFails(t, "fused backward forced on B=3", degen.Dims{S: 1, B: 3, T: 3, I: 3, H: 64, O: 3}, "rnn_backward_fused does not support")
}

// TestMma runs the suite's case with the tensor-core kernels (3xTF32,
// DEGEN_MMA=on) on sizes that reach each of them (one and two 64-trial row
// blocks; 32, 64 and 128 units, the first two with their weights split once
// (PRESPLIT in rnn.cu); both cells; H off the tile boundaries; two chunks of
// trials), with the tensor-core split backward and weight gradients
// (rnn_grad_mma_t64 and _t128) and with the fused backward where it runs
// (DEGEN_BACKWARD=auto), the long-sequence gradient check, and outputs on a
// long shared batch as TestEvaluateShared.
func TestMma(t *testing.T) {
	t.Setenv(gpu.MmaEnv, "on")
	for i, c := range []cputest.Case{
		{Cell: degen.Vanilla, S: 3, B: 5, T: 6, I: 2, H: 31, O: 3},   // m1n2
		{Cell: degen.Rate, S: 2, B: 20, T: 5, I: 3, H: 33, O: 2},     // m1n4
		{Cell: degen.Vanilla, S: 2, B: 64, T: 4, I: 4, H: 64, O: 2},  // m1n4
		{Cell: degen.Vanilla, S: 2, B: 9, T: 5, I: 3, H: 127, O: 3},  // m1n8
		{Cell: degen.Vanilla, S: 2, B: 100, T: 3, I: 3, H: 65, O: 3}, // m2n8
		{Cell: degen.Vanilla, S: 2, B: 128, T: 3, I: 1, H: 40, O: 1}, // m2n4
		{Cell: degen.Rate, S: 1, B: 128, T: 3, I: 3, H: 128, O: 3},   // m1n8, two chunks
	} {
		for _, bwd := range []string{"split", "auto"} {
			t.Run(c.String()+"/"+bwd, func(t *testing.T) {
				t.Setenv(gpu.BackwardEnv, bwd)
				cputest.RunCase(t, c, uint64(300+i), newGPU, tolerances())
			})
		}
	}
	t.Run("long shared batch", TestEvaluateShared)
	t.Run("long gradient", TestGradientAccuracyLong)
	// Above H = 128 only the weight-gradient kernel runs on the tensor cores
	// (DEGEN_MMA=auto), in 2 x 2 tiles of 128 x 128: tiles without the first
	// row or column, and 4-byte (H=129) and 16-byte (H=132) copies.
	t.Run("weight gradients only", func(t *testing.T) {
		t.Setenv(gpu.MmaEnv, "auto")
		gradOnly := withVariants("fp32", "", "mma")
		for i, c := range []cputest.Case{
			{Cell: degen.Vanilla, S: 2, B: 7, T: 5, I: 3, H: 129, O: 2},
			{Cell: degen.Rate, S: 2, B: 6, T: 4, I: 2, H: 132, O: 3},
		} {
			cputest.RunCase(t, c, uint64(320+i), gradOnly, tolerances())
		}
	})
}

// TestWgmma runs the conformance cases of the weight-gradient sizes on the
// warpgroup-MMA kernels (DEGEN_WGMMA=grad: rnn_grad_wgmma_t64 up to H = 64,
// _t128 above, partial tiles and 4-byte copies included), and the
// long-sequence gradient check against float64.
func TestWgmma(t *testing.T) {
	t.Setenv(gpu.WgmmaEnv, "grad")
	wgmma := withVariants("", "", "wgmma")
	for i, c := range []cputest.Case{
		{Cell: degen.Vanilla, S: 3, B: 5, T: 6, I: 2, H: 31, O: 3},
		{Cell: degen.Rate, S: 2, B: 20, T: 5, I: 3, H: 64, O: 2},
		{Cell: degen.Vanilla, S: 2, B: 9, T: 5, I: 3, H: 127, O: 3},
		{Cell: degen.Rate, S: 2, B: 6, T: 4, I: 2, H: 129, O: 3},
	} {
		t.Run(c.String(), func(t *testing.T) { cputest.RunCase(t, c, uint64(340+i), wgmma, tolerances()) })
	}
	t.Run("long gradient", TestGradientAccuracyLong)
}

// wgmmaSequenceCases are the conformance cases of TestWgmmaSequence: rnn_*_wgmma_h64 (H <= 64) and _h128, vanilla and _rate;
// one chunk of 64 trials partly live, several chunks with a partial last
// one; H odd (4-byte state copies and stores) and off the 8-unit blocks;
// I = 7, the most inputs the forward's 8 columns after the units take with
// the bias, and O = 4, the most outputs.
var wgmmaSequenceCases = []cputest.Case{
	{Cell: degen.Vanilla, S: 3, B: 5, T: 6, I: 2, H: 31, O: 3},
	{Cell: degen.Rate, S: 2, B: 70, T: 4, I: 3, H: 64, O: 2},
	{Cell: degen.Vanilla, S: 2, B: 9, T: 5, I: 7, H: 127, O: 4},
	{Cell: degen.Vanilla, S: 1, B: 130, T: 3, I: 3, H: 128, O: 1},
	{Cell: degen.Rate, S: 2, B: 6, T: 5, I: 1, H: 40, O: 3},
	{Cell: degen.Vanilla, S: 2, B: 12, T: 4, I: 3, H: 72, O: 3},
	{Cell: degen.Rate, S: 2, B: 70, T: 4, I: 3, H: 128, O: 3},
	{Cell: degen.Rate, S: 1, B: 7, T: 5, I: 2, H: 97, O: 2},
}

// TestWgmmaSequence runs wgmmaSequenceCases on the warpgroup-MMA forward
// (DEGEN_WGMMA=fwd) and backward (bwd), each followed by the long-sequence
// gradient check (with the weight gradients on the warpgroup MMA too, and
// then every kernel of the step), and the long shared batch (both cells,
// auto).
func TestWgmmaSequence(t *testing.T) {
	for _, k := range []struct {
		name, env, long string
		seed            uint64
		kernels         backendFactory
	}{
		{"forward", "fwd", "grad,fwd", 360, withVariants("wgmma", "", "")},
		{"backward", "bwd", "on", 380, withVariants("", "wgmma", "")},
	} {
		t.Run(k.name, func(t *testing.T) {
			t.Setenv(gpu.WgmmaEnv, k.env)
			for i, c := range wgmmaSequenceCases {
				t.Run(c.String(), func(t *testing.T) { cputest.RunCase(t, c, k.seed+uint64(i), k.kernels, tolerances()) })
			}
			t.Run("long gradient", func(t *testing.T) {
				t.Setenv(gpu.WgmmaEnv, k.long)
				TestGradientAccuracyLong(t)
			})
		})
	}
	t.Run("long shared batch", func(t *testing.T) {
		t.Setenv(gpu.WgmmaEnv, "auto")
		TestEvaluateShared(t)
	})
}

// TestWideInputs runs the suite's case on sizes with more than four inputs
// or outputs, which take the rnn_grad_w16 kernel that the size table does
// not reach.
func TestWideInputs(t *testing.T) {
	for i, c := range []cputest.Case{
		{Cell: degen.Vanilla, S: 3, B: 5, T: 4, I: 6, H: 33, O: 5},
		{Cell: degen.Rate, S: 3, B: 5, T: 4, I: 6, H: 33, O: 5},
		{Cell: degen.Vanilla, S: 2, B: 3, T: 3, I: 16, H: 129, O: 16},
		{Cell: degen.Rate, S: 2, B: 3, T: 3, I: 5, H: 64, O: 2},
	} {
		t.Run(c.String(), func(t *testing.T) { cputest.RunCase(t, c, uint64(100+i), newGPU, tolerances()) })
	}
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
		t.Run(c.name, func(t *testing.T) { t.Log(newFails(t, c.name, c.d, c.want)) })
	}
}

// TestPTXOverride checks that PTXEnv loads its file (here a copy of the
// embedded kernels) and that a missing file is a clear error.
func TestPTXOverride(t *testing.T) {
	d := degen.Dims{S: 1, B: 4, T: 3, I: 3, H: 8, O: 3}
	m := degen.Model{Cell: degen.Vanilla, H: d.H}
	path := filepath.Join(t.TempDir(), "kernels.ptx")
	if err := os.WriteFile(path, []byte(kernels.PTX), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(gpu.PTXEnv, path)
	be, err := gpu.New(d, m, make([]float32, d.S))
	if err != nil {
		t.Fatalf("New with %s=%s: %v", gpu.PTXEnv, path, err)
	}
	be.Close()
	t.Setenv(gpu.PTXEnv, path+".missing")
	newFails(t, "a missing PTX file", d, gpu.PTXEnv)
}

// readoutTileCases reach rnn_forward's in-register readout (readoutTile,
// 8x8 tiles only) with 8 and 16 lanes per trial row (W1's shape, 256
// tiles) and over two chunks of trials; plan_test.go checks that each
// takes it.
var readoutTileCases = []cputest.Case{
	{Cell: degen.Vanilla, S: 2, B: 128, T: 4, I: 3, H: 64, O: 5},
	{Cell: degen.Vanilla, S: 1, B: 128, T: 3, I: 3, H: 128, O: 3},
	{Cell: degen.Rate, S: 1, B: 128, T: 3, I: 2, H: 128, O: 2}, // two chunks of 64
}

// TestReadoutTile runs the suite's case on readoutTileCases.
func TestReadoutTile(t *testing.T) {
	for i, c := range readoutTileCases {
		t.Run(c.String(), func(t *testing.T) { cputest.RunCase(t, c, uint64(400+i), newGPU, tolerances()) })
	}
}

// TestWarpGroups runs the suite's case with two warp groups in the
// CUDA-core sequence kernels (DEGEN_GROUPS=2) where the conformance sizes
// do not reach: 8x8 tiles with the in-register readout (readoutTileCases),
// two chunks of trials, a second group with only some live trials, and
// beside the fused backward and the tensor-core sequence kernels, which
// run as one group; and checks that a bad value fails in New.
func TestWarpGroups(t *testing.T) {
	t.Setenv(gpu.GroupsEnv, "2")
	cases := append([]cputest.Case{
		{Cell: degen.Vanilla, S: 1, B: 256, T: 3, I: 2, H: 128, O: 1}, // two chunks of 128 trials
		{Cell: degen.Rate, S: 2, B: 20, T: 4, I: 3, H: 40, O: 2},      // group 1: trials 16..19 live
	}, readoutTileCases...)
	for i, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			cputest.RunCase(t, c, uint64(500+i), withVariants("fp32g2", "splitg2", ""), tolerances())
		})
	}
	c := cputest.Case{Cell: degen.Rate, S: 2, B: 64, T: 5, I: 3, H: 64, O: 2}
	t.Run("fused backward", func(t *testing.T) {
		t.Setenv(gpu.BackwardEnv, "fused")
		cputest.RunCase(t, c, 510, withVariants("fp32g2", "fused", ""), tolerances())
	})
	t.Run("tensor cores", func(t *testing.T) {
		t.Setenv(gpu.MmaEnv, "seq")
		cputest.RunCase(t, c, 511, withVariants("mma", "mma", ""), tolerances())
	})
	t.Setenv(gpu.GroupsEnv, "3")
	newFails(t, "DEGEN_GROUPS=3", degen.Dims{S: 1, B: 3, T: 3, I: 3, H: 32, O: 3}, "want 1, 2 or auto")
}

// exactRun is what one backend computes for TestWarpGroupsExact and
// TestWgmmaExact: outputs, states and loss of an evaluation, gradients and
// loss of a gradient step.
type exactRun struct{ out, states, grad, evalLoss, gradLoss []float32 }

// runExact makes a GPU backend for case c with the environment variable env
// set to value, loads st and returns what it computes on bt.
func runExact(t *testing.T, c cputest.Case, st *degen.TrainState, bt *tasks.Batch, env, value string) exactRun {
	t.Helper()
	t.Setenv(env, value)
	d := degen.Dims{S: c.S, B: c.B, T: c.T, I: c.I, H: c.H, O: c.O}
	be, err := gpu.New(d, degen.Model{Cell: c.Cell, H: d.H, Tau: 0.2}, []float32{0.5, 1, 2}[:d.S])
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if err := be.SetState(st); err != nil {
		t.Fatal(err)
	}
	l := degen.NewLayout(d.H, d.I, d.O)
	r := exactRun{make([]float32, d.S*d.T*d.B*d.O), make([]float32, d.S*d.T*d.B*d.H),
		make([]float32, d.S*l.P), make([]float32, d.S), make([]float32, d.S)}
	if err := be.Evaluate(bt, r.out, r.states, r.evalLoss); err != nil {
		t.Fatal(err)
	}
	h := &degen.Hyper{LR: make([]float32, d.S), L1: make([]float32, d.S), Nuclear: make([]float32, d.S)}
	if err := be.Gradients(bt, h, r.grad, r.gradLoss); err != nil {
		t.Fatal(err)
	}
	return r
}

// runExactPair runs case c twice, with env set to a and then to b, from
// the same initial state (seed) and pulse batch (stream), for the exactness
// tests.
func runExactPair(t *testing.T, c cputest.Case, seed uint64, stream [2]uint64, env, a, b string) (exactRun, exactRun) {
	t.Helper()
	d := degen.Dims{S: c.S, B: c.B, T: c.T, I: c.I, H: c.H, O: c.O}
	st := initState(degen.Model{Cell: c.Cell, H: d.H, Tau: 0.2}, d, seed)
	bt := pulseBatch(rand.New(rand.NewPCG(stream[0], stream[1])), d.S, d)
	return runExact(t, c, st, bt, env, a), runExact(t, c, st, bt, env, b)
}

// compareExact fails unless got equals want bit for bit, the losses to
// their last bits (1e-6 relative), and the gradient elements that close
// accepts to a sum's rounding in another order (1e-5 relative, plus 1e-6 of
// the largest gradient: sums with cancellation).
func compareExact(t *testing.T, what string, want, got exactRun, close func(k int) bool) {
	t.Helper()
	largest := 0.0
	for _, v := range want.grad {
		largest = max(largest, math.Abs(float64(v)))
	}
	for _, x := range []struct {
		name      string
		want, got []float32
		tolerance func(k int) bool
	}{{"outputs", want.out, got.out, nil}, {"states", want.states, got.states, nil},
		{"gradients", want.grad, got.grad, close}, {"loss (Evaluate)", want.evalLoss, got.evalLoss, func(int) bool { return true }},
		{"loss (Gradients)", want.gradLoss, got.gradLoss, func(int) bool { return true }}} {
		for k := range x.want {
			a, b := x.want[k], x.got[k]
			same := a == b
			if x.tolerance != nil && x.tolerance(k) {
				tol := 1e-6 * math.Abs(float64(a))
				if x.name == "gradients" {
					tol = 1e-5*math.Abs(float64(a)) + 1e-6*largest
				}
				same = math.Abs(float64(a-b)) <= tol
			}
			if !same || math.IsNaN(float64(b)) {
				t.Fatalf("%s[%d]: %g %s, %g without", x.name, k, b, what, a)
			}
		}
	}
}

// TestWarpGroupsExact checks that two warp groups compute what one group
// does, bit for bit: every trial's sums run in the same order whichever
// group owns it, so outputs, states and gradients must be equal; only the
// loss, summed over threads in another grouping, may differ in its last
// bits. Sizes: W1's 8x8 tiles with the in-register readout (vanilla), two
// chunks (rate), 4x4 tiles with a second group partly live.
func TestWarpGroupsExact(t *testing.T) {
	for i, c := range []cputest.Case{
		{Cell: degen.Vanilla, S: 2, B: 128, T: 6, I: 3, H: 128, O: 3},
		{Cell: degen.Rate, S: 2, B: 128, T: 5, I: 2, H: 128, O: 2},
		{Cell: degen.Vanilla, S: 3, B: 20, T: 7, I: 3, H: 40, O: 2},
	} {
		t.Run(c.String(), func(t *testing.T) {
			one, two := runExactPair(t, c, uint64(600+i), [2]uint64{uint64(i), 7}, gpu.GroupsEnv, "1", "2")
			compareExact(t, "with two warp groups", one, two, nil)
		})
	}
}

// TestWgmmaExact checks the weight gradients of the warpgroup-MMA kernels
// (DEGEN_WGMMA=grad) against rnn_grad_mma_*'s (the default): the same 3xTF32
// products in the same order, summed per 8 rows, then per stage of 32,
// then in float32, so on the emulator dW_hh must be equal bit for bit
// (on a GPU wgmma and mma.sync may sum differently). With 128 x 128 tiles
// the small gradients are summed alike too; rnn_grad_wgmma_t64 has half
// rnn_grad_mma_t64's threads, so their other sums may differ in the last
// bits. Sizes: W1's tiles; partial tiles of 128 and 64 with a partial last
// stage; H not a multiple of 4 (4-byte copies), and four tiles.
func TestWgmmaExact(t *testing.T) {
	devs, err := gpu.Devices()
	if err != nil {
		t.Fatal(err)
	}
	emulated := devs[0].Driver == "emulator"
	for i, c := range []cputest.Case{
		{Cell: degen.Vanilla, S: 2, B: 128, T: 6, I: 3, H: 128, O: 3},
		{Cell: degen.Rate, S: 2, B: 20, T: 5, I: 2, H: 72, O: 2},
		{Cell: degen.Vanilla, S: 3, B: 20, T: 7, I: 3, H: 40, O: 2},
		{Cell: degen.Vanilla, S: 2, B: 9, T: 4, I: 1, H: 33, O: 4},
		{Cell: degen.Rate, S: 1, B: 8, T: 3, I: 3, H: 130, O: 3},
	} {
		t.Run(c.String(), func(t *testing.T) {
			mma, wgmma := runExactPair(t, c, uint64(700+i), [2]uint64{uint64(i), 9}, gpu.WgmmaEnv, "off", "grad")
			p := degen.NewLayout(c.H, c.I, c.O).P
			compareExact(t, "with the warpgroup MMA", mma, wgmma, func(k int) bool {
				return !emulated || c.H <= 64 && k%p >= c.H*c.H
			})
		})
	}
}

// TestLongerBatch checks that a batch longer than Dims().T (OOD evaluation)
// grows the buffers and matches a fresh backend built for that length.
func TestLongerBatch(t *testing.T) {
	d := degen.Dims{S: 3, B: 5, T: 4, I: 2, H: 33, O: 2}
	m := degen.Model{Cell: degen.Vanilla, H: d.H}
	st := initState(m, d, 7)
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

// TestEvaluateShared checks Evaluate on a batch shared by all networks
// (N = 1, as the fixed evaluation sets are) at the training sizes of the
// end-to-end check, against the float64 CPU reference.
func TestEvaluateShared(t *testing.T) {
	for _, cell := range []degen.Cell{degen.Vanilla, degen.Rate} {
		d := degen.Dims{S: 4, B: 64, T: 100, I: 3, H: 128, O: 3}
		m := degen.Model{Cell: cell, H: d.H, Tau: 0.1}
		st := initState(m, d, 3)
		bt := pulseBatch(rand.New(rand.NewPCG(5, 6)), 1, d)
		gamma := []float32{1, 1, 1, 1}
		outs, losses := make([][]float32, 2), make([][]float32, 2)
		for k, mk := range []func(degen.Dims, degen.Model, []float32) (degen.Backend, error){newGPU,
			func(d degen.Dims, m degen.Model, g []float32) (degen.Backend, error) { return cpu.NewFloat64(d, m, g) }} {
			be, err := mk(d, m, gamma)
			if err != nil {
				t.Fatal(err)
			}
			if err := be.SetState(st); err != nil {
				t.Fatal(err)
			}
			outs[k], losses[k] = make([]float32, d.S*d.T*d.B*d.O), make([]float32, d.S)
			if err := be.Evaluate(bt, outs[k], nil, losses[k]); err != nil {
				t.Fatal(err)
			}
			be.Close()
		}
		tol := tolerances()
		for s := range d.S {
			g, w := float64(losses[0][s]), float64(losses[1][s])
			if math.IsNaN(g) || math.Abs(g-w) > tol.Loss.Atol+tol.Loss.Rtol*math.Abs(w) {
				t.Errorf("%s network %d: loss %g, want %g", cell, s, g, w)
			}
		}
		worst := 0.0
		for i := range outs[1] {
			g, w := float64(outs[0][i]), float64(outs[1][i])
			worst = math.Max(worst, math.Abs(g-w))
			if math.IsNaN(g) {
				worst = math.Inf(1)
			}
		}
		t.Logf("%s: largest output difference %.3g", cell, worst)
		if worst > 1e-3 {
			t.Errorf("%s: outputs differ by up to %g", cell, worst)
		}
	}
}

// TestGradientAccuracyLong logs, for a long sequence (T=100, B=32, H=128,
// cold parameters), how far the GPU's and the float32 CPU backend's
// gradients are from the float64 reference, per tensor, as the worst
// |g - ref| / rms(ref). It fails only when the GPU's error exceeds the
// conformance tolerance on gradients (1e-4 rms + 1e-3 |ref|) by more than
// the float32 CPU backend's does, so it tracks accumulation error at
// lengths the size table does not reach.
func TestGradientAccuracyLong(t *testing.T) {
	d := degen.Dims{S: 4, B: 32, T: 100, I: 3, H: 128, O: 3}
	m := degen.Model{Cell: degen.Vanilla, H: d.H}
	l := degen.NewLayout(d.H, d.I, d.O)
	st := initState(m, d, 9)
	bt := pulseBatch(rand.New(rand.NewPCG(7, 8)), d.S, d)
	h := &degen.Hyper{}
	grads := make([][]float32, 3)
	for k, mk := range []func(degen.Dims, degen.Model, []float32) (degen.Backend, error){newGPU,
		func(d degen.Dims, m degen.Model, g []float32) (degen.Backend, error) { return cpu.New(d, m, g) },
		func(d degen.Dims, m degen.Model, g []float32) (degen.Backend, error) { return cpu.NewFloat64(d, m, g) }} {
		be, err := mk(d, m, make([]float32, d.S))
		if err != nil {
			t.Fatal(err)
		}
		if err := be.SetState(st); err != nil {
			t.Fatal(err)
		}
		grads[k] = make([]float32, d.S*l.P)
		if err := be.Gradients(bt, h, grads[k], make([]float32, d.S)); err != nil {
			t.Fatal(err)
		}
		be.Close()
	}
	for _, tn := range l.Tensors() {
		var worst [2]float64
		var used [2]float64
		var ss float64
		n := tn.Size()
		for s := range d.S {
			for i := s*l.P + tn.Offset; i < s*l.P+tn.Offset+n; i++ {
				ss += float64(grads[2][i]) * float64(grads[2][i])
			}
		}
		rms := math.Sqrt(ss / float64(d.S*n))
		for s := range d.S {
			for i := s*l.P + tn.Offset; i < s*l.P+tn.Offset+n; i++ {
				w := float64(grads[2][i])
				for k := range 2 {
					e := math.Abs(float64(grads[k][i]) - w)
					worst[k] = math.Max(worst[k], e/rms)
					used[k] = math.Max(used[k], e/(1e-4*rms+1e-3*math.Abs(w)))
				}
			}
		}
		t.Logf("%-5s worst |g-ref|/rms: gpu %.3g, cpu32 %.3g; gradient tolerance used: gpu %.3g, cpu32 %.3g", tn.Name, worst[0], worst[1], used[0], used[1])
		if used[0] > max(1, used[1]) {
			t.Errorf("%s: the GPU uses %.3g of the gradient tolerance, the float32 CPU %.3g", tn.Name, used[0], used[1])
		}
	}
}

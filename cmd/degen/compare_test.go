package main

import (
	"encoding/json"
	"math"
	"testing"

	"degen"
)

// TestCompareRunCPU compares the float32 CPU backend with the float64
// reference over a few steps: every tensor must be within tolerance.
func TestCompareRunCPU(t *testing.T) {
	for _, cell := range []degen.Cell{degen.Vanilla, degen.Rate} {
		cfg := degen.DefaultConfig()
		cfg.Cell, cfg.Hidden, cfg.Seeds, cfg.Batch, cfg.EvalTrials = cell, 33, 3, 5, 4
		run, err := degen.NewRun(cfg, "cpu")
		if err != nil {
			t.Fatal(err)
		}
		factory, err := backendFactory("cpu")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := compareRun(run, factory, "cpu", 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Tensors) != 1+3*5+3 {
			t.Errorf("%s: %d tensors compared, want %d", cell, len(rep.Tensors), 1+3*5+3)
		}
		for _, d := range rep.Tensors {
			if !d.Pass {
				t.Errorf("%s: %s uses %.3g of its tolerance", cell, d.Tensor, d.TolUsed)
			}
		}
	}
}

// TestDiff checks the per-tensor statistics on a hand-made case.
func TestDiff(t *testing.T) {
	want := []float32{1, -2, 0, 4}
	got := []float32{1, -2.001, 0, 4}
	d := diff("x", got, want, compareTol{Atol: 0, Rtol: 1e-3})
	if math.Abs(d.MaxAbs-0.001) > 1e-6 || math.Abs(d.MaxRel-0.0005) > 1e-6 {
		t.Errorf("max abs %g, max rel %g; want 0.001, 0.0005", d.MaxAbs, d.MaxRel)
	}
	if !d.Pass || math.Abs(d.TolUsed-0.5) > 1e-3 {
		t.Errorf("tolerance used %g (pass %v), want 0.5 and pass", d.TolUsed, d.Pass)
	}
	got[2] = float32(math.NaN())
	if d := diff("x", got, want, compareTol{Atol: 1, Rtol: 1}); d.Pass {
		t.Error("a NaN where the reference has a number passed")
	}
}

// TestCompareLearningRate checks that compare trains at compareLR unless
// --lr sets the rate, and reports the rate it used.
func TestCompareLearningRate(t *testing.T) {
	for _, c := range []struct {
		args []string
		want float64
	}{{nil, compareLR}, {[]string{"--lr", "0.02"}, 0.02}} {
		args := append([]string{"compare", "--backend", "cpu", "--hidden", "6", "--seeds", "2", "--batch", "4",
			"--knob", "steps=10", "--steps", "2", "--json"}, c.args...)
		code, out := runCapture(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, out)
		}
		var rep compareReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: %v in %q", args, err, out)
		}
		if len(rep.LR) != 1 || rep.LR[0] != c.want {
			t.Errorf("%v: lr %v, want [%g]", args, rep.LR, c.want)
		}
	}
}

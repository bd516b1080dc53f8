package cpu

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"degen"
	"degen/tasks"
)

// TestAgainstPyTorch checks the float64 backend against PyTorch itself
// (testdata/torch_step.py, float64): gradients of masked MSE + L1 + nuclear
// norm, and parameters after two Steps of torch.optim.Adam with
// clip_grad_norm_, for both cells. It needs /usr/bin/python3 with torch
// (Debian: apt-get install python3-torch) and is skipped without it and in
// -short mode.
func TestAgainstPyTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Python; not in -short mode")
	}
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Skipf("%s cannot import torch: %v", python, err)
	}
	for _, m := range []degen.Model{vanilla(6), rate(6)} {
		t.Run(string(m.Cell), func(t *testing.T) {
			d := degen.Dims{S: 3, B: 4, T: 5, I: 2, H: 6, O: 2}
			l := degen.NewLayout(d.H, d.I, d.O)
			rng := rand.New(rand.NewPCG(21, 22))
			gamma := gammas(d.S)
			st := initState(m, d, 8)
			batches := []*tasks.Batch{randomBatch(rng, d.S, d.B, d.T, d.I, d.O, 0.7), randomBatch(rng, d.S, d.B, d.T, d.I, d.O, 0.7)}
			hp := &degen.Hyper{LR: []float32{1e-2, 3e-3, 1e-2}, L1: []float32{0, 1e-2, 2e-3}, Nuclear: []float32{1e-2, 0, 5e-3}}

			// The gradient norms set a clip that binds for some networks.
			ref, err := NewFloat64(d, m, gamma)
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.SetState(st); err != nil {
				t.Fatal(err)
			}
			grad, loss := make([]float32, d.S*l.P), make([]float32, d.S)
			if err := ref.Gradients(batches[0], hp, grad, loss); err != nil {
				t.Fatal(err)
			}
			var norms []float64
			for s := range d.S {
				var ss float64
				for _, g := range grad[s*l.P : (s+1)*l.P] {
					ss += float64(g) * float64(g)
				}
				norms = append(norms, math.Sqrt(ss))
			}
			hp.ClipNorm = float32((norms[0] + norms[1] + norms[2]) / 3)

			in := map[string]any{"S": d.S, "B": d.B, "T": d.T, "I": d.I, "H": d.H, "O": d.O,
				"cell": m.Cell, "tau": m.Tau, "gamma": gamma, "params": st.Params,
				"lr": hp.LR, "l1": hp.L1, "nuclear": hp.Nuclear, "clip": hp.ClipNorm}
			for _, name := range []string{"x", "y", "mask"} {
				var v [][][]float32
				for _, bt := range batches {
					src := map[string][]float32{"x": bt.X, "y": bt.Y, "mask": bt.Mask}[name]
					n := len(src) / d.S
					var slots [][]float32
					for s := range d.S {
						slots = append(slots, src[s*n:(s+1)*n])
					}
					v = append(v, slots)
				}
				in[name] = v
			}
			dir := t.TempDir()
			inPath, outPath := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
			data, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(inPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if msg, err := exec.Command(python, "testdata/torch_step.py", inPath, outPath).CombinedOutput(); err != nil {
				t.Fatalf("torch_step.py: %v\n%s", err, msg)
			}
			var want struct{ Grad, Loss, Params []float64 }
			data, err = os.ReadFile(outPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}

			// Gradients (float32 output of float64 math): relative to each
			// network's largest gradient element.
			for s := range d.S {
				scale := 0.0
				for i := s * l.P; i < (s+1)*l.P; i++ {
					scale = max(scale, math.Abs(want.Grad[i]))
				}
				for i := s * l.P; i < (s+1)*l.P; i++ {
					if math.Abs(float64(grad[i])-want.Grad[i]) > 1e-6*scale {
						t.Errorf("network %d: gradient[%d] = %.9g, PyTorch %.9g", s, i-s*l.P, grad[i], want.Grad[i])
						break
					}
				}
			}
			steps := [2][]float32{make([]float32, d.S), make([]float32, d.S)}
			for k, bt := range batches {
				if err := ref.Step(bt, hp, []bool{true, true, true}, steps[k]); err != nil {
					t.Fatal(err)
				}
			}
			after := degen.NewTrainState(d.S, l)
			if err := ref.State(after); err != nil {
				t.Fatal(err)
			}
			for s := range d.S {
				for k := range 2 {
					if w := want.Loss[2*s+k]; math.Abs(float64(steps[k][s])-w) > 1e-6*w {
						t.Errorf("network %d step %d: loss %.9g, PyTorch %.9g", s, k, steps[k][s], w)
					}
				}
				for i := s * l.P; i < (s+1)*l.P; i++ {
					if math.Abs(float64(after.Params[i])-want.Params[i]) > 1e-6*(1+math.Abs(want.Params[i])) {
						t.Errorf("network %d: parameter[%d] after two Adam steps = %.9g, PyTorch %.9g", s, i-s*l.P, after.Params[i], want.Params[i])
						break
					}
				}
			}
		})
	}
}

package degen

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"degen/tasks"
)

// scriptedBackend is a Backend whose loss for network s at its k-th step is
// script(s, k), so the loop's bookkeeping can be tested without numerics.
type scriptedBackend struct {
	d      Dims
	st     *TrainState
	script func(s, k int) float32
	taken  []int // steps taken by each network
	lrSeen [][]float32
}

func (b *scriptedBackend) Dims() Dims { return b.d }
func (b *scriptedBackend) SetState(st *TrainState) error {
	b.st = st
	return nil
}
func (b *scriptedBackend) State(st *TrainState) error { return nil }
func (b *scriptedBackend) Step(batch *tasks.Batch, h *Hyper, active []bool, loss []float32) error {
	for s := range active {
		if active[s] {
			loss[s] = b.script(s, b.taken[s])
			b.taken[s]++
			b.lrSeen[s] = append(b.lrSeen[s], h.LR[s])
		}
	}
	return nil
}
func (b *scriptedBackend) Gradients(*tasks.Batch, *Hyper, []float32, []float32) error { return nil }
func (b *scriptedBackend) Evaluate(*tasks.Batch, []float32, []float32, []float32) error {
	return nil
}
func (b *scriptedBackend) Close() error { return nil }

func TestTrainLoopBookkeeping(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seeds = 4
	cfg.Hidden = 4
	cfg.Batch = 2
	cfg.StepsPerEpoch = 5
	cfg.MaxEpochs = 12
	cfg.Patience = 2
	cfg.PlateauPatience = 1
	cfg.Threshold = 0.1
	run, err := NewRun(cfg, "scripted")
	if err != nil {
		t.Fatal(err)
	}
	// Network 0 falls below threshold at epoch 3; 1 diverges at its 7th step;
	// 2 never improves (plateau halves its learning rate); 3 dips below the
	// threshold once, rises again, then converges later.
	script := func(s, k int) float32 {
		epoch := k / cfg.StepsPerEpoch
		switch s {
		case 0:
			if epoch >= 3 {
				return 0.01
			}
			return 1
		case 1:
			if k == 6 {
				return float32(math.NaN())
			}
			return 1
		case 2:
			return 1
		default:
			if epoch == 1 || epoch >= 5 {
				return 0.05
			}
			return 0.5
		}
	}
	fake := &scriptedBackend{script: script, taken: make([]int, 4), lrSeen: make([][]float32, 4)}
	factory := func(d Dims, m Model, gamma []float32) (Backend, error) { fake.d = d; return fake, nil }
	dir := t.TempDir()
	info, err := Train(context.Background(), run, dir, factory, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status Status
		epochs int
		steps  int
	}{
		{Converged, 6, 30},     // below at epochs 3, 4, 5: stops after 2 epochs of patience
		{Diverged, 2, 7},       // NaN on its 7th step, in epoch 1
		{NotConverged, 12, 60}, // ran out of epochs
		{Converged, 8, 40},     // below at 1, reset at 2, then below at 5, 6, 7
	}
	for s, w := range want {
		n := info.Networks[s]
		if n.Status != w.status || n.Epochs != w.epochs || n.Steps != w.steps {
			t.Errorf("network %d: %s after %d epochs, %d steps; want %s after %d, %d", s, n.Status, n.Epochs, n.Steps, w.status, w.epochs, w.steps)
		}
		if n.Converged != (w.status == Converged) || n.Diverged != (w.status == Diverged) {
			t.Errorf("network %d: flags disagree with status %+v", s, n)
		}
	}
	// Network 2's loss never improves after epoch 0: with patience 1 the
	// rate halves every second epoch.
	lr := fake.lrSeen[2]
	if lr[0] != float32(cfg.LR[0]) || lr[len(lr)-1] > float32(cfg.LR[0])/32 {
		t.Errorf("plateau schedule: first lr %g, last %g", lr[0], lr[len(lr)-1])
	}
	data, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(data)), "\n")
	if wantRows := 1 + 6 + 2 + 12 + 8; len(rows) != wantRows {
		t.Errorf("metrics.csv has %d lines, want %d:\n%s", len(rows), wantRows, data)
	}
	back, err := ReadRunInfo(dir)
	if err != nil || back.Networks[1].Status != Diverged || !back.Finished {
		t.Fatalf("run.json: %+v, %v", back, err)
	}
}

// TestLastNetworksDivergeMidEpoch checks that networks diverging within an
// epoch in which no other network trains on get the same records as
// diverging beside training ones: the epoch counted, a NaN metrics row and
// a NaN final loss.
func TestLastNetworksDivergeMidEpoch(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seeds = 2
	cfg.Hidden = 4
	cfg.Batch = 2
	cfg.StepsPerEpoch = 5
	cfg.MaxEpochs = 4
	cfg.Threshold = 0.1
	run, err := NewRun(cfg, "scripted")
	if err != nil {
		t.Fatal(err)
	}
	script := func(s, k int) float32 {
		if k == 6 { // in epoch 1
			return float32(math.Inf(1))
		}
		return 1
	}
	fake := &scriptedBackend{script: script, taken: make([]int, 2), lrSeen: make([][]float32, 2)}
	factory := func(d Dims, m Model, gamma []float32) (Backend, error) { fake.d = d; return fake, nil }
	dir := t.TempDir()
	info, err := Train(context.Background(), run, dir, factory, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for s, n := range info.Networks {
		if n.Status != Diverged || n.Epochs != 2 || n.Steps != 7 || !math.IsNaN(float64(n.FinalLoss)) {
			t.Errorf("network %d: %s after %d epochs, %d steps, final loss %g; want diverged after 2, 7, NaN", s, n.Status, n.Epochs, n.Steps, n.FinalLoss)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(rows) != 1+2+2 || !strings.HasSuffix(rows[len(rows)-1], ",NaN,0.01,diverged") {
		t.Errorf("metrics.csv:\n%s", data)
	}
	if info.Epoch != 2 || !info.Finished {
		t.Errorf("run: epoch %d finished %v, want 2 true", info.Epoch, info.Finished)
	}
	// Resuming the finished run changes nothing.
	if _, err := Train(context.Background(), run, dir, factory, true, nil); err != nil {
		t.Fatal(err)
	}
	if again, err := os.ReadFile(filepath.Join(dir, MetricsFile)); err != nil || string(again) != string(data) {
		t.Errorf("metrics.csv after --resume:\n%s\nwant\n%s (%v)", again, data, err)
	}
}

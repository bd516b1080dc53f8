package degen_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"degen"
	"degen/cpu"
	"degen/tasks"
)

func cpuFactory(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
	return cpu.New(d, m, gamma)
}

func smallConfig() degen.Config {
	cfg := degen.DefaultConfig()
	cfg.Knobs = map[string]float64{"steps": 20}
	cfg.Hidden = 8
	cfg.Seeds = 3
	cfg.Batch = 8
	cfg.StepsPerEpoch = 4
	cfg.MaxEpochs = 3
	cfg.LR = []float64{1e-2}
	cfg.L1 = []float64{0, 1e-4}
	return cfg
}

// TestResumeMatchesUninterrupted kills a run in the middle of an epoch and
// finishes it with --resume semantics: every file must equal the one an
// uninterrupted run writes.
func TestResumeMatchesUninterrupted(t *testing.T) {
	run, err := degen.NewRun(smallConfig(), "cpu")
	if err != nil {
		t.Fatal(err)
	}
	whole := t.TempDir()
	if _, err := degen.Train(context.Background(), run, whole, cpuFactory, false, nil); err != nil {
		t.Fatal(err)
	}

	split := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	_, err = degen.Train(ctx, run, split, cpuFactory, false, func(p degen.Progress) {
		if steps++; steps == 6 { // in the second epoch
			cancel()
		}
	})
	if !errors.Is(err, degen.ErrInterrupted) {
		t.Fatalf("want ErrInterrupted, got %v", err)
	}
	info, err := degen.ReadRunInfo(split)
	if err != nil || info.Finished || info.Epoch != 1 {
		t.Fatalf("interrupted run.json: epoch %d finished %v, %v", info.Epoch, info.Finished, err)
	}
	reopened, _, err := degen.OpenRun(split, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := degen.Train(context.Background(), reopened, split, cpuFactory, true, nil); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"W_hh", "W_ih", "b", "W_out", "b_out", "W_hh_init"} {
		a, err1 := degen.ReadNPZArray(filepath.Join(whole, degen.WeightsFile), name)
		b, err2 := degen.ReadNPZArray(filepath.Join(split, degen.WeightsFile), name)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !slices.Equal(a.Data, b.Data) {
			t.Errorf("%s differs between the resumed and the uninterrupted run", name)
		}
	}
	for _, name := range []string{degen.MetricsFile} {
		a, _ := os.ReadFile(filepath.Join(whole, name))
		b, _ := os.ReadFile(filepath.Join(split, name))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("%s differs:\n%s\nresumed:\n%s", name, a, b)
		}
	}
	wi, _ := degen.ReadRunInfo(whole)
	si, _ := degen.ReadRunInfo(split)
	for s := range wi.Networks {
		if wi.Networks[s] != si.Networks[s] {
			t.Errorf("network %d: %+v vs resumed %+v", s, wi.Networks[s], si.Networks[s])
		}
	}
}

// TestCorruptedCheckpoint: a truncated checkpoint is a clear error, not a panic.
func TestCorruptedCheckpoint(t *testing.T) {
	cfg := smallConfig()
	cfg.MaxEpochs = 1
	run, err := degen.NewRun(cfg, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := degen.Train(context.Background(), run, dir, cpuFactory, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{degen.CheckpointFile, degen.WeightsFile} {
		path := filepath.Join(dir, name)
		data, _ := os.ReadFile(path)
		if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := degen.Train(context.Background(), run, dir, cpuFactory, true, nil); err == nil {
		t.Error("resume from a truncated checkpoint must fail")
	}
	if _, err := degen.Evaluate(dir, cpuFactory, "cpu"); err == nil {
		t.Error("eval of a truncated weights.npz must fail")
	}
}

// TestFlipFlopConverges trains a small ensemble on the 3-bit flip-flop to the
// reference threshold (MSE 1e-3 plus 3 epochs of patience) on the CPU, then
// checks that the trained networks also solve the held-out evaluation set.
func TestFlipFlopConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 10 s of CPU")
	}
	cfg := degen.DefaultConfig()
	cfg.Hidden = 32
	cfg.Seeds = 4
	cfg.Batch = 32
	cfg.Knobs = map[string]float64{"steps": 40}
	cfg.LR = []float64{1e-2}
	cfg.StepsPerEpoch = 50
	cfg.MaxEpochs = 40
	run, err := degen.NewRun(cfg, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	info, err := degen.Train(context.Background(), run, dir, cpuFactory, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range info.Networks {
		if !n.Converged || float64(n.FinalLoss) >= 1e-3 {
			t.Errorf("network %d: %s after %d epochs, final loss %g", n.Index, n.Status, n.Epochs, n.FinalLoss)
		}
	}
	report, err := degen.Evaluate(dir, cpuFactory, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range report.Networks {
		if float64(n.Loss) > 1e-2 {
			t.Errorf("network %d: evaluation loss %g, want the task solved (< 1e-2)", n.Index, n.Loss)
		}
	}
}

// TestMergeShardsMatchesWholeRun trains an ensemble whole and as three
// shards, merges the shards, and checks that the merged run equals the whole
// one: weights, metrics and every network's record.
func TestMergeShardsMatchesWholeRun(t *testing.T) {
	cfg := smallConfig()
	whole := t.TempDir()
	run, err := degen.NewRun(cfg, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := degen.Train(context.Background(), run, whole, cpuFactory, false, nil); err != nil {
		t.Fatal(err)
	}
	var shards []string
	for i := 2; i >= 0; i-- { // any order
		c := cfg
		c.Shard, c.Shards = i, 3
		r, err := degen.NewRun(c, "cpu")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := degen.Train(context.Background(), r, dir, cpuFactory, false, nil); err != nil {
			t.Fatal(err)
		}
		shards = append(shards, dir)
	}
	merged := filepath.Join(t.TempDir(), "merged")
	if err := degen.MergeShards(merged, shards, false); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"W_hh", "W_ih", "b", "W_out", "b_out", "W_hh_init", "b_out_init"} {
		a, err1 := degen.ReadNPZArray(filepath.Join(whole, degen.WeightsFile), name)
		b, err2 := degen.ReadNPZArray(filepath.Join(merged, degen.WeightsFile), name)
		if err1 != nil || err2 != nil || !slices.Equal(a.Shape, b.Shape) || !slices.Equal(a.Data, b.Data) {
			t.Errorf("%s differs between the merged shards and the whole run (%v %v)", name, err1, err2)
		}
	}
	a, _ := os.ReadFile(filepath.Join(whole, degen.MetricsFile))
	b, _ := os.ReadFile(filepath.Join(merged, degen.MetricsFile))
	if string(a) != string(b) {
		t.Errorf("metrics.csv differs:\n%s\nmerged:\n%s", a, b)
	}
	wi, _ := degen.ReadRunInfo(whole)
	mi, err := degen.ReadRunInfo(merged)
	if err != nil || len(mi.Networks) != len(wi.Networks) || mi.Config.Shards != 1 {
		t.Fatalf("merged run.json: %+v %v", mi, err)
	}
	for s := range wi.Networks {
		if wi.Networks[s] != mi.Networks[s] {
			t.Errorf("network %d: %+v vs merged %+v", s, wi.Networks[s], mi.Networks[s])
		}
	}
	if _, err := degen.Evaluate(merged, cpuFactory, "cpu"); err != nil {
		t.Errorf("the merged run cannot be evaluated: %v", err)
	}
	// Missing or repeated shards are refused.
	if err := degen.MergeShards(filepath.Join(t.TempDir(), "x"), shards[:2], false); err == nil {
		t.Error("merging 2 of 3 shards must fail")
	}
	if err := degen.MergeShards(filepath.Join(t.TempDir(), "y"), []string{shards[0], shards[0], shards[1]}, false); err == nil {
		t.Error("merging a shard twice must fail")
	}
	if err := degen.MergeShards(filepath.Join(t.TempDir(), "z"), []string{shards[0], shards[1], whole}, false); err == nil {
		t.Error("merging an unsharded run must fail")
	}
}

// blindMSE is the masked MSE of the best predictor that ignores the inputs:
// the mean target of each step and output over the batch's trials.
func blindMSE(b *tasks.Batch) float64 {
	sum, count := 0.0, 0.0
	for n := 0; n < b.N; n++ {
		for t := 0; t < b.T; t++ {
			for o := 0; o < b.O; o++ {
				m, s := 0.0, 0.0
				for trial := 0; trial < b.B; trial++ {
					i := b.YAt(n, t, trial, o)
					m += float64(b.Mask[i])
					s += float64(b.Mask[i] * b.Y[i])
				}
				if m == 0 {
					continue
				}
				mean := s / m
				for trial := 0; trial < b.B; trial++ {
					i := b.YAt(n, t, trial, o)
					d := float64(b.Y[i]) - mean
					sum += float64(b.Mask[i]) * d * d
				}
				count += m
			}
		}
	}
	return sum / count
}

// TestEveryTaskLearns trains every task on both cells briefly with its
// recipe (degen tasks) and requires every network's training loss to fall
// well below what a network that ignores its inputs can reach: a task whose
// formulation, time scale or defaults keep it from training fails here,
// not in a study.
func TestEveryTaskLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 8 small ensembles, about a minute of CPU")
	}
	for _, task := range tasks.Names() {
		for _, cell := range []degen.Cell{degen.Vanilla, degen.Rate} {
			t.Run(task+"/"+string(cell), func(t *testing.T) {
				cfg := degen.DefaultConfigFor(task, cell)
				cfg.Seeds = 2
				cfg.MaxEpochs = min(cfg.MaxEpochs, 120)
				run, err := degen.NewRun(cfg, "cpu")
				if err != nil {
					t.Fatal(err)
				}
				b := tasks.NewBatchFor(run.Task, 1, 512, false)
				if err := tasks.Generate(run.Task, b, []tasks.Key{{Seed: 99}}, false); err != nil {
					t.Fatal(err)
				}
				blind := blindMSE(b)
				info, err := degen.Train(context.Background(), run, t.TempDir(), cpuFactory, false, nil)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range info.Networks {
					if loss := float64(n.FinalLoss); !(loss < blind/5) {
						t.Errorf("network %d: loss %.4g after %d steps, want below a fifth of the input-blind MSE %.4g", n.Index, loss, n.Steps, blind)
					} else {
						t.Logf("network %d: loss %.4g after %d steps (input-blind MSE %.4g)", n.Index, loss, n.Steps, blind)
					}
				}
			})
		}
	}
}

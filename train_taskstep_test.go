package degen_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"degen"
	"degen/tasks"
)

// hostTaskStepper is the CPU backend with a StepTask that makes the batch
// itself (on the host, with tasks.Generate) and records the keys of each
// call: a degen.TaskStepper whose numbers are the plain Step path's.
type hostTaskStepper struct {
	degen.Backend
	keys  [][]tasks.Key // the keys of every StepTask call
	steps int           // Step calls (the loop must make none)
}

func (b *hostTaskStepper) Step(bt *tasks.Batch, h *degen.Hyper, active []bool, loss []float32) error {
	b.steps++
	return b.Backend.Step(bt, h, active, loss)
}

func (b *hostTaskStepper) StepTask(task tasks.Task, keys []tasks.Key, h *degen.Hyper, active []bool, loss []float32) error {
	b.keys = append(b.keys, slices.Clone(keys))
	bt := tasks.NewBatchFor(task, len(keys), b.Dims().B, false)
	if err := tasks.Generate(task, bt, keys, false); err != nil {
		return err
	}
	return b.Backend.Step(bt, h, active, loss)
}

// TestTrainUsesTaskStepper checks that the training loop hands a backend
// that implements degen.TaskStepper the keys of each step (Run.TrainKeys,
// in step order, one per network or one shared) instead of batches, and
// that the run's files equal those of the plain Step path.
func TestTrainUsesTaskStepper(t *testing.T) {
	for _, shared := range []bool{false, true} {
		cfg := smallConfig()
		cfg.SharedData = shared
		run, err := degen.NewRun(cfg, "cpu")
		if err != nil {
			t.Fatal(err)
		}
		plain := t.TempDir()
		if _, err := degen.Train(context.Background(), run, plain, cpuFactory, false, nil); err != nil {
			t.Fatal(err)
		}
		var fake *hostTaskStepper
		factory := func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
			be, err := cpuFactory(d, m, gamma)
			fake = &hostTaskStepper{Backend: be}
			return fake, err
		}
		dir := t.TempDir()
		info, err := degen.Train(context.Background(), run, dir, factory, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if fake.steps != 0 {
			t.Errorf("shared=%v: the loop called Step %d times beside StepTask", shared, fake.steps)
		}
		maxSteps := 0
		for _, n := range info.Networks {
			maxSteps = max(maxSteps, n.Steps)
		}
		if len(fake.keys) != maxSteps || maxSteps == 0 {
			t.Errorf("shared=%v: %d StepTask calls, the longest-training network took %d steps", shared, len(fake.keys), maxSteps)
		}
		want := make([]tasks.Key, run.TrainSlots())
		for step, keys := range fake.keys {
			run.TrainKeys(want, uint64(step))
			if !slices.Equal(keys, want) {
				t.Errorf("shared=%v: StepTask call %d got keys %v, want %v", shared, step, keys, want)
				break
			}
		}
		for _, name := range []string{"W_hh", "W_ih", "b", "W_out", "b_out"} {
			a, err1 := degen.ReadNPZArray(filepath.Join(plain, degen.WeightsFile), name)
			b, err2 := degen.ReadNPZArray(filepath.Join(dir, degen.WeightsFile), name)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !slices.Equal(a.Data, b.Data) {
				t.Errorf("shared=%v: %s differs from the Step path's", shared, name)
			}
		}
		a, _ := os.ReadFile(filepath.Join(plain, degen.MetricsFile))
		b, _ := os.ReadFile(filepath.Join(dir, degen.MetricsFile))
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("shared=%v: metrics.csv differs:\n%s\nwith StepTask:\n%s", shared, a, b)
		}
		pi, _ := degen.ReadRunInfo(plain)
		for s := range pi.Networks {
			if pi.Networks[s] != info.Networks[s] {
				t.Errorf("shared=%v: network %d: %+v, with StepTask %+v", shared, s, pi.Networks[s], info.Networks[s])
			}
		}
	}
}

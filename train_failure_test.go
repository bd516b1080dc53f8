package degen_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"degen"
	"degen/tasks"
)

// failingBackend is a CPU backend whose Step fails from call failAt on, as a
// GPU does after a fault.
type failingBackend struct {
	degen.Backend
	calls, failAt int
}

var errFault = errors.New("injected fault")

func (f *failingBackend) Step(b *tasks.Batch, h *degen.Hyper, active []bool, loss []float32) error {
	if f.calls++; f.calls >= f.failAt {
		return errFault
	}
	return f.Backend.Step(b, h, active, loss)
}

// TestResumeAfterFailure fails the backend in epoch 12, after the periodic
// checkpoint at the end of epoch 10: the error must say where training
// stopped and which checkpoint to resume from, and resuming from it must
// give exactly the files of a run that never failed.
func TestResumeAfterFailure(t *testing.T) {
	cfg := smallConfig()
	cfg.MaxEpochs = 13
	cfg.Threshold = 1e-12 // nobody converges: every epoch trains every network
	run, err := degen.NewRun(cfg, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	whole := t.TempDir()
	if _, err := degen.Train(context.Background(), run, whole, cpuFactory, false, nil); err != nil {
		t.Fatal(err)
	}

	failed := t.TempDir()
	failAt := 11*cfg.StepsPerEpoch + 2 // the second step of epoch 12 (epoch index 11)
	faulty := func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
		be, err := cpuFactory(d, m, gamma)
		return &failingBackend{Backend: be, failAt: failAt}, err
	}
	_, err = degen.Train(context.Background(), run, failed, faulty, false, nil)
	if !errors.Is(err, errFault) {
		t.Fatalf("want the backend's error, got %v", err)
	}
	for _, want := range []string{"training stopped in epoch 11, step 1", "checkpoint", "epoch 10, step 0", "--resume " + failed} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := degen.Train(context.Background(), run, failed, cpuFactory, true, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{degen.WeightsFile, degen.MetricsFile} {
		a, err1 := os.ReadFile(filepath.Join(whole, name))
		b, err2 := os.ReadFile(filepath.Join(failed, name))
		if err1 != nil || err2 != nil || !slices.Equal(a, b) {
			t.Errorf("%s differs between the resumed and the uninterrupted run (%v, %v)", name, err1, err2)
		}
	}
}

// TestFailureBeforeCheckpoint: a failure in the first epochs, before the
// first periodic checkpoint, points to the checkpoint written at step 0.
func TestFailureBeforeCheckpoint(t *testing.T) {
	run, err := degen.NewRun(smallConfig(), "cpu")
	if err != nil {
		t.Fatal(err)
	}
	faulty := func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
		be, err := cpuFactory(d, m, gamma)
		return &failingBackend{Backend: be, failAt: 3}, err
	}
	_, err = degen.Train(context.Background(), run, t.TempDir(), faulty, false, nil)
	if !errors.Is(err, errFault) || !strings.Contains(err.Error(), "checkpoint at epoch 0, step 0") {
		t.Errorf("got %v, want the fault and the checkpoint at step 0", err)
	}
}

//go:build cudaemu && !cuda

package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"degen"
	"degen/cuda"
)

// These tests run the GPU backend through the CLI on the CPU emulator of the
// kernels (cuda/emu.cc): `go test -tags cudaemu ./cmd/degen`.

// TestCompareRunGPUEmulated runs `degen compare`'s comparison for both cells:
// every tensor within its tolerance.
func TestCompareRunGPUEmulated(t *testing.T) {
	for _, cell := range []degen.Cell{degen.Vanilla, degen.Rate} {
		cfg := degen.DefaultConfig()
		cfg.Cell, cfg.Hidden, cfg.Seeds, cfg.Batch, cfg.EvalTrials = cell, 33, 3, 5, 4
		run, err := degen.NewRun(cfg, "gpu")
		if err != nil {
			t.Fatal(err)
		}
		factory, err := backendFactory("gpu")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := compareRun(run, factory, "gpu", 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range rep.Tensors {
			if !d.Pass {
				t.Errorf("%s: %s uses %.3g of its tolerance", cell, d.Tensor, d.TolUsed)
			}
		}
	}
}

// TestTrainGPUEmulated trains the same tiny ensemble with --backend gpu and
// --backend cpu and evaluates each on its backend: the losses must agree within the
// end-to-end check's tolerance (1e-3 + 0.5 |cpu|).
func TestTrainGPUEmulated(t *testing.T) {
	tmp := t.TempDir()
	loss := map[string][]float64{}
	for _, backend := range []string{"gpu", "cpu"} {
		dir := filepath.Join(tmp, backend)
		if code, _ := runCapture(t, append([]string{"train", "--out", dir, "--backend", backend}, tiny...)...); code != 0 {
			t.Fatalf("train --backend %s exited %d", backend, code)
		}
		if backend == "gpu" {
			// run.json says which device and kernels trained the networks.
			info, err := degen.ReadRunInfo(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"CPU emulator", "compute capability 9.0", "rnn_forward_r", "rnn_backward_r", "rnn_grad_", "rnn_adam"} {
				if !strings.Contains(info.Detail, want) {
					t.Errorf("backend_detail %q does not say %q", info.Detail, want)
				}
			}
		}
		if code, _ := runCapture(t, "eval", dir, "--backend", backend, "-q"); code != 0 {
			t.Fatalf("eval --backend %s exited %d", backend, code)
		}
		rep, err := degen.ReadEvalReport(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range rep.Networks {
			loss[backend] = append(loss[backend], float64(n.Loss))
		}
	}
	if len(loss["gpu"]) == 0 || len(loss["gpu"]) != len(loss["cpu"]) {
		t.Fatalf("test losses: gpu %v, cpu %v", loss["gpu"], loss["cpu"])
	}
	for i, c := range loss["cpu"] {
		g := loss["gpu"][i]
		if math.IsNaN(g) || math.Abs(g-c) > 1e-3+0.5*math.Abs(c) {
			t.Errorf("network %d: test loss %g on the GPU backend, %g on the CPU", i, g, c)
		}
	}
}

// TestGPUFaultMidTraining injects a kernel fault in the fifth rnn_adam
// launch (cuda.FaultEnv): degen train must exit 1 with one message that
// names the kernel and its launch shape and the checkpoint to resume from
// (the one written at step 0), and leave no half-written file behind.
func TestGPUFaultMidTraining(t *testing.T) {
	t.Setenv(cuda.FaultEnv, "rnn_adam:5")
	dir := filepath.Join(t.TempDir(), "run")
	var code int
	stderr := captureStderr(t, func() {
		code, _ = runCapture(t, append([]string{"train", "--out", dir, "--backend", "gpu"}, tiny...)...)
	})
	if code != 1 {
		t.Errorf("train exited %d, want 1", code)
	}
	for _, want := range []string{"rnn_adam grid=", "CUDA_ERROR_ILLEGAL_ADDRESS", "training stopped in epoch 1, step 1", "checkpoint at epoch 0, step 0", "--resume"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 0 {
		t.Errorf("want one line on stderr, got %d:\n%s", n+1, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != degen.LockFile && (strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), ".tmp")) {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

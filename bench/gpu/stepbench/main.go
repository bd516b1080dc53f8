// Command stepbench times one training step of the GPU backend on the two
// benchmark workloads of bench/RESULTS.md and prints a table (and JSON with
// -json). It needs the CUDA build: go build -tags cuda ./bench/gpu/stepbench.
//
//	W1: S=256, B=128, T=100, H=128, I=3, O=3
//	W2: S=512, B=64,  T=200, H=64,  I=3, O=3
//
// FLOPs per step = 3 * 2 * S*B*T*H*(H+I+O) (forward, and backward twice).
//
// Columns: every kernel alone and the four back to back with the batch on
// the device (kern ms), a whole Step with a shared batch (step N=1) and with
// per-network batches uploaded from the host (step N=S, upload N=S), and with
// per-network flip-flop batches generated on the device from their keys
// (gen N=S: the task kernel alone; task N=S: a whole StepTask, as
// degen.Train runs it on the GPU).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	"degen"
	"degen/gpu"
	"degen/tasks"
)

type result struct {
	Name       string         `json:"name"`
	Dims       degen.Dims     `json:"dims"`
	Cell       string         `json:"cell"`
	Forward    string         `json:"forward"`               // fp32, fp32g2 or mma (gpu.Backend.ForwardVariant)
	Backward   string         `json:"backward"`              // split, splitg2, mma or fused (gpu.Backend.BackwardVariant)
	Grad       string         `json:"grad"`                  // fp32, mma, wgmma or fused (gpu.Backend.GradVariant)
	Shared     gpu.Timing     `json:"shared_batch"`          // N = 1
	PerNetwork gpu.Timing     `json:"per_network"`           // N = S, uploaded
	OnDevice   gpu.TaskTiming `json:"per_network_on_device"` // N = S, flip-flop generated on the device
	GFLOP      float64        `json:"gflop_per_step"`        // 3*2*S*B*T*H*(H+I+O) / 1e9
	Default    bool           `json:"default"`               // the variants gpu.New picks with no variable set
}

type workload struct {
	name string
	d    degen.Dims
}

var workloads = map[string]workload{
	"W1":   {"W1", degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}},
	"W2":   {"W2", degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}},
	"tiny": {"tiny", degen.Dims{S: 4, B: 32, T: 5, H: 32, I: 3, O: 3}},
}

func main() {
	reps := flag.Int("reps", 10, "timed steps per configuration (after 2 warm-up steps)")
	jsonPath := flag.String("json", "", "also write the results as JSON to this file")
	cells := flag.String("cells", "vanilla", "cells to time: vanilla, rate or both")
	backwards := flag.String("backward", "default,auto", "backward variants to time, comma-separated ("+gpu.BackwardEnv+" values: split, fused, auto; default: unset)")
	mmas := flag.String("mma", "default,off,auto", "tensor-core settings to time, comma-separated ("+gpu.MmaEnv+" values: off, on, auto, seq, grad; default: unset); every combination with -backward, -groups and -wgmma is timed once, one that resolves to kernels already timed is skipped")
	groups := flag.String("groups", "default", "warp groups of the CUDA-core sequence kernels to time, comma-separated ("+gpu.GroupsEnv+" values: 1, 2, auto; default: unset)")
	wgmmas := flag.String("wgmma", "default", "warpgroup-MMA settings to time, comma-separated ("+gpu.WgmmaEnv+" values: off, grad, fwd, on, auto; default: unset)")
	workNames := flag.String("works", "W1,W2", "workloads to time, comma-separated: W1, W2, tiny (a smoke test, e.g. on the CPU emulator)")
	flag.Parse()
	devs, err := gpu.Devices()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stepbench:", err)
		os.Exit(1)
	}
	for _, d := range devs {
		fmt.Printf("device %d: %s, %d SMs, %.1f GiB, cc %s, %s\n", d.Ordinal, d.Name, d.Multiprocessors, float64(d.TotalBytes)/(1<<30), d.Capability, d.Driver)
	}
	var works []workload
	for _, name := range strings.Split(*workNames, ",") {
		w, ok := workloads[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "stepbench: unknown workload %q (W1, W2, tiny)\n", name)
			os.Exit(2)
		}
		works = append(works, w)
	}
	var cellList []degen.Cell
	switch *cells {
	case "vanilla":
		cellList = []degen.Cell{degen.Vanilla}
	case "rate":
		cellList = []degen.Cell{degen.Rate}
	case "both":
		cellList = []degen.Cell{degen.Vanilla, degen.Rate}
	default:
		fmt.Fprintln(os.Stderr, "stepbench: -cells must be vanilla, rate or both")
		os.Exit(2)
	}
	var results []result
	failed := false
	fmt.Printf("%-4s %-7s %-6s %-7s %-5s %9s %9s %9s %9s %9s %10s %10s %10s %9s %9s %10s\n", "work", "cell", "fwd", "bwd", "dW", "fwd ms", "bwd ms", "dWhh ms", "adam ms", "kern ms", "step N=1", "step N=S", "upload N=S", "TFLOP/s", "gen N=S", "task N=S")
	for _, w := range works {
		for _, cell := range cellList {
			timed := map[string]bool{}
			for _, v := range variants(*mmas, *backwards, *groups, *wgmmas) {
				setVariant(gpu.MmaEnv, v[0])
				setVariant(gpu.BackwardEnv, v[1])
				setVariant(gpu.GroupsEnv, v[2])
				setVariant(gpu.WgmmaEnv, v[3])
				r, err := bench(w.name, w.d, cell, *reps, timed)
				r.Default = v == [4]string{"default", "default", "default", "default"}
				if err != nil {
					// Go on with the other variants: one that fails on a card
					// should not cost the numbers of the rest.
					fmt.Fprintf(os.Stderr, "stepbench: %s %s mma %s backward %s groups %s wgmma %s: %v\n", w.name, cell, v[0], v[1], v[2], v[3], err)
					failed = true
					continue
				}
				if r.Backward == "" {
					continue // resolved to kernels already timed
				}
				results = append(results, r)
				// Written after every result, so that a time limit keeps what was timed.
				writeJSON(*jsonPath, results)
				t := r.Shared
				fmt.Printf("%-4s %-7s %-6s %-7s %-5s %9.2f %9.2f %9.2f %9.2f %9.2f %10.2f %10.2f %10.2f %9.1f %9.2f %10.2f\n", r.Name, r.Cell, r.Forward, r.Backward, r.Grad, t.Forward, t.Backward, t.GradWhh, t.Adam,
					t.Kernels, t.Step, r.PerNetwork.Step, r.PerNetwork.Upload, r.GFLOP/t.Kernels, r.OnDevice.Generate, r.OnDevice.StepTask)
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

// writeJSON writes the results so far to path (nothing when path is ""),
// through a temporary file so that a reader never sees half of it.
func writeJSON(path string, results []result) {
	if path == "" {
		return
	}
	data, _ := json.MarshalIndent(results, "", "  ")
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, append(data, '\n'), 0o644)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stepbench:", err)
		os.Exit(1)
	}
}

// setVariant sets the environment variable name to value, or unsets it
// for "default" (gpu.New's own choice).
func setVariant(name, value string) {
	if value == "default" {
		os.Unsetenv(name)
		return
	}
	os.Setenv(name, value)
}

// variants returns every (tensor-core setting, backward, warp groups,
// warpgroup MMA) combination of the four comma-separated lists.
func variants(mmas, backwards, groups, wgmmas string) [][4]string {
	var vs [][4]string
	for _, f := range strings.Split(mmas, ",") {
		for _, b := range strings.Split(backwards, ",") {
			for _, g := range strings.Split(groups, ",") {
				for _, w := range strings.Split(wgmmas, ",") {
					vs = append(vs, [4]string{f, b, g, w})
				}
			}
		}
	}
	return vs
}

// bench times one workload with the variants gpu.New picks from the
// environment; it returns a result with an empty Backward, untimed, when
// those kernels are already in timed.
func bench(name string, d degen.Dims, cell degen.Cell, reps int, timed map[string]bool) (result, error) {
	r := result{Name: name, Dims: d, Cell: string(cell),
		GFLOP: 3 * 2 * float64(d.S) * float64(d.B) * float64(d.T) * float64(d.H) * float64(d.H+d.I+d.O) / 1e9}
	m := degen.Model{Cell: cell, H: d.H, Tau: 0.1}
	gamma := make([]float32, d.S)
	for i := range gamma {
		gamma[i] = 1
	}
	be, err := gpu.New(d, m, gamma)
	if err != nil {
		return r, err
	}
	defer be.Close()
	kernels := be.ForwardVariant() + "/" + be.BackwardVariant() + "/" + be.GradVariant()
	if timed[kernels] {
		return r, nil
	}
	timed[kernels] = true
	r.Forward, r.Backward, r.Grad = be.ForwardVariant(), be.BackwardVariant(), be.GradVariant()
	l := degen.NewLayout(d.H, d.I, d.O)
	st := degen.NewTrainState(d.S, l)
	for s := range d.S {
		degen.InitParams(m, l, 1, uint64(s), st.Params[s*l.P:(s+1)*l.P])
	}
	if err := be.SetState(st); err != nil {
		return r, err
	}
	h := &degen.Hyper{LR: make([]float32, d.S)}
	for i := range h.LR {
		h.LR[i] = 1e-3
	}
	rng := rand.New(rand.NewPCG(1, 1))
	batch := func(n int) *tasks.Batch {
		bt := tasks.NewBatch(n, d.B, d.T, d.I, d.O)
		for i := range bt.X {
			bt.X[i] = float32(rng.NormFloat64())
		}
		for i := range bt.Y {
			bt.Y[i] = float32(rng.NormFloat64())
			bt.Mask[i] = 1
		}
		return bt
	}
	if r.Shared, err = be.Profile(batch(1), h, reps); err != nil {
		return r, err
	}
	if r.PerNetwork, err = be.Profile(batch(d.S), h, reps); err != nil {
		return r, err
	}
	// Per-network flip-flop trials (I = O = 3, T steps) made on the device.
	task, err := tasks.New("flipflop", map[string]float64{"bits": float64(d.I), "steps": float64(d.T)})
	if err != nil {
		return r, err
	}
	keys := make([]tasks.Key, d.S)
	for s := range keys {
		keys[s] = tasks.Key{Seed: 1, Network: uint64(s)}
	}
	if r.OnDevice, err = be.ProfileTask(task, keys, h, reps); err != nil {
		return r, err
	}
	return r, nil
}

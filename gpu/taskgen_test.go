//go:build cuda || cudaemu

package gpu_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"degen"
	"degen/gpu"
	"degen/tasks"
)

// libmTolerance bounds |device - host| for the tasks whose values go through
// sin or cos (sine, pathint): the last bit of a double from CUDA's libdevice
// (or glibc, on the emulator) may differ from Go's math package, which can
// move a float32 value by one rounding step, 1.2e-7 for values up to 1. Eight
// such steps are allowed; a flipped pathint wall reflection would move a
// position by up to 2 speed_max / arena = 0.2 and fail.
const libmTolerance = 1e-6

// taskCase is a task at some knob values; exact says whether the device
// must reproduce tasks.Generate bit for bit.
type taskCase struct {
	name  string
	knobs map[string]float64
	exact bool
}

func (c taskCase) String() string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range c.knobs {
			if !yield(k) {
				return
			}
		}
	})
	s := c.name
	for _, k := range keys {
		s += fmt.Sprintf(",%s=%g", k, c.knobs[k])
	}
	return s
}

var taskCases = []taskCase{
	{"flipflop", nil, true},
	{"flipflop", map[string]float64{"bits": 5, "p": 0.5}, true},
	{"flipflop", map[string]float64{"bits": 2, "steps": 13, "hold": 7}, true},
	{"sine", nil, false},
	{"sine", map[string]float64{"channels": 2, "freqs": 1}, false},
	{"sine", map[string]float64{"channels": 2, "freqs": 7}, false},
	{"delayed", nil, true},
	{"delayed", map[string]float64{"aux": 1, "channels": 2, "delay_min": 0}, true},
	{"delayed", map[string]float64{"gap": 0}, true},
	{"delayed", map[string]float64{"gap": 3.9}, true},
	{"pathint", nil, false},
	{"pathint", map[string]float64{"dims": 3}, false},
	{"pathint", map[string]float64{"velocity": 0}, false},
	{"pathint", map[string]float64{"dims": 3, "velocity": 0}, false},
}

// taskKeys returns n keys of training step `step`: one per network seed
// index (n = S), or the shared key (n = 1), as degen.Run.TrainKeys makes them.
func taskKeys(n int, step uint64) []tasks.Key {
	keys := make([]tasks.Key, n)
	for k := range keys {
		keys[k] = tasks.Key{Seed: 7, Step: step}
		if n > 1 {
			keys[k].Network = uint64(3 * k)
		}
	}
	return keys
}

// diff compares a device array with the host's: the number of elements
// whose bits differ and the largest absolute difference (Inf for NaN).
func diff(got, want []float32) (mismatches int, worst float64) {
	for i := range want {
		if math.Float32bits(got[i]) == math.Float32bits(want[i]) {
			continue
		}
		mismatches++
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		worst = math.Max(worst, d)
	}
	return mismatches, worst
}

// TestTaskBatchMatchesGenerate generates every task, at its defaults and at
// other knob values, in and out of distribution, with one slot per network
// (N = S) and one shared slot (N = 1), with B = 130 trials (a block of 128
// and a partial one), on the device and with tasks.Generate, and compares
// them: bit for bit for flipflop and delayed, within libmTolerance for sine
// and pathint (the worst difference and the mismatch count are logged).
// Each batch is generated twice, for two steps, into the same device
// buffers: the first time over the allocator's NaN (on the emulator), the
// second over the first batch, so an element a kernel leaves unwritten shows.
func TestTaskBatchMatchesGenerate(t *testing.T) {
	const S, B = 3, 130
	// degen.Train steps the GPU through StepTask, so every registered task
	// needs a kernel, and this test must cover it.
	for _, name := range tasks.Names() {
		if !slices.ContainsFunc(taskCases, func(c taskCase) bool { return c.name == name }) {
			t.Errorf("task %s: no case here (and a kernel in kernels/tasks.cu?)", name)
		}
	}
	for _, c := range taskCases {
		t.Run(c.String(), func(t *testing.T) {
			task, err := tasks.New(c.name, c.knobs)
			if err != nil {
				t.Fatal(err)
			}
			d := degen.Dims{S: S, B: B, T: task.Steps(false), I: task.Inputs(), H: 8, O: task.Outputs()}
			be, err := gpu.New(d, degen.Model{Cell: degen.Vanilla, H: d.H}, make([]float32, S))
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			var mismatches, elements int
			var worst float64
			for _, ood := range []bool{false, true} {
				for _, n := range []int{S, 1} {
					for _, step := range []uint64{11, 12} {
						keys := taskKeys(n, step)
						want := tasks.NewBatchFor(task, n, B, ood)
						if err := tasks.Generate(task, want, keys, ood); err != nil {
							t.Fatal(err)
						}
						got := tasks.NewBatchFor(task, n, B, ood)
						if err := be.TaskBatch(task, keys, ood, got); err != nil {
							t.Fatal(err)
						}
						what := fmt.Sprintf("ood=%v N=%d step %d", ood, n, step)
						for _, a := range []struct {
							name      string
							got, want []float32
						}{{"x", got.X, want.X}, {"y", got.Y, want.Y}, {"mask", got.Mask, want.Mask}} {
							m, w := diff(a.got, a.want)
							mismatches += m
							elements += len(a.want)
							worst = math.Max(worst, w)
							switch {
							case c.exact && m > 0, a.name == "mask" && m > 0:
								t.Errorf("%s: %s: %d of %d elements differ from tasks.Generate, worst by %g", what, a.name, m, len(a.want), w)
							case w > libmTolerance:
								t.Errorf("%s: %s: %d of %d elements differ, worst by %g > %g", what, a.name, m, len(a.want), w, libmTolerance)
							}
						}
					}
				}
			}
			t.Logf("%s: %d of %d elements differ from tasks.Generate, worst by %.3g", c, mismatches, elements, worst)
		})
	}
}

// TestStepTaskMatchesStep checks that StepTask trains exactly as Step on the
// batch tasks.Generate makes for the same keys: losses, parameters and Adam
// state bit for bit after two steps (with a frozen network) when the device
// batches are bit for bit the host's (always for flipflop and delayed; for
// sine and pathint where libm's last bits agree), else within 1e-5.
func TestStepTaskMatchesStep(t *testing.T) {
	const S, B = 3, 33
	for _, c := range []struct {
		task taskCase
		cell degen.Cell
		n    int
	}{
		{taskCases[0], degen.Vanilla, S},
		{taskCases[0], degen.Rate, 1},
		{taskCases[6], degen.Vanilla, S},
		{taskCases[8], degen.Rate, S},
	} {
		t.Run(fmt.Sprintf("%s/%s/N=%d", c.task, c.cell, c.n), func(t *testing.T) {
			task, err := tasks.New(c.task.name, c.task.knobs)
			if err != nil {
				t.Fatal(err)
			}
			d := degen.Dims{S: S, B: B, T: task.Steps(false), I: task.Inputs(), H: 16, O: task.Outputs()}
			m := degen.Model{Cell: c.cell, H: d.H, Tau: 0.5}
			l := degen.NewLayout(d.H, d.I, d.O)
			init := degen.NewTrainState(S, l)
			for s := range S {
				degen.InitParams(m, l, 5, uint64(s), init.Params[s*l.P:(s+1)*l.P])
			}
			h := &degen.Hyper{LR: []float32{1e-2, 3e-3, 1e-3}, L1: []float32{0, 1e-4, 0}}
			gamma := []float32{1, 2, 1}
			actives := [][]bool{{true, true, true}, {true, false, true}}

			type result struct {
				loss [][]float32
				st   *degen.TrainState
			}
			run := func(onDevice bool) result {
				be, err := gpu.New(d, m, gamma)
				if err != nil {
					t.Fatal(err)
				}
				defer be.Close()
				if err := be.SetState(init); err != nil {
					t.Fatal(err)
				}
				var r result
				for step, active := range actives {
					keys := taskKeys(c.n, uint64(step))
					loss := make([]float32, S)
					if onDevice {
						err = be.StepTask(task, keys, h, active, loss)
					} else {
						bt := tasks.NewBatchFor(task, c.n, B, false)
						if err := tasks.Generate(task, bt, keys, false); err != nil {
							t.Fatal(err)
						}
						err = be.Step(bt, h, active, loss)
					}
					if err != nil {
						t.Fatal(err)
					}
					r.loss = append(r.loss, loss)
				}
				r.st = degen.NewTrainState(S, l)
				if err := be.State(r.st); err != nil {
					t.Fatal(err)
				}
				return r
			}
			host, dev := run(false), run(true)

			// Are the device's batches the host's, bit for bit?
			exact := true
			be, err := gpu.New(d, m, gamma)
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			for step := range actives {
				keys := taskKeys(c.n, uint64(step))
				want, got := tasks.NewBatchFor(task, c.n, B, false), tasks.NewBatchFor(task, c.n, B, false)
				if err := tasks.Generate(task, want, keys, false); err != nil {
					t.Fatal(err)
				}
				if err := be.TaskBatch(task, keys, false, got); err != nil {
					t.Fatal(err)
				}
				for _, a := range [][2][]float32{{got.X, want.X}, {got.Y, want.Y}, {got.Mask, want.Mask}} {
					if n, _ := diff(a[0], a[1]); n > 0 {
						exact = false
					}
				}
			}
			if c.task.exact && !exact {
				t.Fatalf("the device batches of %s differ from the host's", c.task)
			}
			t.Logf("device batches bit for bit the host's: %v", exact)

			for step := range actives {
				bad, worst := diff(dev.loss[step], host.loss[step])
				if (exact && bad > 0) || worst > 1e-5 {
					t.Errorf("step %d: losses %v on the device batch, %v on the host's", step, dev.loss[step], host.loss[step])
				}
			}
			for _, a := range []struct {
				name      string
				got, want []float32
			}{{"params", dev.st.Params, host.st.Params}, {"adam m", dev.st.AdamM, host.st.AdamM}, {"adam v", dev.st.AdamV, host.st.AdamV}} {
				bad, worst := diff(a.got, a.want)
				switch {
				case exact && bad > 0:
					t.Errorf("%s: %d of %d values differ, worst by %g; want bit for bit", a.name, bad, len(a.want), worst)
				case worst > 1e-5:
					t.Errorf("%s: %d of %d values differ, worst by %g", a.name, bad, len(a.want), worst)
				case bad > 0:
					t.Logf("%s: %d of %d values differ, worst by %.3g", a.name, bad, len(a.want), worst)
				}
			}
			if !slices.Equal(dev.st.AdamStep, host.st.AdamStep) {
				t.Errorf("Adam steps %v, want %v", dev.st.AdamStep, host.st.AdamStep)
			}
		})
	}
}

// unknownTask is a task with no device generator.
type unknownTask struct{ tasks.Task }

func (unknownTask) Name() string { return "unknown" }

// flipflopBackend returns the flip-flop task with knobs and a vanilla GPU
// backend of two networks of H=8 with batches of 4 trials for it.
func flipflopBackend(t *testing.T, knobs map[string]float64) (tasks.Task, degen.Dims, *gpu.Backend) {
	t.Helper()
	task, err := tasks.New("flipflop", knobs)
	if err != nil {
		t.Fatal(err)
	}
	d := degen.Dims{S: 2, B: 4, T: task.Steps(false), I: task.Inputs(), H: 8, O: task.Outputs()}
	be, err := gpu.New(d, degen.Model{Cell: degen.Vanilla, H: d.H}, make([]float32, d.S))
	if err != nil {
		t.Fatal(err)
	}
	return task, d, be
}

// TestStepTaskErrors checks StepTask's argument errors: each names the call
// and the problem, before anything runs.
func TestStepTaskErrors(t *testing.T) {
	task, d, be := flipflopBackend(t, nil)
	defer be.Close()
	sine, err := tasks.New("sine", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &degen.Hyper{LR: []float32{1e-3, 1e-3}}
	active, loss := []bool{true, true}, make([]float32, d.S)
	for _, c := range []struct {
		name   string
		task   tasks.Task
		keys   []tasks.Key
		h      *degen.Hyper
		active []bool
		want   string
	}{
		{"no kernel", unknownTask{task}, taskKeys(2, 0), h, active, `task "unknown" has no device generator`},
		{"nil task", nil, taskKeys(2, 0), h, active, "nil task"},
		{"keys", task, taskKeys(3, 0), h, active, "3 keys, want S=2"},
		{"sizes", sine, taskKeys(2, 0), h, active, "task sine has I=1 O=1, the ensemble I=3 O=3"},
		{"hyper", task, taskKeys(2, 0), &degen.Hyper{LR: []float32{1}}, active, "LR has 1 values"},
		{"active", task, taskKeys(2, 0), h, []bool{true}, "active has 1 values"},
	} {
		err := be.StepTask(c.task, c.keys, c.h, c.active, loss)
		if err == nil || !strings.HasPrefix(err.Error(), "gpu: step task: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want gpu: step task: ...%s...", c.name, err, c.want)
		}
	}
	if err := be.TaskBatch(task, taskKeys(2, 0), false, tasks.NewBatchFor(task, 2, 5, false)); err == nil || !strings.Contains(err.Error(), "B=5") {
		t.Errorf("TaskBatch with B=5 for a backend of B=4: %v, want an error", err)
	}
}

// TestProfileTask checks that ProfileTask runs and reports both times.
func TestProfileTask(t *testing.T) {
	task, d, be := flipflopBackend(t, map[string]float64{"steps": 5})
	defer be.Close()
	tm, err := be.ProfileTask(task, taskKeys(d.S, 0), &degen.Hyper{LR: []float32{1e-3, 1e-3}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !(tm.Generate >= 0 && tm.StepTask > 0) {
		t.Errorf("timing %+v", tm)
	}
	if _, err := be.ProfileTask(task, taskKeys(d.S, 0), &degen.Hyper{LR: []float32{1e-3, 1e-3}}, 0); err == nil {
		t.Error("ProfileTask with 0 reps: no error")
	}
}

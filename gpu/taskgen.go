//go:build cuda || cudaemu

package gpu

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"degen"
	"degen/cuda"
	"degen/tasks"
)

// taskThreads is the block size of the task kernels (TASK_THREADS in
// kernels/tasks.cu): one thread per trial, blocks of taskThreads trials.
const taskThreads = 128

// maxGridY is the largest grid y extent CUDA allows: the task kernels put
// the batch slots there.
const maxGridY = 65535

// taskKernel is the kernel that generates one registered task's trials on
// the device (kernels/tasks.cu) and the knobs it reads, in the order of its
// knobs array. Knobs that the batch sizes already give (bits, channels,
// dims, steps) are read from I, O and T instead.
type taskKernel struct {
	name  string
	knobs []string
}

// taskKernels maps each task's registry name (tasks.Names) to its kernel;
// each kernel mirrors that task's Fill.
var taskKernels = map[string]taskKernel{
	"flipflop": {"task_flipflop", []string{"p", "hold"}},
	"sine":     {"task_sine", []string{"freqs", "fmin", "fmax", "dt"}},
	"delayed":  {"task_delayed", []string{"delay_min", "delay_max", "aux", "pulse", "lead", "fmin", "fmax", "gap"}},
	"pathint":  {"task_pathint", []string{"arena", "speed_min", "speed_max", "velocity"}},
}

// taskGen is the backend's state for generating batches on the device.
type taskGen struct {
	kernels map[string]*cuda.Kernel // loaded on first use
	words   *cuda.Buffer            // 64-bit words: stream keys (N), then knobs (k)
	host    []uint64                // the words before upload
}

// taskBatch checks that task and keys fit the backend and returns the
// kernel and the sizes of the batch it makes: N = len(keys) slots (S, or 1
// for data shared by every network) of B trials of T = task.Steps(ood)
// steps. The batch has no arrays: it describes g.x, g.y and g.mask.
func (g *Backend) taskBatch(task tasks.Task, keys []tasks.Key, ood bool) (*tasks.Batch, taskKernel, error) {
	d := g.dims
	if task == nil {
		return nil, taskKernel{}, fmt.Errorf("nil task")
	}
	tk, ok := taskKernels[task.Name()]
	if !ok {
		names := make([]string, 0, len(taskKernels))
		for name := range taskKernels {
			names = append(names, name)
		}
		slices.Sort(names)
		return nil, tk, fmt.Errorf("task %q has no device generator (kernels/tasks.cu has %s); use Step with a batch from tasks.Generate",
			task.Name(), strings.Join(names, ", "))
	}
	if n := len(keys); n != d.S && n != 1 {
		return nil, tk, fmt.Errorf("%d keys, want S=%d (one per network) or 1 (shared data)", n, d.S)
	}
	if len(keys) > maxGridY {
		return nil, tk, fmt.Errorf("%d batch slots, the task kernels take at most %d", len(keys), maxGridY)
	}
	if task.Inputs() != d.I || task.Outputs() != d.O {
		return nil, tk, fmt.Errorf("task %s has I=%d O=%d, the ensemble I=%d O=%d", task.Name(), task.Inputs(), task.Outputs(), d.I, d.O)
	}
	return &tasks.Batch{N: len(keys), B: d.B, T: task.Steps(ood), I: d.I, O: d.O}, tk, nil
}

// generate launches task's kernel to fill g.x, g.y and g.mask with the
// trials that task.Fill makes for keys, sized bt (from taskBatch). The only
// upload is one copy of the stream keys and the knobs (inside Do).
func (g *Backend) generate(task tasks.Task, tk taskKernel, keys []tasks.Key, ood bool, bt *tasks.Batch) error {
	k := g.gen.kernels[tk.name]
	if k == nil {
		var err error
		if k, err = g.mod.Kernel(tk.name); err != nil {
			return err
		}
		if g.gen.kernels == nil {
			g.gen.kernels = map[string]*cuda.Kernel{}
		}
		g.gen.kernels[tk.name] = k
	}
	if err := g.ensure(bt.T, bt.N); err != nil {
		return err
	}
	knobs := task.Knobs()
	words := g.gen.host[:0]
	for _, key := range keys {
		words = append(words, tasks.NewStream(key).Key())
	}
	for _, name := range tk.knobs {
		v, ok := knobs[name]
		if !ok {
			return fmt.Errorf("task %s has no knob %q, which %s reads", task.Name(), name, tk.name)
		}
		words = append(words, math.Float64bits(v))
	}
	g.gen.host = words
	if g.gen.words == nil || g.gen.words.N < 2*len(words) {
		if err := g.gen.words.Free(); err != nil {
			return err
		}
		var err error
		if g.gen.words, err = cuda.Alloc(2 * len(words)); err != nil {
			g.gen.words = nil
			return fmt.Errorf("task keys: %w", err)
		}
	}
	if err := g.gen.words.UploadUint64(words); err != nil {
		return fmt.Errorf("task keys: %w", err)
	}
	// Keys first, then the knobs: both views start 8-byte aligned.
	keyView, err := g.gen.words.View(0, 2*len(keys))
	if err != nil {
		return err
	}
	knobView, err := g.gen.words.View(2*len(keys), 2*len(tk.knobs))
	if err != nil {
		return err
	}
	var o int32
	if ood {
		o = 1
	}
	sh := cuda.Shape{Grid: [2]int{(bt.B + taskThreads - 1) / taskThreads, bt.N}, Block: taskThreads}
	return g.launch(k, sh, keyView, knobView, o, int32(bt.N), int32(bt.B), int32(bt.T), int32(bt.I), int32(bt.O),
		g.x, g.y, g.mask)
}

// StepTask runs one training step (as Step) on the trials that task.Fill
// makes for keys, generated on the device: N = len(keys) slots, S (network
// s trains on keys[s]) or 1 (every network on keys[0]), T = task.Steps(false).
// Nothing is uploaded but the keys and the task's knobs. It implements
// degen.TaskStepper.
func (g *Backend) StepTask(task tasks.Task, keys []tasks.Key, h *degen.Hyper, active []bool, loss []float32) error {
	bt, tk, err := g.taskBatch(task, keys, false)
	if err != nil {
		return fmt.Errorf("gpu: step task: %w", err)
	}
	if err := g.dims.CheckHyper(h, true); err != nil {
		return fmt.Errorf("gpu: step task: %w", err)
	}
	if len(active) != g.dims.S {
		return fmt.Errorf("gpu: step task: active has %d values, want S=%d", len(active), g.dims.S)
	}
	if err := degen.CheckLen("loss", loss, g.dims.S); err != nil {
		return fmt.Errorf("gpu: step task: %w", err)
	}
	err = g.ctx.Do(func() error {
		if err := g.generate(task, tk, keys, false, bt); err != nil {
			return err
		}
		if err := g.launchGradient(bt, h, active, 1); err != nil {
			return err
		}
		if err := g.sync(); err != nil {
			return err
		}
		return g.loss.Download(loss[:g.dims.S])
	})
	if err != nil {
		return fmt.Errorf("gpu: step task: %w", err)
	}
	return nil
}

var _ degen.TaskStepper = (*Backend)(nil)

// TaskBatch generates on the device the batch that tasks.Generate(task, dst,
// keys, ood) makes on the host and downloads it into dst (N = len(keys),
// the backend's B, task's T, I and O), for tests and checks.
func (g *Backend) TaskBatch(task tasks.Task, keys []tasks.Key, ood bool, dst *tasks.Batch) error {
	bt, tk, err := g.taskBatch(task, keys, ood)
	if err != nil {
		return fmt.Errorf("gpu: task batch: %w", err)
	}
	if dst == nil {
		return fmt.Errorf("gpu: task batch: nil batch")
	}
	if err := tasks.CheckBatch(task, dst, ood); err != nil {
		return fmt.Errorf("gpu: task batch: %w", err)
	}
	if dst.N != bt.N || dst.B != bt.B {
		return fmt.Errorf("gpu: task batch: batch has N=%d B=%d, want N=%d (keys) B=%d", dst.N, dst.B, bt.N, bt.B)
	}
	err = g.ctx.Do(func() error {
		if err := g.generate(task, tk, keys, ood, bt); err != nil {
			return err
		}
		if err := g.sync(); err != nil {
			return err
		}
		for _, c := range []struct {
			b   *cuda.Buffer
			dst []float32
		}{{g.x, dst.X}, {g.y, dst.Y}, {g.mask, dst.Mask}} {
			if err := c.b.Download(c.dst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("gpu: task batch: %w", err)
	}
	return nil
}

// ProfileTask times reps training steps on trials of task generated on the
// device for keys (as StepTask) and returns the medians in milliseconds:
// the generating kernel alone (device events) and a whole StepTask (host
// clock: key upload, generation, the four launches, loss download).
// Parameters change as in training; every rep uses the same keys.
func (g *Backend) ProfileTask(task tasks.Task, keys []tasks.Key, h *degen.Hyper, reps int) (TaskTiming, error) {
	var tm TaskTiming
	if reps < 1 {
		return tm, fmt.Errorf("gpu: profile task: reps = %d, want at least 1", reps)
	}
	bt, tk, err := g.taskBatch(task, keys, false)
	if err != nil {
		return tm, fmt.Errorf("gpu: profile task: %w", err)
	}
	active := make([]bool, g.dims.S)
	for i := range active {
		active[i] = true
	}
	loss := make([]float32, g.dims.S)
	var gen, step []float64
	for r := 0; r < reps+2; r++ {
		keep := r >= 2 // two warm-up rounds
		err := g.ctx.Do(func() error {
			timer, err := cuda.NewTimer()
			if err != nil {
				return err
			}
			defer timer.Close()
			if err := timer.Start(); err != nil {
				return err
			}
			if err := g.generate(task, tk, keys, false, bt); err != nil {
				return err
			}
			ms, err := timer.Stop()
			if err != nil {
				return fmt.Errorf("%w (%s)", err, g.launched)
			}
			g.launched = g.launched[:0]
			if keep {
				gen = append(gen, ms)
			}
			return nil
		})
		if err != nil {
			return tm, fmt.Errorf("gpu: profile task: %w", err)
		}
		t0 := time.Now()
		if err := g.StepTask(task, keys, h, active, loss); err != nil {
			return tm, err
		}
		if keep {
			step = append(step, float64(time.Since(t0).Microseconds())/1e3)
		}
	}
	med := func(v []float64) float64 {
		slices.Sort(v)
		return v[len(v)/2]
	}
	return TaskTiming{Generate: med(gen), StepTask: med(step)}, nil
}

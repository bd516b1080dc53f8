package main

import (
	"fmt"
	"math"
	"os"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"degen"
	"degen/cpu"
	"degen/tasks"
)

// compareTol is the tolerance of one compared tensor: an element passes when
// |got - want| <= Atol*rms(want) + Rtol*|want|, the form of the float32
// conformance tolerances (cpu/cputest.Float32) that the GPU backend's tests
// use. The values are looser than the suite's: 2.5 times for outputs and
// states, 10 times for losses and Adam moments, and for parameters Atol
// 1e-4: the suite compares them after steps from a warm Adam state, compare
// trains from a cold one, where Adam's first updates are about lr*sign(g)
// and elements with a near-zero gradient may move either way (the float32
// CPU backend uses up to 0.2 of it on the rate cell's biases, which start
// at 0).
type compareTol struct{ Atol, Rtol float64 }

var (
	tolOutputs = compareTol{1e-5, 1e-4}
	tolStates  = compareTol{1e-5, 1e-4}
	tolLoss    = compareTol{1e-6, 1e-4}
	tolParams  = compareTol{1e-4, 1e-5}
	tolMoments = compareTol{1e-4, 1e-3}
)

// tensorDiff is one row of the comparison.
type tensorDiff struct {
	Tensor  string  `json:"tensor"`
	Size    int     `json:"size"`
	MaxAbs  float64 `json:"max_abs_diff"`
	MaxRel  float64 `json:"max_rel_diff"` // over elements with want != 0
	Atol    float64 `json:"atol"`         // times rms(want)
	Rtol    float64 `json:"rtol"`
	TolUsed float64 `json:"tolerance_used"` // worst |diff| / (atol*rms + rtol*|want|)
	// CPU32Used is what the float32 CPU backend uses of the same tolerance
	// on the same problem (0 when the backend under test is the CPU).
	CPU32Used float64 `json:"cpu32_tolerance_used"`
	Pass      bool    `json:"pass"` // TolUsed <= 1, or <= 10 * CPU32Used
}

type compareReport struct {
	Backend   string       `json:"backend"`
	Reference string       `json:"reference"`
	Dims      degen.Dims   `json:"dims"`
	Cell      degen.Cell   `json:"cell"`
	Steps     int          `json:"steps"`
	LR        []float64    `json:"lr"`
	Tensors   []tensorDiff `json:"tensors"`
	Pass      bool         `json:"pass"`
}

// diff compares got with want under tol.
func diff(name string, got, want []float32, tol compareTol) tensorDiff {
	var ss float64
	for _, w := range want {
		ss += float64(w) * float64(w)
	}
	rms := 1.0
	if len(want) > 0 && ss > 0 {
		rms = math.Sqrt(ss / float64(len(want)))
	}
	d := tensorDiff{Tensor: name, Size: len(want), Atol: tol.Atol, Rtol: tol.Rtol}
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		a := math.Abs(g - w)
		if math.IsNaN(g) != math.IsNaN(w) {
			a = math.Inf(1)
		}
		d.MaxAbs = math.Max(d.MaxAbs, a)
		if w != 0 {
			d.MaxRel = math.Max(d.MaxRel, a/math.Abs(w))
		}
		if a > 0 || math.IsNaN(a) {
			d.TolUsed = math.Max(d.TolUsed, a/(tol.Atol*rms+tol.Rtol*math.Abs(w)))
		}
	}
	d.Pass = d.TolUsed <= 1
	return d
}

// compareLR is compare's learning rate unless --lr or --config sets one.
// From a cold Adam state the first updates are about lr*sign(g), so an
// element whose gradient is near zero moves by up to lr either way with the
// last bits of its sum; at training's default 1e-2 that moved parameters and
// Adam moments beyond every tolerance after 3 steps (at H=128, T=100: W_hh's
// first moment at 3.1 of its tolerance on the GPU kernels, 33 times what the
// float32 CPU backend used), with kernels that pass at 1e-3 with 0.43.
const compareLR = 1e-3

// compareDefaults makes the configuration compare starts from: training's
// defaults (the task's recipe) with lr compareLR.
func compareDefaults(cfg *degen.Config) { cfg.LR = []float64{compareLR} }

// compareCommand trains the same ensemble for k steps on a backend and on
// the float64 CPU reference, from the same initial weights and the same
// batch keys (the GPU makes its batches on the device, as in training), and
// reports per tensor how far they are apart.
func compareCommand() *cli.Command {
	cflags := configFlags()
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "TOML file with the run's settings; flags override it"},
		&cli.IntFlag{Name: "steps", Aliases: []string{"k"}, Value: 5, Usage: "training steps on both backends"},
		&cli.StringFlag{Name: "backend", Value: "gpu", Usage: "backend under test: gpu (needs degen-cuda) or cpu (float32)"},
		jsonFlag,
	}
	for _, f := range cflags {
		flags = append(flags, f.flag)
	}
	return &cli.Command{
		Name:      "compare",
		Usage:     "train the same ensemble on a backend and on the float64 CPU reference and report the differences",
		UsageText: "degen compare [--backend gpu] [--steps 5] [--config run.toml] [flags]\n\nThe learning rate is 1e-3 unless --lr or --config sets it (training's default 1e-2\nmakes Adam's first, sign-like steps amplify float32 rounding beyond any tolerance).",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("compare takes no arguments, got %q", c.Args().First())
			}
			if c.Int("steps") < 0 {
				return usagef("--steps must be >= 0, got %d", c.Int("steps"))
			}
			factory, err := backendFactory(c.String("backend"))
			if err != nil {
				return err
			}
			run, err := runFromFlags(c, cflags, compareDefaults)
			if err != nil {
				return err
			}
			rep, err := compareRun(run, factory, c.String("backend"), c.Int("steps"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				if err := printJSON(os.Stdout, rep); err != nil {
					return err
				}
			} else {
				fmt.Printf("%s against %s: %s, S=%d B=%d T=%d I=%d H=%d O=%d, %d steps, lr %v\n", rep.Backend, rep.Reference, rep.Cell,
					rep.Dims.S, rep.Dims.B, rep.Dims.T, rep.Dims.I, rep.Dims.H, rep.Dims.O, rep.Steps, rep.LR)
				w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "TENSOR\tSIZE\tMAX |DIFF|\tMAX REL\tTOL (ATOL*RMS + RTOL*|WANT|)\tUSED\tCPU32 USED\t")
				for _, t := range rep.Tensors {
					verdict := "ok"
					if !t.Pass {
						verdict = "FAIL"
					}
					fmt.Fprintf(w, "%s\t%d\t%.3g\t%.3g\t%g, %g\t%.3g\t%.3g\t%s\n", t.Tensor, t.Size, t.MaxAbs, t.MaxRel, t.Atol, t.Rtol, t.TolUsed, t.CPU32Used, verdict)
				}
				if err := w.Flush(); err != nil {
					return err
				}
			}
			if !rep.Pass {
				return fmt.Errorf("compare: %s differs from the reference beyond tolerance", rep.Backend)
			}
			return nil
		},
	}
}

// outcome is what one backend produced in a comparison: the training
// losses of every step (k, S), its state after k steps, and its outputs,
// states and losses on the evaluation set with the reference's parameters.
type outcome struct {
	loss                    []float32
	state                   *degen.TrainState
	out, states, evalLosses []float32
}

// compareRun trains run's ensemble for k steps on the backend, on the
// float64 CPU reference and, when the backend is not the CPU, on the
// float32 CPU backend, from the same initial weights and batches. It
// compares training losses, parameters and Adam moments with the
// reference's, then outputs and states on the run's evaluation set with the
// reference's trained parameters (so these rows measure the forward pass
// alone). A tensor passes when it uses at most its tolerance, or at most ten
// times what the float32 CPU backend uses on the same problem: over long
// sequences and after training from a cold Adam state (first updates about
// lr*sign(g)) float32 rounding grows beyond the size-table tolerances on
// every float32 backend, and the GPU sums in another order (its gradient
// errors were up to 6x the CPU's at T=100, see bench/RESULTS.md).
func compareRun(run *degen.Run, factory degen.BackendFactory, backend string, k int) (*compareReport, error) {
	d, l, cfg := run.Dims, run.Layout, run.Config
	cpu64 := func(d degen.Dims, m degen.Model, g []float32) (degen.Backend, error) { return cpu.NewFloat64(d, m, g) }
	cpu32 := func(d degen.Dims, m degen.Model, g []float32) (degen.Backend, error) { return cpu.New(d, m, g) }
	ref, err := trainFor(run, cpu64, k, nil)
	if err != nil {
		return nil, err
	}
	got, err := trainFor(run, factory, k, ref.state)
	if err != nil {
		return nil, err
	}
	var base *outcome
	if backend != "cpu" {
		if base, err = trainFor(run, cpu32, k, ref.state); err != nil {
			return nil, err
		}
	}
	if err := evalWith(run, cpu64, ref, ref.state); err != nil {
		return nil, err
	}
	rep := &compareReport{Backend: backend, Reference: "cpu float64", Dims: d, Cell: cfg.Cell, Steps: k, LR: cfg.LR, Pass: true}
	add := func(name string, pick func(o *outcome) []float32, tol compareTol, off, n int) {
		sel := func(o *outcome) []float32 {
			v := pick(o)
			if n == 0 {
				return v
			}
			out := make([]float32, 0, d.S*n)
			for s := range d.S {
				out = append(out, v[s*l.P+off:s*l.P+off+n]...)
			}
			return out
		}
		t := diff(name, sel(got), sel(ref), tol)
		if base != nil {
			t.CPU32Used = diff(name, sel(base), sel(ref), tol).TolUsed
			t.Pass = t.TolUsed <= 1 || t.TolUsed <= 10*t.CPU32Used
		}
		rep.Tensors = append(rep.Tensors, t)
		rep.Pass = rep.Pass && t.Pass
	}
	if k > 0 {
		add("training loss (k, S)", func(o *outcome) []float32 { return o.loss }, tolLoss, 0, 0)
	}
	for _, f := range []struct {
		name string
		pick func(o *outcome) []float32
		tol  compareTol
	}{{"", func(o *outcome) []float32 { return o.state.Params }, tolParams},
		{"Adam m ", func(o *outcome) []float32 { return o.state.AdamM }, tolMoments},
		{"Adam v ", func(o *outcome) []float32 { return o.state.AdamV }, tolMoments}} {
		for _, tn := range l.Tensors() {
			add(f.name+tn.Name, f.pick, f.tol, tn.Offset, tn.Size())
		}
	}
	add("eval outputs (S, T, K, O)", func(o *outcome) []float32 { return o.out }, tolOutputs, 0, 0)
	add("eval states (S, T, K, H)", func(o *outcome) []float32 { return o.states }, tolStates, 0, 0)
	add("eval loss (S)", func(o *outcome) []float32 { return o.evalLosses }, tolLoss, 0, 0)
	return rep, nil
}

// trainFor trains run's ensemble for k steps on a backend made by f from the
// run's initial weights, with the batches and hyperparameters of the run's
// first k training steps (one shared batch with shared data), taking the
// path degen train takes: StepTask with the keys on a backend that makes its
// batches itself (the GPU generates them on the device), Step on a host-made
// batch otherwise. When ref is not nil it then evaluates the ensemble on the
// evaluation set with ref's parameters.
func trainFor(run *degen.Run, f degen.BackendFactory, k int, ref *degen.TrainState) (*outcome, error) {
	d, l, cfg := run.Dims, run.Layout, run.Config
	be, err := f(d, cfg.Model(), run.Gamma())
	if err != nil {
		return nil, err
	}
	defer be.Close()
	st := degen.NewTrainState(d.S, l)
	copy(st.Params, run.InitialParams())
	if err := be.SetState(st); err != nil {
		return nil, err
	}
	h := run.Hyper()
	active := make([]bool, d.S)
	for s := range active {
		active[s] = true
	}
	o := &outcome{state: degen.NewTrainState(d.S, l)}
	bt := run.NewTrainBatch()
	keys := make([]tasks.Key, bt.N)
	loss := make([]float32, d.S)
	stepper, onBackend := be.(degen.TaskStepper)
	for step := range k {
		run.TrainKeys(keys, uint64(step))
		if onBackend {
			if err := stepper.StepTask(run.Task, keys, h, active, loss); err != nil {
				return nil, err
			}
		} else {
			if err := tasks.Generate(run.Task, bt, keys, false); err != nil {
				return nil, err
			}
			if err := be.Step(bt, h, active, loss); err != nil {
				return nil, err
			}
		}
		o.loss = append(o.loss, loss...)
	}
	if err := be.State(o.state); err != nil {
		return nil, err
	}
	if ref != nil {
		if err := evalWith(run, f, o, ref); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// evalWith evaluates parameters st on the run's evaluation set with a
// backend made by f and stores the results in o.
func evalWith(run *degen.Run, f degen.BackendFactory, o *outcome, st *degen.TrainState) error {
	id, _, err := run.EvalSets()
	if err != nil {
		return err
	}
	d := run.Dims
	d.B, d.T = id.B, id.T
	be, err := f(d, run.Config.Model(), run.Gamma())
	if err != nil {
		return err
	}
	defer be.Close()
	if err := be.SetState(st); err != nil {
		return err
	}
	o.out = make([]float32, d.S*d.T*d.B*d.O)
	o.states = make([]float32, d.S*d.T*d.B*d.H)
	o.evalLosses = make([]float32, d.S)
	return be.Evaluate(id, o.out, o.states, o.evalLosses)
}

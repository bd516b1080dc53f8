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
// |got - want| <= Atol*rms(want) + Rtol*|want|. The values are the float32
// conformance tolerances (cpu/cputest.Float32) that the GPU backend's tests
// use, so `degen compare` reports against the same promise, except for
// parameters: the suite compares them after steps from a warm Adam state,
// compare trains from a cold one, where Adam's first updates are about
// lr*sign(g) and elements with a near-zero gradient may move either way, so
// parameters get Atol 1e-4 (the float32 CPU backend uses up to 0.2 of it on
// the rate cell's biases, which start at 0).
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
	TolUsed float64 `json:"tolerance_used"` // worst |diff| / (atol*rms + rtol*|want|); <= 1 passes
	Pass    bool    `json:"pass"`
}

type compareReport struct {
	Backend   string       `json:"backend"`
	Reference string       `json:"reference"`
	Dims      degen.Dims   `json:"dims"`
	Cell      degen.Cell   `json:"cell"`
	Steps     int          `json:"steps"`
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

// compareCommand trains the same ensemble for k steps on a backend and on
// the float64 CPU reference, from the same initial weights and batches, and
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
		UsageText: "degen compare [--backend gpu] [--steps 5] [--config run.toml] [flags]",
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
			cfg := degen.DefaultConfig()
			if c.IsSet("config") {
				if cfg, err = degen.LoadConfig(c.String("config")); err != nil {
					return usageError{err}
				}
			}
			for _, f := range cflags {
				if c.IsSet(f.flag.Names()[0]) {
					if err := f.apply(c, &cfg); err != nil {
						return err
					}
				}
			}
			run, err := degen.NewRun(cfg, c.String("backend"))
			if err != nil {
				return usageError{err}
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
				fmt.Printf("%s against %s: %s, S=%d B=%d T=%d I=%d H=%d O=%d, %d steps\n", rep.Backend, rep.Reference, rep.Cell,
					rep.Dims.S, rep.Dims.B, rep.Dims.T, rep.Dims.I, rep.Dims.H, rep.Dims.O, rep.Steps)
				w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "TENSOR\tSIZE\tMAX |DIFF|\tMAX REL\tTOL (ATOL*RMS + RTOL*|WANT|)\tUSED\t")
				for _, t := range rep.Tensors {
					verdict := "ok"
					if !t.Pass {
						verdict = "FAIL"
					}
					fmt.Fprintf(w, "%s\t%d\t%.3g\t%.3g\t%g, %g\t%.3g\t%s\n", t.Tensor, t.Size, t.MaxAbs, t.MaxRel, t.Atol, t.Rtol, t.TolUsed, verdict)
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

// compareRun trains run's ensemble for k steps on the backend and on the
// float64 CPU reference and compares losses, parameters, Adam moments, and
// outputs and states on the run's evaluation set.
func compareRun(run *degen.Run, factory degen.BackendFactory, backend string, k int) (*compareReport, error) {
	d, l, cfg := run.Dims, run.Layout, run.Config
	m := cfg.Model()
	got, err := factory(d, m, run.Gamma())
	if err != nil {
		return nil, err
	}
	defer got.Close()
	want, err := cpu.NewFloat64(d, m, run.Gamma())
	if err != nil {
		return nil, err
	}
	defer want.Close()
	st := degen.NewTrainState(d.S, l)
	copy(st.Params, run.InitialParams())
	for _, b := range []degen.Backend{got, want} {
		if err := b.SetState(st); err != nil {
			return nil, err
		}
	}
	h := &degen.Hyper{LR: make([]float32, d.S), L1: make([]float32, d.S), Nuclear: make([]float32, d.S), ClipNorm: float32(cfg.ClipNorm)}
	for s, spec := range run.Specs {
		h.LR[s] = float32(spec.Condition.LR)
		if cfg.Cell == degen.Rate {
			h.LR[s] *= float32(spec.Condition.Gamma)
		}
		h.L1[s] = float32(spec.Condition.L1)
		h.Nuclear[s] = float32(spec.Condition.Nuclear)
	}
	active := make([]bool, d.S)
	for s := range active {
		active[s] = true
	}
	rep := &compareReport{Backend: backend, Reference: "cpu float64", Dims: d, Cell: cfg.Cell, Steps: k, Pass: true}
	add := func(t tensorDiff) {
		rep.Tensors = append(rep.Tensors, t)
		rep.Pass = rep.Pass && t.Pass
	}
	bt := tasks.NewBatchFor(run.Task, d.S, d.B, false)
	keys := make([]tasks.Key, d.S)
	gl, wl := make([]float32, d.S), make([]float32, d.S)
	var gLoss, wLoss []float32
	for step := range k {
		for s := range keys {
			keys[s] = tasks.Key{Seed: cfg.Seed, Network: run.Specs[s].SeedIndex, Step: uint64(step)}
		}
		if err := tasks.Generate(run.Task, bt, keys, false); err != nil {
			return nil, err
		}
		if err := got.Step(bt, h, active, gl); err != nil {
			return nil, err
		}
		if err := want.Step(bt, h, active, wl); err != nil {
			return nil, err
		}
		gLoss, wLoss = append(gLoss, gl...), append(wLoss, wl...)
	}
	if k > 0 {
		add(diff("training loss (k, S)", gLoss, wLoss, tolLoss))
	}
	gs, ws := degen.NewTrainState(d.S, l), degen.NewTrainState(d.S, l)
	if err := got.State(gs); err != nil {
		return nil, err
	}
	if err := want.State(ws); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name      string
		got, want []float32
		tol       compareTol
	}{{"", gs.Params, ws.Params, tolParams}, {"Adam m ", gs.AdamM, ws.AdamM, tolMoments}, {"Adam v ", gs.AdamV, ws.AdamV, tolMoments}} {
		for _, tn := range l.Tensors() {
			n := tn.Size()
			g, w := make([]float32, 0, d.S*n), make([]float32, 0, d.S*n)
			for s := range d.S {
				g = append(g, f.got[s*l.P+tn.Offset:s*l.P+tn.Offset+n]...)
				w = append(w, f.want[s*l.P+tn.Offset:s*l.P+tn.Offset+n]...)
			}
			add(diff(f.name+tn.Name, g, w, f.tol))
		}
	}
	id, _, err := run.EvalSets()
	if err != nil {
		return nil, err
	}
	// The evaluation set has its own trial count: evaluate on fresh
	// backends of that size holding the trained parameters.
	ed := d
	ed.B, ed.T = id.B, id.T
	outs := make([][]float32, 2)
	states := make([][]float32, 2)
	losses := make([][]float32, 2)
	for i, mk := range []degen.BackendFactory{factory, func(d degen.Dims, m degen.Model, g []float32) (degen.Backend, error) {
		return cpu.NewFloat64(d, m, g)
	}} {
		be, err := mk(ed, m, run.Gamma())
		if err != nil {
			return nil, err
		}
		src := gs
		if i == 1 {
			src = ws
		}
		if err := be.SetState(src); err != nil {
			be.Close()
			return nil, err
		}
		outs[i] = make([]float32, d.S*id.T*id.B*d.O)
		states[i] = make([]float32, d.S*id.T*id.B*d.H)
		losses[i] = make([]float32, d.S)
		err = be.Evaluate(id, outs[i], states[i], losses[i])
		be.Close()
		if err != nil {
			return nil, err
		}
	}
	add(diff("eval outputs (S, T, K, O)", outs[0], outs[1], tolOutputs))
	add(diff("eval states (S, T, K, H)", states[0], states[1], tolStates))
	add(diff("eval loss (S)", losses[0], losses[1], tolLoss))
	return rep, nil
}

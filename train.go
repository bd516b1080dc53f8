package degen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"degen/tasks"
)

// BackendFactory builds a backend for an ensemble; gamma (S) is each network's
// rate-cell readout scale.
type BackendFactory func(d Dims, m Model, gamma []float32) (Backend, error)

// Progress is what the training loop reports after every step.
type Progress struct {
	Epoch, MaxEpochs int     // the current epoch (0-based) and the budget
	Step, Steps      int     // the step within the epoch and steps per epoch
	Networks         int     // networks in the ensemble
	Active           int     // networks still training
	Converged        int     // networks that converged
	Diverged         int     // networks that diverged
	MeanLoss         float64 // mean loss at this step over the networks that trained and did not diverge
	EpochDone        bool    // true on the last step of an epoch
}

// ErrInterrupted is returned by Train when its context was cancelled: the run
// directory then holds a checkpoint that `degen train --resume` continues.
var ErrInterrupted = errors.New("training interrupted; checkpoint saved")

// Run is a prepared training run: the config, the task and the ensemble.
type Run struct {
	Config  Config
	Task    tasks.Task
	Specs   []NetworkSpec
	Dims    Dims
	Layout  Layout
	Backend string // backend name, recorded in run.json
}

// NewRun validates the config and builds its task and ensemble.
func NewRun(cfg Config, backend string) (*Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	task, err := tasks.New(cfg.Task, cfg.Knobs)
	if err != nil {
		return nil, err
	}
	specs := cfg.Networks()
	d := Dims{S: len(specs), B: cfg.Batch, T: task.Steps(false), I: task.Inputs(), H: cfg.Hidden, O: task.Outputs()}
	if err := d.Check(); err != nil {
		return nil, err
	}
	return &Run{Config: cfg, Task: task, Specs: specs, Dims: d, Layout: NewLayout(d.H, d.I, d.O), Backend: backend}, nil
}

// Threshold is the convergence threshold in use.
func (r *Run) Threshold() float64 {
	if r.Config.Threshold > 0 {
		return r.Config.Threshold
	}
	return r.Task.Threshold()
}

// Gamma returns each network's gamma as float32 (S).
func (r *Run) Gamma() []float32 {
	g := make([]float32, len(r.Specs))
	for s, spec := range r.Specs {
		g[s] = float32(spec.Condition.Gamma)
	}
	return g
}

// LearningRates returns each network's initial Adam learning rate (S): its
// eta0, times its gamma for the rate cell (eta = gamma * eta0).
func (r *Run) LearningRates() []float64 {
	lr := make([]float64, len(r.Specs))
	for s, spec := range r.Specs {
		lr[s] = spec.Condition.LR
		if r.Config.Cell == Rate {
			lr[s] *= spec.Condition.Gamma
		}
	}
	return lr
}

// Hyper returns the hyperparameters of the run's first training step: the
// LearningRates, each network's L1 and nuclear strengths, and the clip norm.
func (r *Run) Hyper() *Hyper {
	s := len(r.Specs)
	h := &Hyper{LR: make([]float32, s), L1: make([]float32, s), Nuclear: make([]float32, s), ClipNorm: float32(r.Config.ClipNorm)}
	for i, lr := range r.LearningRates() {
		h.LR[i] = float32(lr)
		h.L1[i] = float32(r.Specs[i].Condition.L1)
		h.Nuclear[i] = float32(r.Specs[i].Condition.Nuclear)
	}
	return h
}

// NewTrainBatch allocates a batch for the run's training steps: S slots,
// one per network, or a single slot that every network shares when
// Config.SharedData is set.
func (r *Run) NewTrainBatch() *tasks.Batch {
	return tasks.NewBatchFor(r.Task, r.TrainSlots(), r.Config.Batch, false)
}

// TrainSlots is the number of slots of a training batch: S, or 1 when the
// networks share their data.
func (r *Run) TrainSlots() int {
	if r.Config.SharedData {
		return 1
	}
	return r.Dims.S
}

// TrainKeys sets keys, one per slot of a NewTrainBatch batch, to the keys of
// training step `step`: slot k trains network k on (Seed, its seed index,
// step), or every network on (Seed, 0, step) when the data are shared.
func (r *Run) TrainKeys(keys []tasks.Key, step uint64) {
	for k := range keys {
		keys[k] = tasks.Key{Seed: r.Config.Seed, Step: step}
		if !r.Config.SharedData {
			keys[k].Network = r.Specs[k].SeedIndex
		}
	}
}

// InitialParams returns the ensemble's initial parameters (S, P).
func (r *Run) InitialParams() []float32 {
	p := make([]float32, r.Dims.S*r.Layout.P)
	for s, spec := range r.Specs {
		InitParams(r.Config.Model(), r.Layout, r.Config.Seed, spec.SeedIndex, p[s*r.Layout.P:(s+1)*r.Layout.P])
	}
	return p
}

// PrepareDir makes dir ready for a new run: it creates it, and refuses an
// existing run directory unless force is set, in which case degen's own
// files in it (the run's, and the analysis outputs and figures made from
// it) are removed, so nothing stale is left beside the new run; nothing
// else is touched.
func PrepareDir(dir string, force bool) error {
	if _, err := os.Stat(filepath.Join(dir, RunFile)); err == nil {
		if !force {
			return fmt.Errorf("%s already holds a run; use --resume to continue it or --force to replace it", dir)
		}
		for _, name := range []string{RunFile, WeightsFile, MetricsFile, CheckpointFile, EvalFile, StatesFile, DegeneracyJSON, DegeneracyCSV, DistancesFile} {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		for _, pattern := range []string{"*_heatmap.png", "*_heatmap.svg", "*_mds.png", "*_mds.svg"} {
			figures, _ := filepath.Glob(filepath.Join(dir, FiguresDir, pattern))
			for _, f := range figures {
				if err := os.Remove(f); err != nil {
					return err
				}
			}
		}
		os.Remove(filepath.Join(dir, FiguresDir)) // only if now empty
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create run directory: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".degen-write-test*")
	if err != nil {
		return fmt.Errorf("run directory %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// trainer is the state of the training loop for every network of a run.
type trainer struct {
	run     *Run
	dir     string
	be      Backend
	state   *TrainState
	initial []float32 // (S, P) the initial parameters, drawn once for weights.npz's _init arrays

	lr         []float64 // current learning rate (after the plateau schedule)
	best       []float64 // best epoch loss seen by the plateau schedule
	bad        []int     // epochs since the plateau schedule last improved
	below      []int     // consecutive epochs below the threshold
	status     []Status
	epochs     []int
	steps      []int
	finalLoss  []float64
	epochSum   []float64 // loss summed over the current epoch's steps
	epochCount []int     // steps counted in epochSum

	epoch, step int // position of the next step
	// position of the last checkpoint written or resumed from; -1: none
	savedEpoch, savedStep int
}

// Train trains the run in dir from scratch (resume false) or from dir's
// checkpoint, until every network has converged, diverged or run out of
// epochs, or ctx is cancelled (then it saves a checkpoint and returns
// ErrInterrupted). It writes run.json, weights.npz, metrics.csv and the
// checkpoint; the final run.json is returned.
func Train(ctx context.Context, run *Run, dir string, factory BackendFactory, resume bool, progress func(Progress)) (*RunInfo, error) {
	be, err := factory(run.Dims, run.Config.Model(), run.Gamma())
	if err != nil {
		return nil, err
	}
	defer be.Close()
	t := newTrainer(run, dir, be)
	t.initial = run.InitialParams()
	if resume {
		if err := t.loadCheckpoint(); err != nil {
			return nil, err
		}
		t.savedEpoch, t.savedStep = t.epoch, t.step
	} else {
		copy(t.state.Params, t.initial)
		if err := t.writeMetricsHeader(); err != nil {
			return nil, err
		}
	}
	if err := be.SetState(t.state); err != nil {
		return nil, err
	}
	if !resume {
		// A first checkpoint at step 0, so that a run killed before its
		// first periodic one (every 10 epochs) can still be resumed.
		if err := t.save(); err != nil {
			return nil, err
		}
	}
	if err := t.loop(ctx, progress); err != nil {
		if errors.Is(err, ErrInterrupted) {
			if serr := t.save(); serr != nil {
				return nil, fmt.Errorf("interrupted, and the checkpoint could not be saved: %w", serr)
			}
			return t.info(), err
		}
		return t.info(), t.failed(err)
	}
	return t.info(), t.save()
}

// failed says where training stopped on an error and what the run directory
// still holds. Nothing is saved after a failed step: the backend's state may
// be half updated (or, after a GPU fault, unreadable), so the last checkpoint
// is the point to resume from.
func (t *trainer) failed(err error) error {
	where := fmt.Sprintf("training stopped in epoch %d, step %d", t.epoch, t.step)
	if t.savedEpoch < 0 {
		return fmt.Errorf("%s: %w (no checkpoint could be written)", where, err)
	}
	return fmt.Errorf("%s: %w (the checkpoint at epoch %d, step %d is in %s: continue with degen train --resume %s)",
		where, err, t.savedEpoch, t.savedStep, t.dir, t.dir)
}

func newTrainer(run *Run, dir string, be Backend) *trainer {
	s := run.Dims.S
	t := &trainer{run: run, dir: dir, be: be, state: NewTrainState(s, run.Layout),
		lr: make([]float64, s), best: make([]float64, s), bad: make([]int, s), below: make([]int, s),
		status: make([]Status, s), epochs: make([]int, s), steps: make([]int, s), finalLoss: make([]float64, s),
		epochSum: make([]float64, s), epochCount: make([]int, s), savedEpoch: -1}
	copy(t.lr, run.LearningRates())
	for i := range run.Specs {
		t.best[i] = math.Inf(1)
		t.status[i] = Training
		t.finalLoss[i] = math.NaN()
	}
	return t
}

func (t *trainer) loop(ctx context.Context, progress func(Progress)) error {
	cfg := t.run.Config
	d := t.run.Dims
	// A backend that makes its batches itself gets the keys only; for the
	// others the host generates each batch while the previous step runs.
	stepper, onBackend := t.be.(TaskStepper)
	var data *prefetcher
	var keys []tasks.Key
	if onBackend {
		keys = make([]tasks.Key, t.run.TrainSlots())
	} else {
		data = newPrefetcher(t.run)
	}
	hyper := t.run.Hyper() // LR follows t.lr below
	active := make([]bool, d.S)
	loss := make([]float32, d.S)
	threshold := t.run.Threshold()
	for t.epoch < cfg.MaxEpochs {
		for ; t.step < cfg.StepsPerEpoch; t.step++ {
			nActive := 0
			for s := range active {
				active[s] = t.status[s] == Training
				if active[s] {
					nActive++
				}
				hyper.LR[s] = float32(t.lr[s])
			}
			if nActive == 0 {
				if t.step > 0 {
					// The last networks diverged within this epoch: close
					// it for them as for any other diverged network (epoch
					// counted, NaN row, final loss NaN), and for the run.
					if err := t.endEpoch(threshold); err != nil {
						return err
					}
					t.epoch, t.step = t.epoch+1, 0
				}
				return nil
			}
			if ctx.Err() != nil {
				return ErrInterrupted
			}
			step := uint64(t.epoch*cfg.StepsPerEpoch + t.step)
			if onBackend {
				t.run.TrainKeys(keys, step)
				if err := stepper.StepTask(t.run.Task, keys, hyper, active, loss); err != nil {
					return err
				}
			} else {
				batch, err := data.batch(step)
				if err != nil {
					return err
				}
				if err := t.be.Step(batch, hyper, active, loss); err != nil {
					return err
				}
			}
			sum, finite := 0.0, 0
			for s := range active {
				if !active[s] {
					continue
				}
				t.steps[s]++
				t.epochCount[s]++
				l := float64(loss[s])
				if math.IsNaN(l) || math.IsInf(l, 0) {
					t.status[s] = Diverged // its epoch row then shows NaN
					t.epochSum[s] = math.NaN()
					continue
				}
				t.epochSum[s] += l
				sum += l
				finite++
			}
			if progress != nil {
				p := t.progress()
				p.Step, p.MeanLoss = t.step, sum/float64(max(finite, 1))
				p.EpochDone = t.step == cfg.StepsPerEpoch-1
				progress(p)
			}
		}
		if err := t.endEpoch(threshold); err != nil {
			return err
		}
		// The position is the next step's before a checkpoint records it.
		t.epoch, t.step = t.epoch+1, 0
		if t.epoch%10 == 0 {
			if err := t.save(); err != nil {
				return err
			}
		}
	}
	for s := range t.status {
		if t.status[s] == Training {
			t.status[s] = NotConverged
		}
	}
	return nil
}

// prefetcher makes the training batches, the next one in the background
// while the backend works on the current one. Batch contents depend only on
// the step number, so prefetching changes no result.
type prefetcher struct {
	run     *Run
	bufs    [2]*tasks.Batch
	keys    [2][]tasks.Key
	cur     int
	pending uint64     // step being prepared in bufs[1-cur]
	ready   chan error // receives when bufs[1-cur] is filled
}

func newPrefetcher(run *Run) *prefetcher {
	p := &prefetcher{run: run, ready: make(chan error, 1), pending: ^uint64(0)}
	for i := range p.bufs {
		p.bufs[i] = run.NewTrainBatch()
		p.keys[i] = make([]tasks.Key, p.bufs[i].N)
	}
	return p
}

func (p *prefetcher) fill(i int, step uint64) error {
	p.run.TrainKeys(p.keys[i], step)
	return tasks.Generate(p.run.Task, p.bufs[i], p.keys[i], false)
}

// batch returns the batch of the given step and starts preparing step+1.
// The returned batch stays valid until the next call.
func (p *prefetcher) batch(step uint64) (*tasks.Batch, error) {
	var err error
	if p.pending == step {
		err = <-p.ready
		p.cur = 1 - p.cur
	} else {
		if p.pending != ^uint64(0) {
			<-p.ready // discard a stale prefetch
		}
		err = p.fill(p.cur, step)
	}
	if err != nil {
		return nil, err
	}
	next := 1 - p.cur
	p.pending = step + 1
	go func() { p.ready <- p.fill(next, step+1) }()
	return p.bufs[p.cur], nil
}

// endEpoch applies early stopping and the plateau schedule to every network
// that trained this epoch, and appends its metrics rows.
func (t *trainer) endEpoch(threshold float64) error {
	cfg := t.run.Config
	var rows strings.Builder
	for s := range t.status {
		if t.epochCount[s] == 0 {
			continue // did not train this epoch
		}
		l := t.epochSum[s] / float64(t.epochCount[s])
		t.epochSum[s], t.epochCount[s] = 0, 0
		t.finalLoss[s] = l
		t.epochs[s]++
		if t.status[s] == Training {
			if l < threshold {
				t.below[s]++
				if t.below[s] > cfg.Patience {
					t.status[s] = Converged
				}
			} else {
				t.below[s] = 0
			}
			// ReduceLROnPlateau, PyTorch's defaults: mode min, relative threshold 1e-4.
			if l < t.best[s]*(1-1e-4) {
				t.best[s], t.bad[s] = l, 0
			} else if t.bad[s]++; t.bad[s] > cfg.PlateauPatience {
				t.lr[s] *= cfg.PlateauFactor
				t.bad[s] = 0
			}
		}
		fmt.Fprintf(&rows, "%d,%d,%.9g,%g,%s\n", t.epoch, t.run.Specs[s].Index, l, t.lr[s], t.status[s])
	}
	return t.appendMetrics(rows.String())
}

func (t *trainer) progress() Progress {
	p := Progress{Epoch: t.epoch, MaxEpochs: t.run.Config.MaxEpochs, Steps: t.run.Config.StepsPerEpoch, Networks: len(t.status)}
	for _, st := range t.status {
		switch st {
		case Training:
			p.Active++
		case Converged:
			p.Converged++
		case Diverged:
			p.Diverged++
		}
	}
	return p
}

func (t *trainer) info() *RunInfo {
	cfg := t.run.Config
	info := &RunInfo{Version: Version, Backend: t.run.Backend, Config: cfg, Knobs: t.run.Task.Knobs(),
		Threshold: t.run.Threshold(), Dims: t.run.Dims, Epoch: t.epoch, Finished: true}
	if d, ok := t.be.(Describer); ok {
		info.Detail = d.Describe()
	}
	for s, spec := range t.run.Specs {
		if t.status[s] == Training {
			info.Finished = false
		}
		final := t.finalLoss[s]
		info.Networks = append(info.Networks, NetworkStatus{NetworkSpec: spec, Status: t.status[s],
			Converged: t.status[s] == Converged, Diverged: t.status[s] == Diverged,
			Epochs: t.epochs[s], Steps: t.steps[s], FinalLoss: JSONFloat(final), LR: t.lr[s]})
	}
	return info
}

// JSONFloat is a float64 that is written as null in JSON when it is NaN or
// Inf (JSON has no such numbers), and read back from null as NaN.
type JSONFloat float64

// MarshalJSON implements json.Marshaler.
func (f JSONFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *JSONFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = JSONFloat(math.NaN())
		return nil
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = JSONFloat(v)
	return err
}

// save writes the checkpoint, weights.npz and run.json.
func (t *trainer) save() error {
	if err := t.be.State(t.state); err != nil {
		return err
	}
	if err := t.writeCheckpoint(); err != nil {
		return err
	}
	t.savedEpoch, t.savedStep = t.epoch, t.step
	if err := WriteWeights(t.dir, t.run.Layout, t.state.Params, t.initial); err != nil {
		return err
	}
	return WriteRunInfo(t.dir, t.info())
}

const metricsHeader = "epoch,network,loss,lr,status\n"

func (t *trainer) writeMetricsHeader() error {
	return WriteAtomic(filepath.Join(t.dir, MetricsFile), func(f *os.File) error {
		_, err := f.WriteString(metricsHeader)
		return err
	})
}

func (t *trainer) appendMetrics(rows string) error {
	f, err := os.OpenFile(filepath.Join(t.dir, MetricsFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if _, err := f.WriteString(rows); err != nil {
		f.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	return f.Close()
}

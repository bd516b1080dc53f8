package degen

import (
	"fmt"
	"path/filepath"

	"degen/tasks"
)

// OpenRun reads dir/run.json and rebuilds its Run, checking that the config
// still describes the recorded networks.
func OpenRun(dir, backend string) (*Run, *RunInfo, error) {
	info, err := ReadRunInfo(dir)
	if err != nil {
		return nil, nil, err
	}
	run, err := NewRun(info.Config, backend)
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("%s: %w", filepath.Join(dir, RunFile), err))
	}
	if len(run.Specs) != len(info.Networks) {
		return nil, nil, badInput(fmt.Errorf("%s records %d networks but its config makes %d", filepath.Join(dir, RunFile), len(info.Networks), len(run.Specs)))
	}
	return run, info, nil
}

// EvalSets returns the fixed evaluation sets of a run: K trials shared by
// every network, in distribution and out of distribution, keyed by the run's
// seed and tasks.EvalStep so every evaluation of the run sees the same trials.
func (r *Run) EvalSets() (id, ood *tasks.Batch, err error) {
	k := r.Config.EvalTrials
	id = tasks.NewBatchFor(r.Task, 1, k, false)
	ood = tasks.NewBatchFor(r.Task, 1, k, true)
	if err := tasks.Generate(r.Task, id, []tasks.Key{{Seed: r.Config.Seed, Network: 0, Step: tasks.EvalStep}}, false); err != nil {
		return nil, nil, err
	}
	if err := tasks.Generate(r.Task, ood, []tasks.Key{{Seed: r.Config.Seed, Network: 1, Step: tasks.EvalStep}}, true); err != nil {
		return nil, nil, err
	}
	return id, ood, nil
}

// Evaluate runs every network of the run in dir on the fixed evaluation
// sets, and writes eval.json (losses) and states.npz:
//
//	states      (S, K, T, H)   hidden states on the in-distribution set
//	outputs     (S, K, T, O)   outputs on the in-distribution set
//	ood_outputs (S, K, T2, O)  outputs on the out-of-distribution set
//	inputs (K, T, I), targets (K, T, O), mask (K, T, O)             the in-distribution set
//	ood_inputs (K, T2, I), ood_targets (K, T2, O), ood_mask (K, T2, O) the OOD set
//	networks    (S)            the networks' indices in the ensemble
func Evaluate(dir string, factory BackendFactory, backend string) (*EvalReport, error) {
	run, info, err := OpenRun(dir, backend)
	if err != nil {
		return nil, err
	}
	weightsDigest, err := FileDigest(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, err
	}
	params, err := ReadWeights(dir, run.Layout, run.Dims.S, "")
	if err != nil {
		return nil, err
	}
	id, ood, err := run.EvalSets()
	if err != nil {
		return nil, err
	}
	d := run.Dims
	d.B = run.Config.EvalTrials
	d.T = max(id.T, ood.T)
	be, err := factory(d, run.Config.Model(), run.Gamma())
	if err != nil {
		return nil, err
	}
	defer be.Close()
	st := NewTrainState(d.S, run.Layout)
	copy(st.Params, params)
	if err := be.SetState(st); err != nil {
		return nil, err
	}
	s, k := d.S, d.B
	out := make([]float32, s*id.T*k*d.O)
	states := make([]float32, s*id.T*k*d.H)
	loss := make([]float32, s)
	if err := be.Evaluate(id, out, states, loss); err != nil {
		return nil, err
	}
	oodOut := make([]float32, s*ood.T*k*d.O)
	oodLoss := make([]float32, s)
	if err := be.Evaluate(ood, oodOut, nil, oodLoss); err != nil {
		return nil, err
	}
	report := &EvalReport{Backend: backend, Trials: k, Steps: id.T, OODSteps: ood.T, WeightsSHA256: weightsDigest}
	index := make([]int32, s)
	for i, n := range info.Networks {
		index[i] = int32(n.Index)
		report.Networks = append(report.Networks, EvalNetwork{Index: n.Index, Converged: n.Converged,
			Loss: JSONFloat(loss[i]), OODLoss: JSONFloat(oodLoss[i])})
	}
	err = WriteNPZ(filepath.Join(dir, StatesFile),
		NamedArray{"states", []int{s, k, id.T, d.H}, timeToTrial(states, s, id.T, k, d.H)},
		NamedArray{"outputs", []int{s, k, id.T, d.O}, timeToTrial(out, s, id.T, k, d.O)},
		NamedArray{"ood_outputs", []int{s, k, ood.T, d.O}, timeToTrial(oodOut, s, ood.T, k, d.O)},
		NamedArray{"inputs", []int{k, id.T, d.I}, timeToTrial(id.X, 1, id.T, k, d.I)},
		NamedArray{"targets", []int{k, id.T, d.O}, timeToTrial(id.Y, 1, id.T, k, d.O)},
		NamedArray{"mask", []int{k, id.T, d.O}, timeToTrial(id.Mask, 1, id.T, k, d.O)},
		NamedArray{"ood_inputs", []int{k, ood.T, d.I}, timeToTrial(ood.X, 1, ood.T, k, d.I)},
		NamedArray{"ood_targets", []int{k, ood.T, d.O}, timeToTrial(ood.Y, 1, ood.T, k, d.O)},
		NamedArray{"ood_mask", []int{k, ood.T, d.O}, timeToTrial(ood.Mask, 1, ood.T, k, d.O)},
		NamedArray{"networks", []int{s}, index},
	)
	if err != nil {
		return nil, err
	}
	// eval.json is written last: it vouches for the states.npz just written.
	if report.StatesSHA256, err = FileDigest(filepath.Join(dir, StatesFile)); err != nil {
		return nil, err
	}
	return report, WriteEvalReport(dir, report)
}

// timeToTrial reorders a time-major (N, T, K, C) array into the trial-major
// (N, K, T, C) order of the files a user loads.
func timeToTrial(src []float32, n, t, k, c int) []float32 {
	dst := make([]float32, len(src))
	for a := 0; a < n; a++ {
		for ti := 0; ti < t; ti++ {
			for ki := 0; ki < k; ki++ {
				from := ((a*t+ti)*k + ki) * c
				to := ((a*k+ki)*t + ti) * c
				copy(dst[to:to+c], src[from:from+c])
			}
		}
	}
	return dst
}

package degen

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// File names inside a run directory (a contract: other tools load them).
const (
	RunFile        = "run.json"       // config, version, per-network status
	WeightsFile    = "weights.npz"    // final (or latest) and initial weights
	MetricsFile    = "metrics.csv"    // one row per network and epoch
	CheckpointFile = "checkpoint.npz" // parameters, Adam and loop state for --resume
	EvalFile       = "eval.json"      // in-distribution and OOD losses (degen eval)
	StatesFile     = "states.npz"     // hidden states and outputs on the evaluation sets

	DegeneracyJSON = "degeneracy.json" // degen analyze: summary per level
	DegeneracyCSV  = "degeneracy.csv"  // degen analyze: the same as a table
	DistancesFile  = "distances.npz"   // degen analyze: one (N, N) matrix per measure
	FiguresDir     = "figures"         // degen analyze: heatmaps and MDS scatters
)

// Version is degen's version, recorded in every run.
const Version = "0.1.0"

// Status is where a network's training stands.
type Status string

const (
	Training     Status = "training"      // still training (or paused by an interruption)
	Converged    Status = "converged"     // reached the threshold and its patience
	Diverged     Status = "diverged"      // its loss became NaN or Inf
	NotConverged Status = "not_converged" // ran out of epochs
)

// NetworkStatus is one network's record in run.json.
type NetworkStatus struct {
	NetworkSpec
	Status    Status    `json:"status"`
	Converged bool      `json:"converged"`
	Diverged  bool      `json:"diverged"`
	Epochs    int       `json:"epochs"`     // epochs trained
	Steps     int       `json:"steps"`      // training steps taken
	FinalLoss JSONFloat `json:"final_loss"` // mean training MSE of its last epoch (null when diverged)
	LR        float64   `json:"lr_now"`     // learning rate after the plateau schedule
}

// RunInfo is the content of run.json.
type RunInfo struct {
	Version   string             `json:"version"`
	Backend   string             `json:"backend"`
	Detail    string             `json:"backend_detail,omitempty"` // what the backend computed on (Describer), at the latest start; shards' distinct ones joined by " | "
	Config    Config             `json:"config"`
	Knobs     map[string]float64 `json:"task_knobs"` // every task knob in use, defaults included
	Threshold float64            `json:"threshold"`  // the threshold in use
	Dims      Dims               `json:"dims"`
	Epoch     int                `json:"epoch"`    // epochs completed by the run
	Finished  bool               `json:"finished"` // true once no network trains any more
	Networks  []NetworkStatus    `json:"networks"`
}

// Converged returns the networks (slots) that converged.
func (r *RunInfo) Converged() []int {
	var out []int
	for s, n := range r.Networks {
		if n.Converged {
			out = append(out, s)
		}
	}
	return out
}

// InputError marks an error in what a user gave degen (a missing, corrupt
// or inconsistent file of a run directory) rather than a failure of degen
// or the machine: the command line exits 2 for it, like for a bad flag.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// badInput wraps err (when not nil) as an *InputError.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &InputError{err}
}

// ReadRunInfo reads dir/run.json.
func ReadRunInfo(dir string) (*RunInfo, error) {
	info, err := readRunInfo(dir)
	return info, badInput(err)
}

func readRunInfo(dir string) (*RunInfo, error) {
	var info RunInfo
	if err := readJSON(filepath.Join(dir, RunFile), &info); err != nil {
		return nil, err
	}
	if len(info.Networks) == 0 {
		return nil, fmt.Errorf("%s: no networks recorded", filepath.Join(dir, RunFile))
	}
	seen := make(map[int]int, len(info.Networks))
	for s, n := range info.Networks {
		if n.Index < 0 {
			return nil, fmt.Errorf("%s: network slot %d has index %d; indices are not negative", filepath.Join(dir, RunFile), s, n.Index)
		}
		if prev, ok := seen[n.Index]; ok {
			return nil, fmt.Errorf("%s: network index %d appears in slots %d and %d; each network has its own index", filepath.Join(dir, RunFile), n.Index, prev, s)
		}
		seen[n.Index] = s
	}
	return &info, nil
}

// WriteRunInfo writes dir/run.json atomically.
func WriteRunInfo(dir string, info *RunInfo) error {
	return writeJSON(filepath.Join(dir, RunFile), info)
}

// EvalNetwork is one network's record in eval.json.
type EvalNetwork struct {
	Index     int       `json:"index"`
	Converged bool      `json:"converged"`
	Loss      JSONFloat `json:"loss"`     // masked MSE on the in-distribution evaluation set (null if NaN)
	OODLoss   JSONFloat `json:"ood_loss"` // masked MSE on the out-of-distribution set (null if NaN)
}

// EvalReport is the content of eval.json.
type EvalReport struct {
	Backend  string        `json:"backend"`
	Trials   int           `json:"trials"`
	Steps    int           `json:"steps"`
	OODSteps int           `json:"ood_steps"`
	Networks []EvalNetwork `json:"networks"`
	// The SHA-256 of the weights.npz evaluated and of the states.npz
	// written with this report (FileDigest): CheckEvalCurrent compares them
	// with the files now in the directory.
	WeightsSHA256 string `json:"weights_sha256"`
	StatesSHA256  string `json:"states_sha256"`
}

// FileDigest returns the SHA-256 of a file's content, hex-encoded.
func FileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// StaleError says that a derived file no longer matches what it was
// derived from; Fix is the command that brings it up to date.
type StaleError struct {
	Problem, Fix string
}

func (e *StaleError) Error() string { return e.Problem + ": run `" + e.Fix + "`" }

// CheckEvalCurrent returns a *StaleError unless r, the eval.json of dir,
// was computed from the weights.npz now in dir and written together with
// the states.npz now in dir: a run trained further, replaced or copied
// over after its evaluation, or an evaluation interrupted between its two
// files, would otherwise mix results of different weights.
func CheckEvalCurrent(dir string, r *EvalReport) error {
	fix := "degen eval " + dir
	if r.WeightsSHA256 == "" || r.StatesSHA256 == "" {
		return &StaleError{fmt.Sprintf("%s does not record which weights it evaluated (an older degen wrote it)", filepath.Join(dir, EvalFile)), fix}
	}
	w, err := FileDigest(filepath.Join(dir, WeightsFile))
	if err != nil {
		return err
	}
	if w != r.WeightsSHA256 {
		return &StaleError{fmt.Sprintf("%s and %s were computed from other weights than %s holds now (the run trained further or was replaced)",
			EvalFile, StatesFile, filepath.Join(dir, WeightsFile)), fix}
	}
	st, err := FileDigest(filepath.Join(dir, StatesFile))
	if err != nil {
		return err
	}
	if st != r.StatesSHA256 {
		return &StaleError{fmt.Sprintf("%s is not the file %s was written with (an interrupted evaluation or a copy)",
			filepath.Join(dir, StatesFile), EvalFile), fix}
	}
	return nil
}

// ReadEvalReport reads dir/eval.json.
func ReadEvalReport(dir string) (*EvalReport, error) {
	var r EvalReport
	if err := readJSON(filepath.Join(dir, EvalFile), &r); err != nil {
		return nil, badInput(err)
	}
	return &r, nil
}

// WriteEvalReport writes dir/eval.json atomically.
func WriteEvalReport(dir string, r *EvalReport) error {
	return writeJSON(filepath.Join(dir, EvalFile), r)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s does not exist", path)
		}
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is corrupted: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return WriteAtomic(path, func(f *os.File) error {
		_, err := f.Write(append(data, '\n'))
		return err
	})
}

// WriteWeights writes params (S, P) and their initial values to
// dir/weights.npz with one (S, ...) array per tensor: W_hh, W_ih, b, W_out,
// b_out and the same names with an _init suffix.
func WriteWeights(dir string, l Layout, params, initial []float32) error {
	s := len(params) / l.P
	var arrays []NamedArray
	for _, src := range []struct {
		suffix string
		p      []float32
	}{{"", params}, {"_init", initial}} {
		for _, t := range l.Tensors() {
			n := t.Size()
			data := make([]float32, s*n)
			for k := 0; k < s; k++ {
				copy(data[k*n:(k+1)*n], src.p[k*l.P+t.Offset:k*l.P+t.Offset+n])
			}
			arrays = append(arrays, NamedArray{Name: t.Name + src.suffix, Shape: append([]int{s}, t.Shape...), Data: data})
		}
	}
	return WriteNPZ(filepath.Join(dir, WeightsFile), arrays...)
}

// ReadWeights reads dir/weights.npz back into a flat (S, P) parameter
// vector (suffix "" for the trained weights, "_init" for the initial ones),
// checking every array's shape against the layout.
func ReadWeights(dir string, l Layout, s int, suffix string) ([]float32, error) {
	params, err := readWeights(dir, l, s, suffix)
	return params, badInput(err)
}

func readWeights(dir string, l Layout, s int, suffix string) ([]float32, error) {
	path := filepath.Join(dir, WeightsFile)
	params := make([]float32, s*l.P)
	for _, t := range l.Tensors() {
		a, err := ReadNPZArray(path, t.Name+suffix)
		if err != nil {
			return nil, err
		}
		want := append([]int{s}, t.Shape...)
		if !slices.Equal(a.Shape, want) {
			return nil, fmt.Errorf("%s: %s has shape %v, want %v", path, t.Name+suffix, a.Shape, want)
		}
		n := t.Size()
		for k := 0; k < s; k++ {
			for i := 0; i < n; i++ {
				params[k*l.P+t.Offset+i] = float32(a.Data[k*n+i])
			}
		}
	}
	return params, nil
}

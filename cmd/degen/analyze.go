package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"gonum.org/v1/gonum/mat"

	"degen"
	"degen/analysis"
)

// The measures of `degen analyze RUN_DIR`, in output order, with their level.
var analyzeMeasures = []struct{ name, level, title string }{
	{"behaviour", "behaviour", "OOD output distance (RMS)"},
	{"dsa", "dynamics", "DSA distance"},
	{"permutation", "weights", "permutation distance of W_hh"},
	{"cka", "representation", "1 - linear CKA"},
	{"svcca", "representation", "1 - SVCCA mean correlation"},
	{"procrustes", "representation", "Procrustes shape angle"},
}

// measureSummary is one measure's row of degeneracy.json and .csv.
type measureSummary struct {
	Measure string `json:"measure"`
	Level   string `json:"level"`
	analysis.PairStats
	Seconds float64 `json:"seconds"`
}

// degeneracySummary is the content of degeneracy.json.
type degeneracySummary struct {
	Run       string                    `json:"run"`
	Version   string                    `json:"version"`
	Networks  int                       `json:"networks"`  // in the run
	Converged int                       `json:"converged"` // compared
	Indices   []int                     `json:"indices"`   // network indices compared
	Behaviour analysis.BehaviourSummary `json:"behaviour"` // sigma_OOD and the OOD loss of the converged networks
	Measures  []measureSummary          `json:"measures"`  // mean over pairs of each distance
	DSANull   *analysis.PairStats       `json:"dsa_null,omitempty"`
	// Conditions repeats the summaries within each condition of a sweep
	// (pairs of networks that share the condition), when the run has several.
	Conditions []conditionSummary `json:"conditions,omitempty"`
	Options    analyzeOptions     `json:"options"`
	// The SHA-256 of the weights.npz and states.npz analysed.
	WeightsSHA256 string `json:"weights_sha256"`
	StatesSHA256  string `json:"states_sha256"`
}

// conditionSummary is the degeneracy within one condition of a sweep.
type conditionSummary struct {
	Condition string                    `json:"condition"`
	Converged int                       `json:"converged"`
	Indices   []int                     `json:"indices"`
	Behaviour analysis.BehaviourSummary `json:"behaviour"`
	Measures  []measureSummary          `json:"measures"`
}

// analyzeOptions records the settings of one analysis.
type analyzeOptions struct {
	DSADelays     int      `json:"dsa_delays"`
	DSARank       int      `json:"dsa_rank"`
	DSAScore      string   `json:"dsa_score"`
	DSARestarts   int      `json:"dsa_restarts"`
	DSANull       int      `json:"dsa_null_splits"`
	PermNormalize bool     `json:"perm_normalize"`
	PermTieIO     bool     `json:"perm_tie_io"`
	PermRestarts  int      `json:"perm_restarts"`
	PermRuns      int      `json:"perm_runs"` // 0: analysis.DefaultPermRuns(H)
	PermAnneal    int      `json:"perm_anneal_moves"`
	PermTabu      int      `json:"perm_tabu_iterations"`
	SVCCAVariance float64  `json:"svcca_variance"`
	SVCCADims     int      `json:"svcca_dims"`
	SVCCASpectrum string   `json:"svcca_spectrum"`
	Seed          uint64   `json:"seed"`
	Skip          []string `json:"skip,omitempty"`
	Figures       bool     `json:"figures"`
}

func analyzeCommand() *cli.Command {
	return &cli.Command{
		Name:  "analyze",
		Usage: "measure the degeneracy of a trained run at every level (behaviour, dynamics, weights, representation)",
		UsageText: "degen analyze RUN_DIR [--delays D] [--rank R] [--normalize] [--tie-io] [--skip MEASURE,...] [--json]\n" +
			"degen analyze dsa --input F.npz --array NAME --delays D --rank R --output OUT.npz\n" +
			"degen analyze permdist --input F.npz --a NAME [--b NAME] [--output OUT.npz] [--json]",
		Description: "On the converged networks of RUN_DIR (after `degen eval RUN_DIR`), computes the pairwise distance " +
			"matrices behaviour (RMS difference of OOD outputs), dsa, permutation (W_hh), cka, svcca and procrustes " +
			"(hidden states on the shared evaluation set), and writes degeneracy.json and degeneracy.csv (mean over " +
			"pairs and standard error of each, sigma_OOD, counts), distances.npz (one (N, N) matrix per measure and " +
			"`networks`, the indices) and figures/ (heat map and MDS scatter per measure, PNG and SVG).",
		Flags: append([]cli.Flag{
			&cli.IntFlag{Name: "delays", Value: 5, Usage: "DSA n_delays"},
			&cli.IntFlag{Name: "rank", Value: 30, Usage: "DSA rank (at most H*delays)"},
			&cli.StringFlag{Name: "score", Value: analysis.ScoreAngular, Usage: "DSA score: angular or euclidean"},
			&cli.IntFlag{Name: "dsa-restarts", Usage: "DSA random starts per component of O(n) (0: default)"},
			&cli.IntFlag{Name: "null", Value: 2, Usage: "DSA split-half null comparisons per network (0: none)"},
			&cli.BoolFlag{Name: "normalize", Usage: "divide permutation distances by H^2"},
			&cli.BoolFlag{Name: "tie-io", Usage: "permutation distance also matches W_ih rows and W_out columns"},
			&cli.Float64Flag{Name: "svcca-variance", Value: analysis.DefaultRepOptions().SVCCAVariance, Usage: "fraction of variance SVCCA keeps"},
			&cli.IntFlag{Name: "svcca-dims", Usage: "SVCCA keeps exactly this many directions (overrides --svcca-variance)"},
			&cli.StringFlag{Name: "svcca-spectrum", Value: analysis.SpectrumVariance, Usage: "what --svcca-variance is a fraction of: variance (squared singular values, Raghu et al.) or singular (singular values, google/svcca's tutorial)"},
			&cli.StringSliceFlag{Name: "skip", Usage: "measures to leave out: behaviour, dsa, permutation, representation"},
			&cli.BoolFlag{Name: "no-figures", Usage: "do not draw figures"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the randomised solvers"},
			jsonFlag, quietFlag,
		}, permSolverFlags("perm-")...),
		Subcommands: []*cli.Command{analyzeDSACommand(), analyzePermdistCommand(), analyzeMDSCommand()},
		Action:      analyzeRun,
	}
}

// analyzeRun is the action of `degen analyze RUN_DIR`.
func analyzeRun(c *cli.Context) error {
	if c.Args().Len() != 1 {
		return usagef("analyze needs exactly one RUN_DIR argument (or a subcommand: dsa, permdist)")
	}
	dir := c.Args().First()
	quiet := c.Bool("quiet")
	opts := analyzeOptions{
		DSADelays: c.Int("delays"), DSARank: c.Int("rank"), DSAScore: c.String("score"),
		DSARestarts: c.Int("dsa-restarts"), DSANull: c.Int("null"),
		PermNormalize: c.Bool("normalize"), PermTieIO: c.Bool("tie-io"),
		PermRestarts: c.Int("perm-restarts"), PermRuns: c.Int("perm-runs"),
		PermAnneal: c.Int("perm-anneal"), PermTabu: c.Int("perm-tabu"),
		SVCCAVariance: c.Float64("svcca-variance"), SVCCADims: c.Int("svcca-dims"), SVCCASpectrum: c.String("svcca-spectrum"),
		Seed: c.Uint64("seed"), Skip: c.StringSlice("skip"), Figures: !c.Bool("no-figures"),
	}
	for _, s := range opts.Skip {
		if !slices.Contains([]string{"behaviour", "dsa", "permutation", "representation"}, s) {
			return usagef("--skip: unknown measure %q (want behaviour, dsa, permutation or representation)", s)
		}
	}
	if opts.DSANull < 0 || opts.SVCCADims < 0 {
		return usagef("--null and --svcca-dims must not be negative")
	}
	if _, err := permSolverOptions(c, "perm-"); err != nil {
		return err
	}
	if opts.SVCCASpectrum != analysis.SpectrumVariance && opts.SVCCASpectrum != analysis.SpectrumSingular {
		return usagef("--svcca-spectrum must be %s or %s, got %q", analysis.SpectrumVariance, analysis.SpectrumSingular, opts.SVCCASpectrum)
	}
	if !(opts.SVCCAVariance > 0 && opts.SVCCAVariance <= 1) {
		return usagef("--svcca-variance must be in (0, 1], got %g", opts.SVCCAVariance)
	}
	lock, err := lockRunDir(dir, "degen analyze", false)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	defer exitOnInterrupt(dir, lock)()
	in, err := loadAnalysisInputs(dir)
	if err != nil {
		return err
	}
	if H := in.states.Shape[3]; opts.SVCCADims > H {
		return usagef("--svcca-dims %d exceeds the %d hidden units of the networks", opts.SVCCADims, H)
	}
	sum, mats, err := analyzeInputs(in, opts, quiet)
	if err != nil {
		return err
	}
	sum.Run = dir
	if err := writeAnalysis(dir, in, sum, mats, opts.Figures); err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(os.Stdout, sum)
	}
	printDegeneracy(sum)
	if !quiet {
		fmt.Fprintf(os.Stderr, "wrote %s, %s, %s and %s/ in %s\n", degen.DegeneracyJSON, degen.DegeneracyCSV, degen.DistancesFile, degen.FiguresDir, dir)
	}
	return nil
}

// analysisInputs are the converged networks' data of one run.
type analysisInputs struct {
	info      *degen.RunInfo
	slots     []int    // converged slots
	indices   []int    // their network indices
	groups    []string // their conditions, nil when all share one
	oodLoss   []float64
	states    *degen.Array // (N, K, T, H) converged networks only
	oodOut    []float64    // (N, K, T2, O) converged networks only
	oodMask   []float64    // (K, T2, O)
	weights   []analysis.NetWeights
	statesNPZ string

	weightsSHA256, statesSHA256 string // of the files analysed (eval.json vouches for both)
}

// loadAnalysisInputs reads run.json, eval.json, states.npz and weights.npz
// and keeps the converged networks. Missing files, bad shapes, NaN and
// fewer than two converged networks are usage errors (exit code 2).
func loadAnalysisInputs(dir string) (*analysisInputs, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, usagef("RUN_DIR %q is not a directory", dir)
	}
	info, err := degen.ReadRunInfo(dir)
	if err != nil {
		return nil, usageError{err}
	}
	in := &analysisInputs{info: info}
	in.slots = info.Converged()
	if len(in.slots) < 2 {
		return nil, usagef("%s: %d of %d networks converged; degeneracy needs at least two converged networks", dir, len(in.slots), len(info.Networks))
	}
	for _, s := range in.slots {
		in.indices = append(in.indices, info.Networks[s].Index)
	}
	in.groups = conditionGroups(info, in.slots)

	for _, f := range []string{degen.EvalFile, degen.StatesFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("%s has no %s: run `degen eval %s` first", dir, f, dir)
		}
	}
	report, err := degen.ReadEvalReport(dir)
	if err != nil {
		return nil, usageError{err}
	}
	if err := degen.CheckEvalCurrent(dir, report); err != nil {
		return nil, usageError{err}
	}
	in.weightsSHA256, in.statesSHA256 = report.WeightsSHA256, report.StatesSHA256
	if err := checkMemory("analysis", len(in.slots), func(n int) int64 {
		return degen.AnalyzeBytes(len(info.Networks), n, info.Dims.H, info.Dims.O, report.Trials, report.Steps, report.OODSteps, runtime.GOMAXPROCS(0))
	}); err != nil {
		return nil, err
	}
	if len(report.Networks) != len(info.Networks) {
		return nil, usagef("%s lists %d networks but %s has %d: rerun `degen eval %s`", degen.EvalFile, len(report.Networks), degen.RunFile, len(info.Networks), dir)
	}
	for _, s := range in.slots {
		l := float64(report.Networks[s].OODLoss)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, usagef("%s: OOD loss of network %d is %v", degen.EvalFile, report.Networks[s].Index, l)
		}
		in.oodLoss = append(in.oodLoss, l)
	}

	S := len(info.Networks)
	in.statesNPZ = filepath.Join(dir, degen.StatesFile)
	states, err := readRunArray(in.statesNPZ, "states", 4, S, in.slots)
	if err != nil {
		return nil, err
	}
	nets, err := readRunArray(in.statesNPZ, "networks", 1, S, nil)
	if err != nil {
		return nil, err
	}
	for s, n := range info.Networks {
		if int(nets.Data[s]) != n.Index {
			return nil, usagef("%s: slot %d holds network %d but %s says %d (the file belongs to another run or order): run `degen eval %s`",
				in.statesNPZ, s, int(nets.Data[s]), degen.RunFile, n.Index, dir)
		}
	}
	in.states = &degen.Array{Name: "states", Shape: slices.Clone(states.Shape), Data: pick(states, in.slots)}
	in.states.Shape[0] = len(in.slots)
	oodOut, err := readRunArray(in.statesNPZ, "ood_outputs", 4, S, in.slots)
	if err != nil {
		return nil, err
	}
	in.oodOut = pick(oodOut, in.slots)
	mask, err := readRunArray(in.statesNPZ, "ood_mask", 3, -1, nil)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(mask.Shape, oodOut.Shape[1:]) {
		return nil, usagef("%s: ood_mask has shape %v, want %v (ood_outputs without its first axis)", in.statesNPZ, mask.Shape, oodOut.Shape[1:])
	}
	in.oodMask = mask.Data

	wpath := filepath.Join(dir, degen.WeightsFile)
	whh, err := readRunArray(wpath, "W_hh", 3, S, in.slots)
	if err != nil {
		return nil, err
	}
	wih, err := readRunArray(wpath, "W_ih", 3, S, in.slots)
	if err != nil {
		return nil, err
	}
	wout, err := readRunArray(wpath, "W_out", 3, S, in.slots)
	if err != nil {
		return nil, err
	}
	h := whh.Shape[1]
	if whh.Shape[2] != h || wih.Shape[1] != h || wout.Shape[2] != h || states.Shape[3] != h {
		return nil, usagef("%s: shapes W_hh %v, W_ih %v, W_out %v and states %v disagree on H", wpath, whh.Shape, wih.Shape, wout.Shape, states.Shape)
	}
	in.weights = make([]analysis.NetWeights, len(in.slots))
	for k, s := range in.slots {
		in.weights[k] = analysis.NetWeights{
			Whh:  mat.NewDense(h, h, sliceOf(whh, s)),
			Wih:  mat.NewDense(h, wih.Shape[2], sliceOf(wih, s)),
			Wout: mat.NewDense(wout.Shape[1], h, sliceOf(wout, s)),
		}
	}
	return in, nil
}

// readRunArray reads name from path and checks its number of axes, that
// its first axis is s (when s >= 0) and that the values of the given slots
// (all values when slots is nil) are finite: networks left out of the
// analysis, diverged ones among them, may hold NaN.
func readRunArray(path, name string, axes, s int, slots []int) (*degen.Array, error) {
	a, err := degen.ReadNPZArray(path, name)
	if err != nil {
		return nil, usageError{err}
	}
	if len(a.Shape) != axes || (s >= 0 && a.Shape[0] != s) || slices.Contains(a.Shape, 0) {
		want := fmt.Sprintf("%d axes", axes)
		if s >= 0 {
			want += fmt.Sprintf(", first axis %d networks", s)
		}
		return nil, usagef("%s: array %q has shape %v, want %s", path, name, a.Shape, want)
	}
	if slots == nil {
		if err := analysis.CheckFinite(fmt.Sprintf("%s: array %q", path, name), a.Data); err != nil {
			return nil, usageError{err}
		}
		return a, nil
	}
	for _, slot := range slots {
		if err := analysis.CheckFinite(fmt.Sprintf("%s: array %q, network slot %d", path, name, slot), sliceOf(a, slot)); err != nil {
			return nil, usageError{err}
		}
	}
	return a, nil
}

// sliceOf returns network s's block of a (S, ...) array.
func sliceOf(a *degen.Array, s int) []float64 {
	per := len(a.Data) / a.Shape[0]
	return a.Data[s*per : (s+1)*per]
}

// blocks returns every network's block of a (S, ...) array, views into a.Data.
func blocks(a *degen.Array) [][]float64 {
	out := make([][]float64, a.Shape[0])
	for s := range out {
		out[s] = sliceOf(a, s)
	}
	return out
}

// pick returns the blocks of the given slots of a (S, ...) array, in order
// (a.Data itself when the slots are all of them, 0..S-1).
func pick(a *degen.Array, slots []int) []float64 {
	if len(slots) == a.Shape[0] && slices.IsSorted(slots) && slots[0] == 0 && slots[len(slots)-1] == len(slots)-1 {
		return a.Data
	}
	per := len(a.Data) / a.Shape[0]
	out := make([]float64, 0, per*len(slots))
	for _, s := range slots {
		out = append(out, sliceOf(a, s)...)
	}
	return out
}

// conditionGroups names each slot's condition by the fields that vary
// among the slots, or returns nil when they all share one condition.
func conditionGroups(info *degen.RunInfo, slots []int) []string {
	type field struct {
		name string
		get  func(degen.Condition) float64
	}
	fields := []field{
		{"lr", func(c degen.Condition) float64 { return c.LR }},
		{"gamma", func(c degen.Condition) float64 { return c.Gamma }},
		{"l1", func(c degen.Condition) float64 { return c.L1 }},
		{"nuclear", func(c degen.Condition) float64 { return c.Nuclear }},
	}
	var varying []field
	for _, f := range fields {
		first := f.get(info.Networks[slots[0]].Condition)
		for _, s := range slots[1:] {
			if f.get(info.Networks[s].Condition) != first {
				varying = append(varying, f)
				break
			}
		}
	}
	if len(varying) == 0 {
		return nil
	}
	out := make([]string, len(slots))
	for k, s := range slots {
		var parts []string
		for _, f := range varying {
			parts = append(parts, fmt.Sprintf("%s=%g", f.name, f.get(info.Networks[s].Condition)))
		}
		out[k] = strings.Join(parts, " ")
	}
	return out
}

// analyzeInputs computes every measure that is not skipped.
func analyzeInputs(in *analysisInputs, opts analyzeOptions, quiet bool) (*degeneracySummary, map[string]*mat.SymDense, error) {
	N := len(in.slots)
	sum := &degeneracySummary{Version: degen.Version, Networks: len(in.info.Networks), Converged: N, Indices: in.indices, Options: opts,
		WeightsSHA256: in.weightsSHA256, StatesSHA256: in.statesSHA256}
	mats := map[string]*mat.SymDense{}
	skip := func(s string) bool { return slices.Contains(opts.Skip, s) }
	K, T, H := in.states.Shape[1], in.states.Shape[2], in.states.Shape[3]
	states := blocks(in.states) // (N) of (K, T, H)
	record := func(name string, d *mat.SymDense, t0 time.Time) {
		mats[name] = d
		for _, m := range analyzeMeasures {
			if m.name == name {
				sum.Measures = append(sum.Measures, measureSummary{Measure: name, Level: m.level,
					PairStats: analysis.SummarizePairs(d), Seconds: time.Since(t0).Seconds()})
			}
		}
	}

	var err error
	if sum.Behaviour, err = analysis.Behaviour(in.oodLoss); err != nil {
		return nil, nil, err
	}
	if !skip("behaviour") {
		t0 := time.Now()
		d, err := analysis.OutputDistances(in.oodOut, N, in.oodMask)
		if err != nil {
			return nil, nil, fmt.Errorf("behaviour: %w", err)
		}
		record("behaviour", d, t0)
	}

	if !skip("dsa") {
		dopt := analysis.DSAOptions{Delays: opts.DSADelays, Rank: opts.DSARank, Score: opts.DSAScore,
			Restarts: opts.DSARestarts, Seed: opts.Seed}
		if err := checkDSAInput(in.states, dopt, opts.DSANull); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", in.statesNPZ, err)
		}
		logLine(quiet, "dsa: %d networks, %d pairs, rank %d, %d delays", N, N*(N-1)/2, dopt.Rank, dopt.Delays)
		t0 := time.Now()
		bar := newProgress(int64(N*(N-1)/2), "dsa", quiet)
		d, err := analysis.DSAMatrix(states, K, T, H, dopt, func() { bar.Add(1) })
		bar.Finish()
		if err != nil {
			return nil, nil, fmt.Errorf("dsa: %w", err)
		}
		record("dsa", d, t0)
		if opts.DSANull > 0 {
			null, err := analysis.DSANull(states, K, T, H, dopt, opts.DSANull)
			if err != nil {
				return nil, nil, fmt.Errorf("dsa null: %w", err)
			}
			ns := analysis.SummarizeNull(null)
			sum.DSANull = &ns
		}
	}

	if !skip("permutation") {
		popt := analysis.DefaultPermOptions()
		popt.Normalize, popt.TieIO = opts.PermNormalize, opts.PermTieIO
		popt.Restarts, popt.Runs, popt.Seed = opts.PermRestarts, opts.PermRuns, opts.Seed
		popt.AnnealMoves, popt.TabuIters = opts.PermAnneal, opts.PermTabu
		bar := newProgress(int64(N*(N-1)/2), "permutation", quiet)
		logLine(quiet, "permutation: %d networks, %d pairs, H=%d", N, N*(N-1)/2, H)
		t0 := time.Now()
		d, err := analysis.PermutationDistances(in.weights, popt, func() { bar.Add(1) })
		bar.Finish()
		if err != nil {
			return nil, nil, fmt.Errorf("permutation: %w", err)
		}
		record("permutation", d, t0)
	}

	if !skip("representation") {
		ropt := analysis.RepOptions{SVCCAVariance: opts.SVCCAVariance, SVCCADims: opts.SVCCADims, SVCCASpectrum: opts.SVCCASpectrum}
		bar := newProgress(int64(N*(N-1)/2), "representation", quiet)
		logLine(quiet, "representation: %d networks, %d pairs, %d samples of %d units", N, N*(N-1)/2, K*T, H)
		t0 := time.Now()
		r, err := analysis.RepresentationDistances(states, K*T, H, ropt, func() { bar.Add(1) })
		bar.Finish()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: array \"states\": %w", in.statesNPZ, err)
		}
		record("cka", r.CKA, t0)
		record("svcca", r.SVCCA, t0)
		record("procrustes", r.Procrustes, t0)
	}
	if in.groups != nil {
		if sum.Conditions, err = conditionSummaries(in, sum, mats); err != nil {
			return nil, nil, err
		}
	}
	return sum, mats, nil
}

// conditionSummaries summarises each measure within each condition group.
func conditionSummaries(in *analysisInputs, sum *degeneracySummary, mats map[string]*mat.SymDense) ([]conditionSummary, error) {
	var names []string
	members := map[string][]int{}
	for k, g := range in.groups {
		if _, ok := members[g]; !ok {
			names = append(names, g)
		}
		members[g] = append(members[g], k)
	}
	slices.Sort(names)
	var out []conditionSummary
	for _, g := range names {
		ks := members[g]
		cs := conditionSummary{Condition: g, Converged: len(ks)}
		loss := make([]float64, len(ks))
		for i, k := range ks {
			cs.Indices = append(cs.Indices, in.indices[k])
			loss[i] = in.oodLoss[k]
		}
		var err error
		if cs.Behaviour, err = analysis.Behaviour(loss); err != nil {
			return nil, fmt.Errorf("condition %s: %w", g, err)
		}
		for _, m := range sum.Measures {
			d := mats[m.Measure]
			sub := mat.NewSymDense(len(ks), nil)
			for i := range ks {
				for j := i + 1; j < len(ks); j++ {
					sub.SetSym(i, j, d.At(ks[i], ks[j]))
				}
			}
			cs.Measures = append(cs.Measures, measureSummary{Measure: m.Measure, Level: m.Level, PairStats: analysis.SummarizePairs(sub)})
		}
		out = append(out, cs)
	}
	return out, nil
}

// writeAnalysis writes degeneracy.json, degeneracy.csv, distances.npz and
// the figures, each file atomically.
func writeAnalysis(dir string, in *analysisInputs, sum *degeneracySummary, mats map[string]*mat.SymDense, figures bool) error {
	stage, err := os.MkdirTemp(dir, ".analysis.tmp")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	if err := writeAnalysisFiles(stage, in, sum, mats, figures); err != nil {
		return err
	}
	return replaceAnalysis(dir, stage)
}

// replaceAnalysis swaps the outputs of an earlier analysis in dir for the
// complete set written in stage: the old set goes first (degeneracy.json
// before the rest, so that no summary outlives its matrices), then the new
// files move in with degeneracy.json last. Outputs of measures this
// analysis skipped do not survive, and a crash in between leaves no
// degeneracy.json rather than a mixed set.
func replaceAnalysis(dir, stage string) error {
	for _, name := range []string{degen.DegeneracyJSON, degen.DegeneracyCSV, degen.DistancesFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	old, _ := filepath.Glob(filepath.Join(dir, degen.FiguresDir, "*_heatmap.*"))
	mds, _ := filepath.Glob(filepath.Join(dir, degen.FiguresDir, "*_mds.*"))
	for _, f := range append(old, mds...) {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	figures, _ := os.ReadDir(filepath.Join(stage, degen.FiguresDir))
	if len(figures) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, degen.FiguresDir), 0o755); err != nil {
			return err
		}
	}
	for _, f := range figures {
		if err := os.Rename(filepath.Join(stage, degen.FiguresDir, f.Name()), filepath.Join(dir, degen.FiguresDir, f.Name())); err != nil {
			return err
		}
	}
	for _, name := range []string{degen.DistancesFile, degen.DegeneracyCSV, degen.DegeneracyJSON} {
		if err := os.Rename(filepath.Join(stage, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// writeAnalysisFiles writes every output of one analysis into dir.
func writeAnalysisFiles(dir string, in *analysisInputs, sum *degeneracySummary, mats map[string]*mat.SymDense, figures bool) error {
	N := len(in.slots)
	idx := make([]int32, N)
	for k, i := range in.indices {
		idx[k] = int32(i)
	}
	arrays := []degen.NamedArray{{Name: "networks", Shape: []int{N}, Data: idx}}
	for _, m := range analyzeMeasures {
		if d, ok := mats[m.name]; ok {
			arrays = append(arrays, degen.NamedArray{Name: m.name, Shape: []int{N, N}, Data: analysis.SymData(d)})
		}
	}
	if err := degen.WriteNPZ(filepath.Join(dir, degen.DistancesFile), arrays...); err != nil {
		return err
	}
	if err := degen.WriteAtomic(filepath.Join(dir, degen.DegeneracyJSON), func(f *os.File) error { return printJSON(f, sum) }); err != nil {
		return err
	}
	if err := degen.WriteAtomic(filepath.Join(dir, degen.DegeneracyCSV), func(f *os.File) error { return writeDegeneracyCSV(f, sum) }); err != nil {
		return err
	}
	if !figures {
		return nil
	}
	figDir := filepath.Join(dir, degen.FiguresDir)
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return err
	}
	for _, m := range analyzeMeasures {
		d, ok := mats[m.name]
		if !ok {
			continue
		}
		hm, err := analysis.HeatmapFigure(d, m.title, in.indices)
		if err != nil {
			return err
		}
		if err := analysis.SaveFigure(hm, filepath.Join(figDir, m.name+"_heatmap")); err != nil {
			return err
		}
		xy, err := analysis.MDS(d, 2)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		sc, err := analysis.MDSFigure(xy, "MDS of "+m.title, in.indices, in.groups)
		if err != nil {
			return err
		}
		if err := analysis.SaveFigure(sc, filepath.Join(figDir, m.name+"_mds")); err != nil {
			return err
		}
	}
	return nil
}

// writeDegeneracyCSV writes one row per measure, then sigma_OOD, the OOD
// loss and the DSA null, over all converged networks (condition "all") and
// then within each condition of a sweep; every row carries the counts.
func writeDegeneracyCSV(f *os.File, sum *degeneracySummary) error {
	w := csv.NewWriter(f)
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	rows := [][]string{{"condition", "measure", "level", "mean", "stderr", "count", "networks", "converged"}}
	block := func(cond string, converged int, measures []measureSummary, b analysis.BehaviourSummary, null *analysis.PairStats) {
		row := func(measure, level string, mean, stderr float64, count int) {
			rows = append(rows, []string{cond, measure, level, g(mean), g(stderr), strconv.Itoa(count),
				strconv.Itoa(sum.Networks), strconv.Itoa(converged)})
		}
		for _, m := range measures {
			row(m.Measure, m.Level, m.Mean, m.StdErr, m.Count)
		}
		row("sigma_ood", "behaviour", b.SigmaOOD, 0, b.N)
		row("ood_loss", "behaviour", b.Mean, b.StdErr, b.N)
		if null != nil {
			row("dsa_null", "dynamics", null.Mean, null.StdErr, null.Count)
		}
	}
	block("all", sum.Converged, sum.Measures, sum.Behaviour, sum.DSANull)
	for _, c := range sum.Conditions {
		block(c.Condition, c.Converged, c.Measures, c.Behaviour, nil)
	}
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return w.Error()
}

// printDegeneracy prints the summary as a table on stdout.
func printDegeneracy(sum *degeneracySummary) {
	fmt.Printf("%d of %d networks converged; OOD loss mean %.4g, sigma_OOD %.4g\n",
		sum.Converged, sum.Networks, sum.Behaviour.Mean, sum.Behaviour.SigmaOOD)
	fmt.Printf("%-12s %-15s %12s %10s %6s\n", "measure", "level", "mean", "stderr", "pairs")
	for _, m := range sum.Measures {
		fmt.Printf("%-12s %-15s %12.5g %10.2g %6d\n", m.Measure, m.Level, m.Mean, m.StdErr, m.Count)
	}
	if sum.DSANull != nil {
		fmt.Printf("%-12s %-15s %12.5g %10.2g %6d\n", "dsa_null", "dynamics", sum.DSANull.Mean, sum.DSANull.StdErr, sum.DSANull.Count)
	}
	for _, c := range sum.Conditions {
		fmt.Printf("\ncondition %s: %d networks; OOD loss mean %.4g, sigma_OOD %.4g\n", c.Condition, c.Converged, c.Behaviour.Mean, c.Behaviour.SigmaOOD)
		for _, m := range c.Measures {
			fmt.Printf("%-12s %-15s %12.5g %10.2g %6d\n", m.Measure, m.Level, m.Mean, m.StdErr, m.Count)
		}
	}
}

// permdistPair is what `degen analyze permdist --a A --b B --json` prints.
type permdistPair struct {
	Distance    float64 `json:"distance"`
	Permutation []int   `json:"permutation"`
	Runs        int     `json:"runs"`         // independent searches
	RunsAtBest  int     `json:"runs_at_best"` // how many ended at the distance reported
}

// permdistStack is what `degen analyze permdist --a STACK --json` prints.
type permdistStack struct {
	Input    string             `json:"input"`
	Array    string             `json:"array"`
	Output   string             `json:"output"`
	Networks int                `json:"networks"`
	Units    int                `json:"units"`
	Pairs    analysis.PairStats `json:"distance"`
	Seconds  float64            `json:"seconds"`
}

func analyzePermdistCommand() *cli.Command {
	def := analysis.DefaultPermOptions()
	return &cli.Command{
		Name:  "permdist",
		Usage: "permutation distance min_P ||W1 - P^T W2 P||_F between recurrent matrices stored in an NPZ file",
		Description: "With --a and --b naming two (H, H) arrays, prints the distance and the permutation " +
			"(unit i of A matches unit permutation[i] of B). With --a alone naming a stack (N, H, H), writes every " +
			"pair's distance, `distance` (N, N), and `networks` (0..N-1) to --output. --tie-io also matches input rows " +
			"and readout columns: --ih and --out name the W_ih (H, I) and W_out (O, H) arrays, two names each " +
			"(for A and B) with --b, one stack name each (N, H, I), (N, O, H) without it.",
		UsageText: "degen analyze permdist --input F.npz --a NAME --b NAME [--normalize] [--json]\n" +
			"degen analyze permdist --input F.npz --a STACK --output OUT.npz [--normalize] [--tie-io --ih W_ih --out W_out] [--json]",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "input", Usage: "NPZ file holding the matrices", Required: true},
			&cli.StringFlag{Name: "a", Usage: "first (H, H) array, or an (N, H, H) stack", Required: true},
			&cli.StringFlag{Name: "b", Usage: "second (H, H) array"},
			&cli.StringFlag{Name: "output", Usage: "NPZ file for the (N, N) matrix (stack mode)"},
			&cli.BoolFlag{Name: "normalize", Usage: "divide distances by H^2"},
			&cli.BoolFlag{Name: "tie-io", Usage: "tie input rows and readout columns to the same permutation"},
			&cli.StringSliceFlag{Name: "ih", Usage: "W_ih array name(s) for --tie-io"},
			&cli.StringSliceFlag{Name: "out", Usage: "W_out array name(s) for --tie-io"},
			&cli.Uint64Flag{Name: "seed", Value: def.Seed, Usage: "seed of the random starts and runs"},
			jsonFlag, quietFlag,
		}, permSolverFlags("")...),
		Action: permdistAction,
	}
}

func permdistAction(c *cli.Context) error {
	if c.Args().Len() != 0 {
		return usagef("analyze permdist takes no positional arguments, got %v", c.Args().Slice())
	}
	input := c.String("input")
	if _, err := os.Stat(input); err != nil {
		return usagef("--input: %v", err)
	}
	opts, err := permSolverOptions(c, "")
	if err != nil {
		return err
	}
	opts.Normalize, opts.TieIO, opts.Seed = c.Bool("normalize"), c.Bool("tie-io"), c.Uint64("seed")
	ih, out := c.StringSlice("ih"), c.StringSlice("out")
	if !opts.TieIO && (len(ih) > 0 || len(out) > 0) {
		return usagef("--ih and --out need --tie-io")
	}
	read := func(name string, axes int) (*degen.Array, error) {
		a, err := readDSAArray(input, name)
		if err != nil {
			return nil, err
		}
		if len(a.Shape) != axes || slices.Contains(a.Shape, 0) {
			return nil, usagef("array %q has shape %v, want %d non-empty axes", name, a.Shape, axes)
		}
		if err := analysis.CheckFinite(fmt.Sprintf("array %q", name), a.Data); err != nil {
			return nil, usageError{err}
		}
		return a, nil
	}
	if c.String("b") != "" {
		return permdistPairAction(c, read, opts, ih, out)
	}
	if c.String("output") == "" {
		return usagef("--a alone names a stack (N, H, H): give --output for the (N, N) matrix, or --b for one pair")
	}
	a, err := read(c.String("a"), 3)
	if err != nil {
		return err
	}
	N, H := a.Shape[0], a.Shape[1]
	if a.Shape[2] != H || N < 2 {
		return usagef("array %q has shape %v, want a stack (N, H, H) of at least two square matrices", c.String("a"), a.Shape)
	}
	nets := make([]analysis.NetWeights, N)
	for s := range nets {
		nets[s].Whh = mat.NewDense(H, H, sliceOf(a, s))
	}
	if opts.TieIO {
		if len(ih) != 1 || len(out) != 1 {
			return usagef("--tie-io with a stack needs one --ih and one --out array name")
		}
		wih, err := read(ih[0], 3)
		if err != nil {
			return err
		}
		wout, err := read(out[0], 3)
		if err != nil {
			return err
		}
		if wih.Shape[0] != N || wih.Shape[1] != H || wout.Shape[0] != N || wout.Shape[2] != H {
			return usagef("arrays %q %v and %q %v must be (N, H, I) and (N, O, H) with N=%d, H=%d", ih[0], wih.Shape, out[0], wout.Shape, N, H)
		}
		for s := range nets {
			nets[s].Wih = mat.NewDense(H, wih.Shape[2], sliceOf(wih, s))
			nets[s].Wout = mat.NewDense(wout.Shape[1], H, sliceOf(wout, s))
		}
	}
	bar := newProgress(int64(N*(N-1)/2), "permutation", c.Bool("quiet"))
	t0 := time.Now()
	d, err := analysis.PermutationDistances(nets, opts, func() { bar.Add(1) })
	bar.Finish()
	if err != nil {
		return fmt.Errorf("%s: array %q: %w", input, c.String("a"), err)
	}
	idx := make([]int32, N)
	for i := range idx {
		idx[i] = int32(i)
	}
	if err := degen.WriteNPZ(c.String("output"),
		degen.NamedArray{Name: "distance", Shape: []int{N, N}, Data: analysis.SymData(d)},
		degen.NamedArray{Name: "networks", Shape: []int{N}, Data: idx}); err != nil {
		return err
	}
	sum := permdistStack{Input: input, Array: c.String("a"), Output: c.String("output"), Networks: N, Units: H,
		Pairs: analysis.SummarizePairs(d), Seconds: time.Since(t0).Seconds()}
	if c.Bool("json") {
		return printJSON(os.Stdout, sum)
	}
	fmt.Printf("permutation distance over %d pairs of %d networks (H=%d): mean %.5g, stderr %.2g\n",
		sum.Pairs.Count, N, H, sum.Pairs.Mean, sum.Pairs.StdErr)
	return nil
}

// permdistPairAction compares the two matrices --a and --b.
func permdistPairAction(c *cli.Context, read func(string, int) (*degen.Array, error), opts analysis.PermOptions, ih, out []string) error {
	var w [2]analysis.NetWeights
	for k, name := range []string{c.String("a"), c.String("b")} {
		a, err := read(name, 2)
		if err != nil {
			return err
		}
		if a.Shape[0] != a.Shape[1] {
			return usagef("array %q has shape %v, want a square (H, H) matrix", name, a.Shape)
		}
		w[k].Whh = mat.NewDense(a.Shape[0], a.Shape[1], a.Data)
	}
	if h0, _ := w[0].Whh.Dims(); h0 != w[1].Whh.RawMatrix().Rows {
		return usagef("arrays %q and %q have different sizes", c.String("a"), c.String("b"))
	}
	if opts.TieIO {
		if len(ih) != 2 || len(out) != 2 {
			return usagef("--tie-io with --b needs two --ih and two --out array names (for A and B)")
		}
		for k := range w {
			wih, err := read(ih[k], 2)
			if err != nil {
				return err
			}
			wout, err := read(out[k], 2)
			if err != nil {
				return err
			}
			w[k].Wih = mat.NewDense(wih.Shape[0], wih.Shape[1], wih.Data)
			w[k].Wout = mat.NewDense(wout.Shape[0], wout.Shape[1], wout.Data)
		}
	}
	r, err := analysis.PermutationDistance(w[0], w[1], opts)
	if err != nil {
		return usageError{fmt.Errorf("%s: %w", c.String("input"), err)}
	}
	if c.Bool("json") {
		return printJSON(os.Stdout, permdistPair{Distance: r.Distance, Permutation: r.Perm, Runs: r.Runs, RunsAtBest: r.RunsAtBest})
	}
	fmt.Printf("distance %.6g\npermutation %v\nruns at the best %d of %d\n", r.Distance, r.Perm, r.RunsAtBest, r.Runs)
	return nil
}

// permSolverFlags are the permutation solver's flags, named with prefix
// ("perm-" under `degen analyze`, none under `analyze permdist`).
func permSolverFlags(prefix string) []cli.Flag {
	def := analysis.DefaultPermOptions()
	return []cli.Flag{
		&cli.IntFlag{Name: prefix + "restarts", Value: def.Restarts, Usage: "random Frank-Wolfe starts of the permutation solver"},
		&cli.IntFlag{Name: prefix + "runs", Value: def.Runs, Usage: "independent annealing + tabu searches of the permutation solver (0: 256/H, from 2 to 8)"},
		&cli.IntFlag{Name: prefix + "anneal", Value: def.AnnealMoves, Usage: "annealing proposals per unit in each permutation search run"},
		&cli.IntFlag{Name: prefix + "tabu", Value: def.TabuIters, Usage: "tabu search iterations in each permutation search run"},
	}
}

// permSolverOptions reads the flags of permSolverFlags over the defaults.
func permSolverOptions(c *cli.Context, prefix string) (analysis.PermOptions, error) {
	o := analysis.DefaultPermOptions()
	o.Restarts, o.Runs = c.Int(prefix+"restarts"), c.Int(prefix+"runs")
	o.AnnealMoves, o.TabuIters = c.Int(prefix+"anneal"), c.Int(prefix+"tabu")
	if o.Restarts < 0 || o.Runs < 0 || o.AnnealMoves < 0 || o.TabuIters < 0 {
		return o, usagef("--%srestarts, --%sruns, --%sanneal and --%stabu must not be negative", prefix, prefix, prefix, prefix)
	}
	return o, nil
}

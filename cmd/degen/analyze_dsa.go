package main

import (
	"fmt"
	"math"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"degen"
	"degen/analysis"
)

// dsaSummary is what `degen analyze dsa` prints.
type dsaSummary struct {
	Input    string              `json:"input"`
	Array    string              `json:"array"`
	Output   string              `json:"output"`
	Networks int                 `json:"networks"`
	Trials   int                 `json:"trials"`
	Steps    int                 `json:"steps"`
	Units    int                 `json:"units"`
	Delays   int                 `json:"delays"`
	Rank     int                 `json:"rank"`
	Score    string              `json:"score"`
	Restarts int                 `json:"restarts"`
	Seed     uint64              `json:"seed"`
	Pairs    analysis.PairStats  `json:"distance"`
	Null     *analysis.PairStats `json:"null,omitempty"` // over networks x splits
	Seconds  float64             `json:"seconds"`
}

func analyzeDSACommand() *cli.Command {
	return &cli.Command{
		Name:  "dsa",
		Usage: "Dynamical Similarity Analysis between the trajectories of N networks stored in an NPZ array",
		Description: "Reads an array (N, K trials, T steps, n units) and writes the (N, N) DSA score matrix `distance` " +
			"(and `networks`, the indices 0..N-1) to --output. Per network: delay embedding with --delays, SVD, the " +
			"rank --rank HAVOK one-step operator fitted within trials; per pair: min over orthogonal C (both " +
			"components of O(n)) of the --score between the Frobenius-normalised operators, as in mitchellostrow/DSA, " +
			"found by a Riemannian ascent with spectral and random starts. --null S also writes `null` (N, S): the " +
			"score between disjoint halves of each network's trials.",
		UsageText: "degen analyze dsa --input F.npz --array NAME --delays D --rank R [--score angular|euclidean] --output OUT.npz [--null S] [--json]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Usage: "NPZ file holding the trajectories"},
			&cli.StringFlag{Name: "array", Usage: "name of the (N, K, T, n) array in --input"},
			&cli.IntFlag{Name: "delays", Usage: "n_delays of the delay embedding"},
			&cli.IntFlag{Name: "rank", Usage: "rank of the HAVOK operator"},
			&cli.StringFlag{Name: "score", Value: analysis.ScoreAngular, Usage: "angular (radians) or euclidean"},
			&cli.StringFlag{Name: "output", Usage: "NPZ file to write"},
			&cli.IntFlag{Name: "restarts", Usage: "random starts per component of O(n) (0: (24/rank)^3, at most 16, none from rank 25; negative: none, only the 10 spectral and Schur starts)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the random starts and of the null's trial splits"},
			&cli.IntFlag{Name: "null", Usage: "also compute this many split-half null scores per network"},
			jsonFlag, quietFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 0 {
				return usagef("analyze dsa takes no positional arguments, got %v", c.Args().Slice())
			}
			for _, f := range []string{"input", "array", "delays", "rank", "output"} {
				if !c.IsSet(f) {
					return usagef("analyze dsa needs --%s", f)
				}
			}
			opt := analysis.DSAOptions{
				Delays:   c.Int("delays"),
				Rank:     c.Int("rank"),
				Score:    c.String("score"),
				Restarts: c.Int("restarts"),
				Seed:     c.Uint64("seed"),
			}
			input, name, output := c.String("input"), c.String("array"), c.String("output")
			arr, err := readDSAArray(input, name)
			if err != nil {
				return err
			}
			if err := checkDSAInput(arr, opt, c.Int("null")); err != nil {
				return err
			}
			N, K, T, n := arr.Shape[0], arr.Shape[1], arr.Shape[2], arr.Shape[3]
			trajs := blocks(arr) // (N) of (K, T, n)
			logLine(c.Bool("quiet"), "dsa: %d networks, %d pairs, rank %d, %d delays", N, N*(N-1)/2, opt.Rank, opt.Delays)
			t0 := time.Now()
			bar := newProgress(int64(N*(N-1)/2), "dsa", c.Bool("quiet"))
			d, err := analysis.DSAMatrix(trajs, K, T, n, opt, func() { bar.Add(1) })
			bar.Finish()
			if err != nil { // checked shapes and finite values: what fails is the data (constant, or of too low a rank)
				return usageError{fmt.Errorf("%s: array %q: %w", input, name, err)}
			}
			sum := dsaSummary{
				Input: input, Array: name, Output: output,
				Networks: N, Trials: K, Steps: T, Units: n,
				Delays: opt.Delays, Rank: opt.Rank, Score: opt.Score, Restarts: opt.Restarts, Seed: opt.Seed,
				Pairs: analysis.SummarizePairs(d),
			}
			if sum.Restarts == 0 {
				sum.Restarts = analysis.DefaultRestarts(opt.Rank)
			}
			idx := make([]int32, N) // int32, as in distances.npz and states.npz
			for i := range idx {
				idx[i] = int32(i)
			}
			arrays := []degen.NamedArray{
				{Name: "distance", Shape: []int{N, N}, Data: analysis.SymData(d)},
				{Name: "networks", Shape: []int{N}, Data: idx},
			}
			if splits := c.Int("null"); splits > 0 {
				null, err := analysis.DSANull(trajs, K, T, n, opt, splits)
				if err != nil {
					return usageError{fmt.Errorf("%s: array %q: null: %w", input, name, err)}
				}
				flat := make([]float64, 0, N*splits)
				for _, row := range null {
					flat = append(flat, row...)
				}
				ns := analysis.SummarizeNull(null)
				sum.Null = &ns
				arrays = append(arrays, degen.NamedArray{Name: "null", Shape: []int{N, splits}, Data: flat})
			}
			sum.Seconds = time.Since(t0).Seconds()
			if err := degen.WriteNPZ(output, arrays...); err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(os.Stdout, sum)
			}
			fmt.Printf("DSA (%s, rank %d, %d delays) over %d pairs of %d networks: mean %.4g, stderr %.2g\n",
				opt.Score, opt.Rank, opt.Delays, sum.Pairs.Count, N, sum.Pairs.Mean, sum.Pairs.StdErr)
			if sum.Null != nil {
				fmt.Printf("split-half null over %d values: mean %.4g, stderr %.2g\n", sum.Null.Count, sum.Null.Mean, sum.Null.StdErr)
			}
			if !c.Bool("quiet") {
				fmt.Fprintf(os.Stderr, "wrote %s in %.1f s\n", output, sum.Seconds)
			}
			return nil
		},
	}
}

// readDSAArray reads name from the NPZ at path; a missing file or array is
// a usage error.
func readDSAArray(path, name string) (*degen.Array, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, usagef("--input: %v", err)
	}
	a, err := degen.ReadNPZArray(path, name)
	if err != nil {
		return nil, usageError{err}
	}
	return a, nil
}

// checkDSAInput returns a usage error naming the array and the problem
// when the trajectories or options cannot give a DSA matrix.
func checkDSAInput(a *degen.Array, opt analysis.DSAOptions, nullSplits int) error {
	name := a.Name
	if len(a.Shape) != 4 {
		return usagef("array %q has shape %v; want 4 axes (N networks, K trials, T steps, n units)", name, a.Shape)
	}
	N, K, T, n := a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]
	if N < 2 {
		return usagef("array %q holds %d network(s); DSA needs at least two", name, N)
	}
	if K < 1 || T < 1 || n < 1 {
		return usagef("array %q has an empty axis: shape %v", name, a.Shape)
	}
	for i, v := range a.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			per := K * T * n
			s, r := i/per, i%per
			return usagef("array %q: network %d, trial %d, step %d, unit %d is %v", name, s, r/(T*n), (r/n)%T, r%n, v)
		}
	}
	switch opt.Score {
	case analysis.ScoreAngular, analysis.ScoreEuclidean:
	default:
		return usagef("--score must be %s or %s, got %q", analysis.ScoreAngular, analysis.ScoreEuclidean, opt.Score)
	}
	if opt.Delays < 1 {
		return usagef("--delays must be at least 1, got %d", opt.Delays)
	}
	if opt.Rank < 1 {
		return usagef("--rank must be at least 1, got %d", opt.Rank)
	}
	if T-opt.Delays+1 < 2 {
		return usagef("--delays %d is too long for the %d steps of the trials in array %q (need delays <= T-1 = %d)", opt.Delays, T, name, T-1)
	}
	if opt.Rank > n*opt.Delays {
		return usagef("--rank %d is larger than the embedding allows: n*delays = %d*%d = %d for array %q", opt.Rank, n, opt.Delays, n*opt.Delays, name)
	}
	trials := K
	if nullSplits > 0 {
		if K < 2 {
			return usagef("--null needs at least 2 trials per network to split; array %q has %d", name, K)
		}
		trials = K / 2
	}
	if pairs := trials * (T - opt.Delays); opt.Rank > pairs {
		return usagef("--rank %d is larger than the %d one-step pairs of %d trials of array %q allow", opt.Rank, pairs, trials, name)
	}
	if nullSplits < 0 {
		return usagef("--null must not be negative, got %d", nullSplits)
	}
	return nil
}

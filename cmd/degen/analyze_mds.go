package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"gonum.org/v1/gonum/mat"

	"degen"
	"degen/analysis"
)

// mdsSummary is what `degen analyze mds --json` prints.
type mdsSummary struct {
	Input   string      `json:"input"`
	Array   string      `json:"array"`
	Output  string      `json:"output"`
	N       int         `json:"n"`
	Dims    int         `json:"dims"`
	Coords  [][]float64 `json:"coords"`
	Figures []string    `json:"figures,omitempty"`
}

// analyzeMDSCommand embeds any distance matrix in a few dimensions by
// classical MDS (analysis.MDS) and optionally draws the 2D scatter.
func analyzeMDSCommand() *cli.Command {
	return &cli.Command{
		Name:      "mds",
		Usage:     "classical MDS embedding of any symmetric (N, N) distance matrix stored in an NPZ array",
		UsageText: "degen analyze mds --input F.npz --array NAME --output OUT.npz [--dims 2] [--figure BASE] [--json]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Usage: "NPZ file holding the distance matrix"},
			&cli.StringFlag{Name: "array", Value: "distance", Usage: "name of the (N, N) array"},
			&cli.StringFlag{Name: "output", Usage: "NPZ file to write `coords` (N, dims) to"},
			&cli.IntFlag{Name: "dims", Value: 2, Usage: "embedding dimensions"},
			&cli.StringFlag{Name: "figure", Usage: "also draw the first two coordinates to BASE.png and BASE.svg"},
			jsonFlag,
		},
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("analyze mds takes no arguments, got %q", c.Args().First())
			}
			input, name, output := c.String("input"), c.String("array"), c.String("output")
			if input == "" || output == "" {
				return usagef("analyze mds needs --input and --output")
			}
			dims := c.Int("dims")
			if dims < 1 {
				return usagef("--dims must be at least 1, got %d", dims)
			}
			if _, err := os.Stat(input); err != nil {
				return usagef("--input: %v", err)
			}
			a, err := degen.ReadNPZArray(input, name)
			if err != nil {
				return usageError{err}
			}
			d, err := distanceMatrix(a)
			if err != nil {
				return usageError{fmt.Errorf("%s: array %q: %w", input, name, err)}
			}
			n := d.SymmetricDim()
			if dims > n {
				return usagef("--dims %d exceeds the %d items of array %q", dims, n, name)
			}
			xy, err := analysis.MDS(d, dims)
			if err != nil {
				return err
			}
			sum := mdsSummary{Input: input, Array: name, Output: output, N: n, Dims: dims}
			flat := make([]float64, 0, n*dims)
			for i := 0; i < n; i++ {
				row := mat.Row(nil, i, xy)
				sum.Coords = append(sum.Coords, row)
				flat = append(flat, row...)
			}
			if err := degen.WriteNPZ(output, degen.NamedArray{Name: "coords", Shape: []int{n, dims}, Data: flat}); err != nil {
				return err
			}
			if base := c.String("figure"); base != "" {
				if dims < 2 {
					return usagef("--figure needs --dims of at least 2")
				}
				labels := make([]int, n)
				for i := range labels {
					labels[i] = i
				}
				title := "MDS of " + strings.TrimSuffix(filepath.Base(input), ".npz") + ":" + name
				fig, err := analysis.MDSFigure(xy.Slice(0, n, 0, 2).(*mat.Dense), title, labels, nil)
				if err != nil {
					return err
				}
				if err := analysis.SaveFigure(fig, base); err != nil {
					return err
				}
				sum.Figures = []string{base + ".png", base + ".svg"}
			}
			if c.Bool("json") {
				return printJSON(os.Stdout, sum)
			}
			for i, row := range sum.Coords {
				fmt.Printf("%d", i)
				for _, v := range row {
					fmt.Printf("\t%.6g", v)
				}
				fmt.Println()
			}
			return nil
		},
	}
}

// distanceMatrix checks that a is a finite, symmetric (N, N) matrix with a
// zero diagonal and no negative entries, and returns it.
func distanceMatrix(a *degen.Array) (*mat.SymDense, error) {
	if len(a.Shape) != 2 || a.Shape[0] != a.Shape[1] || a.Shape[0] < 1 {
		return nil, fmt.Errorf("want a square (N, N) matrix, got shape %v", a.Shape)
	}
	n := a.Shape[0]
	d := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v, w := a.Data[i*n+j], a.Data[j*n+i]
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				return nil, fmt.Errorf("element (%d, %d) is %g", i, j, v)
			case v < 0:
				return nil, fmt.Errorf("element (%d, %d) is negative (%g)", i, j, v)
			case i == j && v != 0:
				return nil, fmt.Errorf("diagonal element (%d, %d) is %g, want 0", i, j, v)
			case math.Abs(v-w) > 1e-9*math.Max(1, math.Abs(v)):
				return nil, fmt.Errorf("not symmetric: (%d, %d) = %g but (%d, %d) = %g", i, j, v, j, i, w)
			}
			if j >= i {
				d.SetSym(i, j, v)
			}
		}
	}
	return d, nil
}

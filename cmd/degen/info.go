package main

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"degen"
	"degen/tasks"
)

// taskListing is one task as `degen tasks` lists it: its description and
// knobs, its convergence threshold, and its training recipe per cell.
type taskListing struct {
	tasks.Info
	Threshold float64                     `json:"threshold"`
	Training  map[degen.Cell]degen.Recipe `json:"training"`
}

func tasksCommand() *cli.Command {
	return &cli.Command{
		Name:  "tasks",
		Usage: "list the tasks, their knobs and their training defaults per cell",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			var list []taskListing
			for _, info := range tasks.List() {
				t, err := tasks.New(info.Name, nil)
				if err != nil {
					return err
				}
				list = append(list, taskListing{Info: info, Threshold: t.Threshold(), Training: degen.Recipes(info.Name)})
			}
			if c.Bool("json") {
				return printJSON(os.Stdout, list)
			}
			w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			for _, t := range list {
				fmt.Fprintf(w, "%s\t%s\n", t.Name, t.Description)
				for _, k := range t.Knobs {
					fmt.Fprintf(w, "  --knob %s=%g\t%s\n", k.Name, k.Default, strings.TrimSpace(k.Description))
				}
				fmt.Fprintf(w, "  threshold\ttraining MSE %g\n", t.Threshold)
				for _, cell := range []degen.Cell{degen.Vanilla, degen.Rate} {
					if r, ok := t.Training[cell]; ok {
						fmt.Fprintf(w, "  --cell %s\t%s\n", cell, recipeText(r))
					}
				}
				fmt.Fprintln(w)
			}
			return w.Flush()
		},
	}
}

// recipeText is a recipe as the flags that would set it.
func recipeText(r degen.Recipe) string {
	s := fmt.Sprintf("--lr %g --batch %d --steps-per-epoch %d --max-epochs %d --clip-norm %g", r.LR, r.Batch, r.StepsPerEpoch, r.MaxEpochs, r.ClipNorm)
	for _, k := range slices.Sorted(maps.Keys(r.Knobs)) {
		s += fmt.Sprintf(" --knob %s=%g", k, r.Knobs[k])
	}
	return s
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print degen's version",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			v := map[string]string{"version": degen.Version, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH, "build": buildKind}
			if c.Bool("json") {
				return printJSON(os.Stdout, v)
			}
			fmt.Printf("degen %s (%s build, %s %s/%s)\n", degen.Version, buildKind, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

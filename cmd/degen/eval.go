package main

import (
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"degen"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "evaluate a trained run: in-distribution and OOD losses per network, hidden states to states.npz",
		UsageText: "degen eval RUN_DIR [--backend cpu|gpu] [--json]",
		Flags:     []cli.Flag{backendFlag, quietFlag, jsonFlag},
		Action: func(c *cli.Context) error {
			if c.Args().Len() != 1 {
				return usagef("eval needs exactly one RUN_DIR argument")
			}
			dir := c.Args().First()
			factory, err := backendFactory(c.String("backend"))
			if err != nil {
				return err
			}
			lock, err := lockRunDir(dir, "degen eval", false)
			if err != nil {
				return err
			}
			defer lock.Unlock()
			defer exitOnInterrupt(dir, lock)()
			// The host holds every network's states on both backends.
			if run, _, err := degen.OpenRun(dir, c.String("backend")); err == nil {
				k, t, t2 := run.Config.EvalTrials, run.Task.Steps(false), run.Task.Steps(true)
				if err := checkMemory("evaluation", run.Dims.S, func(s int) int64 {
					d := run.Dims
					d.S = s
					return degen.EvalBytes(d, runtime.GOMAXPROCS(0), k, t, t2)
				}); err != nil {
					return err
				}
			}
			report, err := degen.Evaluate(dir, factory, c.String("backend"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(os.Stdout, report)
			}
			w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(w, "network\tconverged\tloss (T=%d)\tOOD loss (T=%d)\t\n", report.Steps, report.OODSteps)
			for _, n := range report.Networks {
				fmt.Fprintf(w, "%d\t%v\t%.4g\t%.4g\t\n", n.Index, n.Converged, n.Loss, n.OODLoss)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if !c.Bool("quiet") {
				fmt.Fprintf(os.Stderr, "wrote %s/%s and %s/%s\n", dir, degen.EvalFile, dir, degen.StatesFile)
			}
			return nil
		},
	}
}

package main

import (
	"fmt"
	"os"
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

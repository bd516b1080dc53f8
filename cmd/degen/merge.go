package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"degen"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "gather the run directories of a sharded sweep (--shard i/n) into one run",
		UsageText: "degen merge --out DIR SHARD_DIR...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "run directory to create"},
			&cli.BoolFlag{Name: "allow-unfinished", Usage: "merge shards that have not finished training (their networks still training become not_converged)"},
			quietFlag, jsonFlag,
		},
		Action: func(c *cli.Context) error {
			out := c.String("out")
			if out == "" || c.Args().Len() == 0 {
				return usagef("merge needs --out DIR and the shard directories")
			}
			lock, err := lockRunDir(out, "degen merge", true)
			if err != nil {
				return err
			}
			defer lock.Unlock()
			if err := degen.MergeShards(out, c.Args().Slice(), c.Bool("allow-unfinished")); err != nil {
				return usageError{err}
			}
			info, err := degen.ReadRunInfo(out)
			if err != nil {
				return err
			}
			sum := trainSummary(info, out, 0)
			if c.Bool("json") {
				return printJSON(os.Stdout, sum)
			}
			fmt.Printf("%s: %d shards merged, %d networks, %d converged; next: degen eval %s\n",
				out, c.Args().Len(), sum.Networks, sum.Converged, out)
			return nil
		},
	}
}

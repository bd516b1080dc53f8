package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"degen"
	"degen/tasks"
)

func tasksCommand() *cli.Command {
	return &cli.Command{
		Name:  "tasks",
		Usage: "list the tasks and their knobs with defaults",
		Flags: []cli.Flag{jsonFlag},
		Action: func(c *cli.Context) error {
			list := tasks.List()
			if c.Bool("json") {
				return printJSON(os.Stdout, list)
			}
			w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
			for _, t := range list {
				fmt.Fprintf(w, "%s\t%s\n", t.Name, t.Description)
				for _, k := range t.Knobs {
					fmt.Fprintf(w, "  --knob %s=%g\t%s\n", k.Name, k.Default, strings.TrimSpace(k.Description))
				}
				fmt.Fprintln(w)
			}
			return w.Flush()
		},
	}
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

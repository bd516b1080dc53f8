// Command degen trains ensembles of task-trained RNNs and measures how
// degenerate their solutions are. Run `degen help` for the commands.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"degen"
)

func main() {
	os.Exit(run(os.Args))
}

// run executes the application and returns the process exit code:
// 0 success, 1 failure, 2 bad usage or input, 130 interrupted.
func run(args []string) int {
	app := newApp()
	err := app.Run(args)
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "degen:", err)
	var u usageError
	switch {
	case errors.As(err, &u):
		return 2
	case errors.Is(err, degen.ErrInterrupted):
		return 130
	}
	return 1
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "degen",
		Usage:   "train ensembles of task-trained RNNs and measure how degenerate their solutions are",
		Version: degen.Version,
		Commands: []*cli.Command{
			trainCommand(),
			evalCommand(),
			tasksCommand(),
			versionCommand(),
		},
		HideVersion:          true,
		EnableBashCompletion: true,
		OnUsageError: func(c *cli.Context, err error, isSub bool) error {
			return usageError{err}
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(os.Stderr, "degen: unknown command %q; run `degen help` for the list\n", name)
			os.Exit(2)
		},
		ExitErrHandler: func(c *cli.Context, err error) {}, // run() reports errors and chooses the exit code
	}
	markUsageErrors(app.Commands)
	return app
}

// markUsageErrors makes flag-parsing errors of every command usage errors.
func markUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = func(c *cli.Context, err error, isSub bool) error { return usageError{err} }
		markUsageErrors(c.Subcommands)
	}
}

// Command degen trains ensembles of task-trained RNNs and measures how
// degenerate their solutions are. Run `degen help` for the commands.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

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
	err := app.Run(flagsFirst(app.Commands, args))
	if err == nil {
		return 0
	}
	fmt.Fprintln(os.Stderr, "degen:", err)
	var u usageError
	var bad *degen.InputError
	switch {
	case errors.As(err, &u), errors.As(err, &bad):
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
			analyzeCommand(),
			mergeCommand(),
			tasksCommand(),
			devicesCommand(),
			compareCommand(),
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

// flagsFirst moves a command's flags before its positional arguments, so
// that `degen eval RUN_DIR --json` works like `degen eval --json RUN_DIR`
// (urfave/cli stops parsing flags at the first positional argument).
func flagsFirst(cmds []*cli.Command, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	// Walk down the command path (degen analyze dsa ...).
	var cmd *cli.Command
	for len(rest) > 0 {
		next := findCommand(cmds, rest[0])
		if next == nil {
			break
		}
		cmd, cmds = next, next.Subcommands
		out = append(out, rest[0])
		rest = rest[1:]
	}
	if cmd == nil {
		return args
	}
	var flags, positional []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		if !strings.Contains(a, "=") && takesValue(cmd, strings.TrimLeft(a, "-")) && i+1 < len(rest) {
			flags = append(flags, rest[i+1])
			i++
		}
	}
	return append(append(out, flags...), positional...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the command's flag called name expects a value.
func takesValue(cmd *cli.Command, name string) bool {
	for _, f := range cmd.Flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"degen"
)

// configFlag ties one flag to the Config field it overrides.
type configFlag struct {
	flag  cli.Flag
	apply func(c *cli.Context, cfg *degen.Config) error
}

func intFlag(name, usage string, field func(*degen.Config) *int) configFlag {
	return configFlag{&cli.IntFlag{Name: name, Usage: usage, DefaultText: fmt.Sprint(*field(ptr(degen.DefaultConfig())))},
		func(c *cli.Context, cfg *degen.Config) error { *field(cfg) = c.Int(name); return nil }}
}

func floatFlag(name, usage string, field func(*degen.Config) *float64) configFlag {
	return configFlag{&cli.Float64Flag{Name: name, Usage: usage, DefaultText: fmt.Sprint(*field(ptr(degen.DefaultConfig())))},
		func(c *cli.Context, cfg *degen.Config) error { *field(cfg) = c.Float64(name); return nil }}
}

func listFlag(name, usage string, field func(*degen.Config) *[]float64) configFlag {
	return configFlag{&cli.StringFlag{Name: name, Usage: usage + " (comma-separated list: one condition per value)", DefaultText: joinFloats(*field(ptr(degen.DefaultConfig())))},
		func(c *cli.Context, cfg *degen.Config) error {
			v, err := parseFloats(c.String(name))
			if err != nil {
				return usagef("--%s: %v", name, err)
			}
			*field(cfg) = v
			return nil
		}}
}

func ptr[T any](v T) *T { return &v }

// fromRecipe marks a flag whose default is the task's recipe for the cell
// (degen.DefaultConfigFor), listed by degen tasks.
func fromRecipe(f configFlag) configFlag {
	const text = "the task's, see degen tasks"
	switch fl := f.flag.(type) {
	case *cli.IntFlag:
		fl.DefaultText = text
	case *cli.Float64Flag:
		fl.DefaultText = text
	case *cli.StringFlag:
		fl.DefaultText = text
	}
	return f
}

func configFlags() []configFlag {
	def := degen.DefaultConfig()
	return []configFlag{
		{&cli.StringFlag{Name: "task", Usage: "task: flipflop, sine, delayed or pathint (see: degen tasks)", DefaultText: def.Task},
			func(c *cli.Context, cfg *degen.Config) error { cfg.Task = c.String("task"); return nil }},
		{&cli.StringSliceFlag{Name: "knob", Usage: "task knob as name=value, repeatable (see: degen tasks)"},
			func(c *cli.Context, cfg *degen.Config) error {
				var seen []string
				for _, kv := range c.StringSlice("knob") {
					name, value, ok := strings.Cut(kv, "=")
					v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
					if !ok || err != nil {
						return usagef("--knob %.60q: want name=number", kv)
					}
					name = strings.TrimSpace(name)
					if slices.Contains(seen, name) {
						return usagef("--knob %.60s is given twice", name)
					}
					seen = append(seen, name)
					if cfg.Knobs == nil {
						cfg.Knobs = map[string]float64{}
					}
					cfg.Knobs[name] = v
				}
				return nil
			}},
		{&cli.StringFlag{Name: "cell", Usage: "recurrent cell: vanilla (tanh RNN) or rate (µP rate network)", DefaultText: string(def.Cell)},
			func(c *cli.Context, cfg *degen.Config) error { cfg.Cell = degen.Cell(c.String("cell")); return nil }},
		intFlag("hidden", "hidden units H", func(c *degen.Config) *int { return &c.Hidden }),
		floatFlag("tau", "rate-cell time constant", func(c *degen.Config) *float64 { return &c.Tau }),
		{&cli.Uint64Flag{Name: "seed", Usage: "experiment seed (keys initial weights and data)", DefaultText: fmt.Sprint(def.Seed)},
			func(c *cli.Context, cfg *degen.Config) error { cfg.Seed = c.Uint64("seed"); return nil }},
		intFlag("seeds", "networks per condition", func(c *degen.Config) *int { return &c.Seeds }),
		fromRecipe(listFlag("lr", "Adam learning rate eta0", func(c *degen.Config) *[]float64 { return &c.LR })),
		listFlag("gamma", "rate-cell feature-learning strength", func(c *degen.Config) *[]float64 { return &c.Gamma }),
		listFlag("l1", "L1 strength on W_hh, W_ih, W_out", func(c *degen.Config) *[]float64 { return &c.L1 }),
		listFlag("nuclear", "nuclear-norm strength on W_hh", func(c *degen.Config) *[]float64 { return &c.Nuclear }),
		fromRecipe(intFlag("batch", "trials per step", func(c *degen.Config) *int { return &c.Batch })),
		fromRecipe(intFlag("steps-per-epoch", "training steps per epoch", func(c *degen.Config) *int { return &c.StepsPerEpoch })),
		fromRecipe(intFlag("max-epochs", "epochs before a network is reported not converged", func(c *degen.Config) *int { return &c.MaxEpochs })),
		floatFlag("threshold", "training MSE for convergence (0: the task's default)", func(c *degen.Config) *float64 { return &c.Threshold }),
		intFlag("patience", "epochs below threshold before a network stops", func(c *degen.Config) *int { return &c.Patience }),
		floatFlag("plateau-factor", "ReduceLROnPlateau factor", func(c *degen.Config) *float64 { return &c.PlateauFactor }),
		intFlag("plateau-patience", "ReduceLROnPlateau patience (epochs)", func(c *degen.Config) *int { return &c.PlateauPatience }),
		fromRecipe(floatFlag("clip-norm", "per-network gradient-norm clip (0: off)", func(c *degen.Config) *float64 { return &c.ClipNorm })),
		{&cli.BoolFlag{Name: "shared-data", Usage: "every network trains on the same batches"},
			func(c *cli.Context, cfg *degen.Config) error { cfg.SharedData = c.Bool("shared-data"); return nil }},
		intFlag("eval-trials", "trials in the fixed evaluation sets", func(c *degen.Config) *int { return &c.EvalTrials }),
		{&cli.StringFlag{Name: "shard", Usage: "train only shard i of n (`i/n`): networks s with s % n == i", DefaultText: fmt.Sprintf("%d/%d", def.Shard, def.Shards)},
			func(c *cli.Context, cfg *degen.Config) error {
				i, n, ok := strings.Cut(c.String("shard"), "/")
				si, err1 := strconv.Atoi(i)
				sn, err2 := strconv.Atoi(n)
				if !ok || err1 != nil || err2 != nil {
					return usagef("--shard %q: want i/n, e.g. 0/4", c.String("shard"))
				}
				cfg.Shard, cfg.Shards = si, sn
				return nil
			}},
	}
}

func trainCommand() *cli.Command {
	cflags := configFlags()
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "TOML file with the run's settings; flags override it"},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "run directory (default runs/TASK-DATE-TIME)"},
		&cli.StringFlag{Name: "resume", Usage: "continue the interrupted run in `DIR` exactly where it stopped"},
		&cli.BoolFlag{Name: "force", Usage: "replace the run in an existing run directory"},
		backendFlag, quietFlag, jsonFlag,
	}
	for _, f := range cflags {
		flags = append(flags, f.flag)
	}
	return &cli.Command{
		Name:      "train",
		Usage:     "train an ensemble of RNNs on a task",
		UsageText: "degen train [--config run.toml] [flags]\ndegen train --resume RUN_DIR",
		Flags:     flags,
		Action: func(c *cli.Context) error {
			if c.Args().Len() > 0 {
				return usagef("train takes no arguments, got %q (did you mean --out?)", c.Args().First())
			}
			factory, err := backendFactory(c.String("backend"))
			if err != nil {
				return err
			}
			var run *degen.Run
			var dir string
			resume := c.IsSet("resume")
			if resume {
				dir = c.String("resume")
				for _, f := range cflags {
					if c.IsSet(f.flag.Names()[0]) {
						return usagef("--resume continues a run with its own settings; --%s cannot change them", f.flag.Names()[0])
					}
				}
				if c.IsSet("config") || c.IsSet("out") || c.IsSet("force") {
					return usagef("--resume cannot be combined with --config, --out or --force")
				}
				lock, err := lockRunDir(dir, "degen train --resume", false)
				if err != nil {
					return err
				}
				defer lock.Unlock()
				run, _, err = degen.OpenRun(dir, c.String("backend"))
				if err != nil {
					return err
				}
				if err := checkTrainMemory(run, c.String("backend")); err != nil {
					return err
				}
			} else {
				if run, err = runFromFlags(c, cflags, nil); err != nil {
					return err
				}
				dir = c.String("out")
				if dir == "" {
					dir = filepath.Join("runs", fmt.Sprintf("%s-%s", run.Config.Task, time.Now().Format("20060102-150405")))
				}
				if err := checkTrainMemory(run, c.String("backend")); err != nil {
					return err
				}
				lock, err := lockRunDir(dir, "degen train", true)
				if err != nil {
					return err
				}
				defer lock.Unlock()
				if err := degen.PrepareDir(dir, c.Bool("force")); err != nil {
					return usageError{err}
				}
			}
			return train(c, run, dir, factory, resume)
		},
	}
}

// runFromFlags builds a run from the defaults, then --config, then the
// flags that are set. The defaults are the recipe of the task and cell that
// the file and flags ask for (degen.DefaultConfigFor), so a first pass reads
// which those are; adjust (if not nil) changes the defaults before the file
// and flags apply.
func runFromFlags(c *cli.Context, cflags []configFlag, adjust func(*degen.Config)) (*degen.Run, error) {
	choice, err := configFrom(c, cflags, degen.DefaultConfig())
	if err != nil {
		return nil, err
	}
	base := degen.DefaultConfigFor(choice.Task, choice.Cell)
	if adjust != nil {
		adjust(&base)
	}
	cfg, err := configFrom(c, cflags, base)
	if err != nil {
		return nil, err
	}
	run, err := degen.NewRun(cfg, c.String("backend"))
	if err != nil {
		return nil, usageError{err}
	}
	return run, nil
}

// configFrom reads --config over base, then applies the flags that are set.
func configFrom(c *cli.Context, cflags []configFlag, base degen.Config) (degen.Config, error) {
	cfg := base
	if c.IsSet("config") {
		var err error
		if cfg, err = degen.LoadConfigOver(c.String("config"), base); err != nil {
			return cfg, usageError{err}
		}
	}
	for _, f := range cflags {
		if c.IsSet(f.flag.Names()[0]) {
			if err := f.apply(c, &cfg); err != nil {
				return cfg, err
			}
		}
	}
	return cfg, nil
}

func train(c *cli.Context, run *degen.Run, dir string, factory degen.BackendFactory, resume bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := run.Config
	quiet := c.Bool("quiet")
	if !quiet {
		fmt.Fprintf(os.Stderr, "degen: training %d %s networks (H=%d) on %s with the %s backend in %s\n",
			run.Dims.S, cfg.Cell, cfg.Hidden, cfg.Task, run.Backend, dir)
	}
	bar := newProgress(int64(cfg.MaxEpochs*cfg.StepsPerEpoch), "training", quiet)
	start := time.Now()
	info, err := degen.Train(ctx, run, dir, factory, resume, func(p degen.Progress) {
		bar.Describe(fmt.Sprintf("epoch %d/%d  converged %d/%d  loss %.3g", p.Epoch+1, p.MaxEpochs, p.Converged, p.Networks, p.MeanLoss))
		bar.Set64(int64(p.Epoch*p.Steps + p.Step + 1))
		if p.EpochDone {
			logLine(quiet, "epoch %d/%d  converged %d/%d  diverged %d  loss %.4g  %s",
				p.Epoch+1, p.MaxEpochs, p.Converged, p.Networks, p.Diverged, p.MeanLoss, time.Since(start).Round(time.Second))
		}
	})
	bar.Exit()
	if errors.Is(err, degen.ErrInterrupted) {
		return fmt.Errorf("%w; continue with: degen train --resume %s", err, dir)
	}
	if err != nil {
		return err
	}
	summary := trainSummary(info, dir, time.Since(start))
	if c.Bool("json") {
		return printJSON(os.Stdout, summary)
	}
	fmt.Printf("%s: %d of %d networks converged, %d diverged, %d did not converge; %d epochs in %.1fs\n",
		dir, summary.Converged, summary.Networks, summary.Diverged, summary.NotConverged, info.Epoch, summary.Seconds)
	return nil
}

// runSummary is what `degen train --json` prints.
type runSummary struct {
	Dir          string                `json:"dir"`
	Networks     int                   `json:"networks"`
	Converged    int                   `json:"converged"`
	Diverged     int                   `json:"diverged"`
	NotConverged int                   `json:"not_converged"`
	Epochs       int                   `json:"epochs"`
	Seconds      float64               `json:"seconds"`
	Status       []degen.NetworkStatus `json:"status"`
}

func trainSummary(info *degen.RunInfo, dir string, elapsed time.Duration) runSummary {
	s := runSummary{Dir: dir, Networks: len(info.Networks), Epochs: info.Epoch, Seconds: elapsed.Seconds(), Status: info.Networks}
	for _, n := range info.Networks {
		switch n.Status {
		case degen.Converged:
			s.Converged++
		case degen.Diverged:
			s.Diverged++
		case degen.NotConverged:
			s.NotConverged++
		}
	}
	return s
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func joinFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

// checkTrainMemory refuses a run whose training would not fit in memory on
// the CPU backend (degen.TrainBytes), before anything is allocated or the
// run directory is created. The GPU backend's host side needs less, and its
// device memory is checked when the backend starts.
func checkTrainMemory(run *degen.Run, backend string) error {
	if backend != "cpu" {
		return nil
	}
	return checkMemory("training", run.Dims.S, func(s int) int64 {
		d := run.Dims
		d.S = s
		return degen.TrainBytes(d, runtime.GOMAXPROCS(0))
	})
}

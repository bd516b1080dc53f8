package degen

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Config is everything that defines a training run. It is read from a TOML
// file and flags, and saved in run.json so a run can be resumed or repeated.
//
// The ensemble is the grid of conditions LR x Gamma x L1 x Nuclear (each list
// may have one value) times Seeds seeds per condition, so a sweep over any of
// them trains as one ensemble. Network s = condition c * Seeds + j trains from
// seed index j: its initial weights and its data depend only on (Seed, j), so
// the same seed index gives paired networks across conditions, and a network's
// result never depends on how many networks train beside it.
type Config struct {
	Task  string             `toml:"task" json:"task"`
	Knobs map[string]float64 `toml:"knobs" json:"knobs"` // task knobs; missing ones take the task's defaults

	Cell   Cell    `toml:"cell" json:"cell"`
	Hidden int     `toml:"hidden" json:"hidden"`
	Tau    float64 `toml:"tau" json:"tau"` // rate cell time constant

	Seed  uint64 `toml:"seed" json:"seed"`   // experiment seed: keys weights and data
	Seeds int    `toml:"seeds" json:"seeds"` // networks per condition

	LR      []float64 `toml:"lr" json:"lr"`           // Adam learning rate eta0 (the rate cell uses gamma*eta0)
	Gamma   []float64 `toml:"gamma" json:"gamma"`     // rate cell feature-learning strength
	L1      []float64 `toml:"l1" json:"l1"`           // L1 strength on W_hh, W_ih, W_out
	Nuclear []float64 `toml:"nuclear" json:"nuclear"` // nuclear-norm strength on W_hh

	Batch           int     `toml:"batch" json:"batch"`                       // trials per step
	StepsPerEpoch   int     `toml:"steps_per_epoch" json:"steps_per_epoch"`   // training steps per epoch
	MaxEpochs       int     `toml:"max_epochs" json:"max_epochs"`             // stop a network that has not converged after this many epochs
	Threshold       float64 `toml:"threshold" json:"threshold"`               // training MSE for convergence; 0 takes the task's default
	Patience        int     `toml:"patience" json:"patience"`                 // epochs a network stays below threshold before it stops
	PlateauFactor   float64 `toml:"plateau_factor" json:"plateau_factor"`     // ReduceLROnPlateau factor
	PlateauPatience int     `toml:"plateau_patience" json:"plateau_patience"` // ReduceLROnPlateau patience in epochs
	ClipNorm        float64 `toml:"clip_norm" json:"clip_norm"`               // per-network gradient norm clip; 0 disables
	SharedData      bool    `toml:"shared_data" json:"shared_data"`           // every network trains on the same batches
	EvalTrials      int     `toml:"eval_trials" json:"eval_trials"`           // trials of the fixed evaluation sets (degen eval)

	Shard  int `toml:"shard" json:"shard"`   // this shard's index in [0, Shards)
	Shards int `toml:"shards" json:"shards"` // train only networks s with s % Shards == Shard
}

// DefaultConfig is the small default run of `degen train` with no flags: 8
// vanilla networks of 32 units on the 3-bit flip-flop (T=100), batch 32, Adam
// 1e-2, 50 steps per epoch, ReduceLROnPlateau 0.5/40 and the threshold plus 3
// epochs of patience; it converges in about 700 steps, seconds on two cores.
// The reference study's scale is --hidden 128 --batch 64 --lr 1e-3
// --steps-per-epoch 128 --max-epochs 1000 --seeds 50.
func DefaultConfig() Config {
	return Config{
		Task:            "flipflop",
		Knobs:           map[string]float64{},
		Cell:            Vanilla,
		Hidden:          32,
		Tau:             0.1,
		Seed:            1,
		Seeds:           8,
		LR:              []float64{1e-2},
		Gamma:           []float64{1},
		L1:              []float64{0},
		Nuclear:         []float64{0},
		Batch:           32,
		StepsPerEpoch:   50,
		MaxEpochs:       100,
		Patience:        3,
		PlateauFactor:   0.5,
		PlateauPatience: 40,
		ClipNorm:        0,
		EvalTrials:      64,
		Shards:          1,
	}
}

// LoadConfig reads a TOML file over the defaults. Unknown keys and values of
// the wrong type are errors naming the key.
func LoadConfig(path string) (Config, error) { return LoadConfigOver(path, DefaultConfig()) }

// LoadConfigOver reads a TOML file over base (DefaultConfigFor a task and
// cell, say): every key in the file replaces base's value, and the file's
// [knobs] are set over base's knobs.
// maxConfigBytes bounds a config file: one given by mistake (a weights file,
// a log) is refused before it is read.
const maxConfigBytes = 1 << 20

func LoadConfigOver(path string, base Config) (Config, error) {
	cfg := base
	for _, l := range []*[]float64{&cfg.LR, &cfg.Gamma, &cfg.L1, &cfg.Nuclear} {
		*l = slices.Clone(*l)
	}
	if st, err := os.Stat(path); err == nil && st.Size() > maxConfigBytes {
		return cfg, fmt.Errorf("config %s is %d bytes; a config is a few hundred (the limit is %d)", path, st.Size(), maxConfigBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	cfg.Knobs = nil
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return cfg, fmt.Errorf("config %s: %s", path, strings.TrimSpace(perr.Message))
		}
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return cfg, fmt.Errorf("config %s: unknown key(s) %s", path, strings.Join(keys, ", "))
	}
	knobs := maps.Clone(base.Knobs)
	if knobs == nil {
		knobs = map[string]float64{}
	}
	maps.Copy(knobs, cfg.Knobs)
	cfg.Knobs = knobs
	return cfg, nil
}

// Model returns the architecture of the run.
func (c *Config) Model() Model { return Model{Cell: c.Cell, H: c.Hidden, Tau: c.Tau} }

// Validate returns the first problem with the configuration, if any. The
// task name and knobs are checked by the tasks registry.
func (c *Config) Validate() error {
	if err := c.Model().Check(); err != nil {
		return err
	}
	positive := []struct {
		name string
		v    int
	}{{"seeds", c.Seeds}, {"batch", c.Batch}, {"steps-per-epoch", c.StepsPerEpoch}, {"max-epochs", c.MaxEpochs}, {"eval-trials", c.EvalTrials}, {"shards", c.Shards}}
	for _, p := range positive {
		if p.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", p.name, p.v)
		}
	}
	if c.Shard < 0 || c.Shard >= c.Shards {
		return fmt.Errorf("shard %d is outside [0, %d)", c.Shard, c.Shards)
	}
	if c.Patience < 0 || c.PlateauPatience < 0 {
		return fmt.Errorf("patience must not be negative")
	}
	if !(c.Threshold >= 0) || math.IsInf(c.Threshold, 0) {
		return fmt.Errorf("threshold must be >= 0 (0: the task's default), got %g", c.Threshold)
	}
	if !(c.PlateauFactor > 0 && c.PlateauFactor <= 1) {
		return fmt.Errorf("plateau-factor must be in (0, 1], got %g", c.PlateauFactor)
	}
	if !(c.ClipNorm >= 0) || math.IsInf(c.ClipNorm, 0) {
		return fmt.Errorf("clip-norm must be >= 0, got %g", c.ClipNorm)
	}
	lists := []struct {
		name     string
		v        []float64
		positive bool
	}{{"lr", c.LR, true}, {"gamma", c.Gamma, true}, {"l1", c.L1, false}, {"nuclear", c.Nuclear, false}}
	for _, l := range lists {
		if len(l.v) == 0 {
			return fmt.Errorf("%s needs at least one value", l.name)
		}
		for _, v := range l.v {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (l.positive && v == 0) {
				if l.positive {
					return fmt.Errorf("%s values must be positive, got %g", l.name, v)
				}
				return fmt.Errorf("%s values must be >= 0, got %g", l.name, v)
			}
		}
	}
	if size := c.EnsembleSize(); size > maxEnsemble || c.Seeds > maxEnsemble {
		return fmt.Errorf("the ensemble has too many networks (%d seeds x %d x %d x %d x %d values of lr, gamma, l1, nuclear; at most %d)",
			c.Seeds, len(c.LR), len(c.Gamma), len(c.L1), len(c.Nuclear), maxEnsemble)
	}
	if len(c.Networks()) == 0 {
		return fmt.Errorf("shard %d/%d has no networks (the ensemble has %d)", c.Shard, c.Shards, c.EnsembleSize())
	}
	return nil
}

// maxEnsemble bounds the number of networks in one run, far above any GPU's
// memory, so that a typo cannot make degen allocate without bound.
const maxEnsemble = 1 << 22

// Condition is one point of the hyperparameter grid.
type Condition struct {
	LR      float64 `json:"lr"`
	Gamma   float64 `json:"gamma"`
	L1      float64 `json:"l1"`
	Nuclear float64 `json:"nuclear"`
}

// NetworkSpec says which network a slot of this run's ensemble trains.
type NetworkSpec struct {
	Index     int       `json:"index"` // position in the whole ensemble (all shards)
	SeedIndex uint64    `json:"seed"`  // keys its initial weights and data
	Condition Condition `json:"condition"`
}

// EnsembleSize is the number of networks over all shards.
func (c *Config) EnsembleSize() int {
	n := c.Seeds
	for _, l := range []int{len(c.LR), len(c.Gamma), len(c.L1), len(c.Nuclear)} {
		if n > maxEnsemble || l > maxEnsemble {
			return maxEnsemble + 1 // saturate instead of overflowing
		}
		n *= l
	}
	return n
}

// Networks lists this shard's networks in order.
func (c *Config) Networks() []NetworkSpec {
	var out []NetworkSpec
	index := 0
	for _, lr := range c.LR {
		for _, g := range c.Gamma {
			for _, l1 := range c.L1 {
				for _, nuc := range c.Nuclear {
					for j := 0; j < c.Seeds; j++ {
						if c.Shards <= 1 || index%c.Shards == c.Shard {
							out = append(out, NetworkSpec{Index: index, SeedIndex: uint64(j),
								Condition: Condition{LR: lr, Gamma: g, L1: l1, Nuclear: nuc}})
						}
						index++
					}
				}
			}
		}
	}
	return out
}

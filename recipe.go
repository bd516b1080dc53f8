package degen

import "maps"

// Recipe is how one task trains on one cell by default: the training
// settings, and knob values that differ from the task's own defaults for
// this cell (the rate cell's time scale). A config file and flags override
// every field; run.json records what was used.
type Recipe struct {
	LR            float64            `json:"lr"`
	Batch         int                `json:"batch"`
	StepsPerEpoch int                `json:"steps_per_epoch"`
	MaxEpochs     int                `json:"max_epochs"`
	ClipNorm      float64            `json:"clip_norm"`
	Knobs         map[string]float64 `json:"knobs,omitempty"`
}

// recipes are the per-task, per-cell defaults, chosen by training 8
// networks of H=32 on 2 cores (bench/RESULTS.md, "Every task trains"):
//   - clipping the gradient norm at 1 is what sine, delayed discrimination
//     and path integration need: without it their loss jumps back up (from
//     0.02 to 0.6 and more) whenever a step meets the exploding gradient of
//     an almost-integrating network; the flip-flop trains without it;
//   - vanilla networks on the tasks with long memory want a smaller rate
//     than the flip-flop's 1e-2, at which delayed discrimination never left
//     MSE 1 (output 0);
//   - the rate cell (tau 0.1) moves a tenth of the way per step, so the
//     flip-flop gives it 10 steps per event (hold = 10 = 1/tau; at hold = 1
//     it plateaus at MSE 0.19, at 5 it was still at 0.002-0.006 after 2,000
//     steps);
//   - the rate cell learns at eta0 = 3e-2 on every task (eta = gamma * eta0;
//     the muP readout, divided by gamma H, needs large weights): at 1e-2 its
//     sine and delayed networks stalled just above their thresholds.
var recipes = map[string]map[Cell]Recipe{
	"flipflop": {
		Vanilla: {LR: 1e-2, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 100},
		Rate:    {LR: 3e-2, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 100, ClipNorm: 1, Knobs: map[string]float64{"hold": 10}},
	},
	"sine": {
		Vanilla: {LR: 2e-3, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 300, ClipNorm: 1},
		Rate:    {LR: 3e-2, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 300, ClipNorm: 1},
	},
	"delayed": {
		Vanilla: {LR: 1e-3, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 300, ClipNorm: 1},
		Rate:    {LR: 3e-2, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 200, ClipNorm: 1},
	},
	"pathint": {
		Vanilla: {LR: 1e-3, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 100, ClipNorm: 1},
		Rate:    {LR: 3e-2, Batch: 32, StepsPerEpoch: 50, MaxEpochs: 100, ClipNorm: 1},
	},
}

// RecipeFor returns the defaults of task on cell, and false for a task or
// cell without one (the config is then validated as it stands).
func RecipeFor(task string, cell Cell) (Recipe, bool) {
	r, ok := recipes[task][cell]
	r.Knobs = maps.Clone(r.Knobs)
	return r, ok
}

// Recipes returns every task's recipes by cell, for listings.
func Recipes(task string) map[Cell]Recipe {
	out := map[Cell]Recipe{}
	for _, cell := range []Cell{Vanilla, Rate} {
		if r, ok := RecipeFor(task, cell); ok {
			out[cell] = r
		}
	}
	return out
}

// DefaultConfigFor returns DefaultConfig for task on cell with the task's
// recipe applied: its training settings, and its knob values under any
// knob the config already had.
func DefaultConfigFor(task string, cell Cell) Config {
	cfg := DefaultConfig()
	cfg.Task, cfg.Cell = task, cell
	r, ok := RecipeFor(task, cell)
	if !ok {
		return cfg
	}
	cfg.LR = []float64{r.LR}
	cfg.Batch, cfg.StepsPerEpoch, cfg.MaxEpochs, cfg.ClipNorm = r.Batch, r.StepsPerEpoch, r.MaxEpochs, r.ClipNorm
	maps.Copy(cfg.Knobs, r.Knobs)
	return cfg
}

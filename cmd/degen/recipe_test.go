package main

import (
	"os"
	"path/filepath"
	"testing"

	"degen"
)

// TestTrainUsesRecipe checks the order in which a run's settings are made:
// the recipe of the task and cell that the file and flags choose, then the
// config file, then the flags; run.json records the result.
func TestTrainUsesRecipe(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "run.toml")
	if err := os.WriteFile(file, []byte("task = \"delayed\"\nbatch = 4\n[knobs]\ndelay_max = 6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	small := []string{"--hidden", "4", "--seeds", "1", "--steps-per-epoch", "1", "--max-epochs", "1", "-q"}
	for _, c := range []struct {
		name   string
		args   []string
		task   string
		lr     float64
		batch  int
		clip   float64
		knobs  map[string]float64
		absent []string // knobs the run's config must not set
	}{
		{"delayed defaults", []string{"--task", "delayed", "--batch", "4"}, "delayed", 1e-3, 4, 1, nil, nil},
		{"flag over recipe", []string{"--task", "sine", "--lr", "0.02", "--clip-norm", "0", "--batch", "4", "--knob", "steps=8"}, "sine", 0.02, 4, 0, nil, nil},
		{"rate time scale", []string{"--cell", "rate", "--batch", "4", "--knob", "steps=3"}, "flipflop", 3e-2, 4, 1, map[string]float64{"hold": 10}, nil},
		{"knob over recipe", []string{"--cell", "rate", "--batch", "4", "--knob", "steps=3", "--knob", "hold=2"}, "flipflop", 3e-2, 4, 1, map[string]float64{"hold": 2}, nil},
		{"vanilla flip-flop", []string{"--batch", "4", "--knob", "steps=3"}, "flipflop", 1e-2, 4, 0, nil, []string{"hold"}},
		{"file chooses the task", []string{"--config", file}, "delayed", 1e-3, 4, 1, map[string]float64{"delay_max": 6}, nil},
		{"file and flag", []string{"--config", file, "--lr", "5e-3"}, "delayed", 5e-3, 4, 1, map[string]float64{"delay_max": 6}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(tmp, c.name)
			if code, out := runCapture(t, append(append([]string{"train", "--out", dir}, c.args...), small...)...); code != 0 {
				t.Fatalf("train exited %d: %s", code, out)
			}
			info, err := degen.ReadRunInfo(dir)
			if err != nil {
				t.Fatal(err)
			}
			cfg := info.Config
			if cfg.Task != c.task || len(cfg.LR) != 1 || cfg.LR[0] != c.lr || cfg.Batch != c.batch || cfg.ClipNorm != c.clip {
				t.Errorf("task %s lr %v batch %d clip %g, want %s [%g] %d %g", cfg.Task, cfg.LR, cfg.Batch, cfg.ClipNorm, c.task, c.lr, c.batch, c.clip)
			}
			for k, v := range c.knobs {
				if cfg.Knobs[k] != v || info.Knobs[k] != v {
					t.Errorf("knob %s: config %v, in use %v, want %g", k, cfg.Knobs[k], info.Knobs[k], v)
				}
			}
			for _, k := range c.absent {
				if _, ok := cfg.Knobs[k]; ok {
					t.Errorf("knob %s set to %g, want the task's default", k, cfg.Knobs[k])
				}
			}
		})
	}
}

package degen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"degen/tasks"
)

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.toml", `
task = "delayed"
hidden = 32
seeds = 3
lr = [1e-3, 3e-3]
gamma = [0.5]
[knobs]
delay_max = 30
`)
	cfg, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Task != "delayed" || cfg.Hidden != 32 || len(cfg.LR) != 2 || cfg.Knobs["delay_max"] != 30 {
		t.Fatalf("decoded %+v", cfg)
	}
	if cfg.Batch != DefaultConfig().Batch {
		t.Fatalf("unset keys must keep their defaults, batch = %d", cfg.Batch)
	}
	if got := cfg.EnsembleSize(); got != 6 {
		t.Fatalf("ensemble size %d, want 2 conditions x 3 seeds", got)
	}

	bad := []struct{ name, content, want string }{
		{"unknown.toml", "tsak = \"flipflop\"\n", "unknown key(s) tsak"},
		{"type.toml", "hidden = \"many\"\n", "hidden"},
		{"syntax.toml", "hidden = \n", "config"},
		{"list.toml", "lr = 0.1\n", "lr"},
	}
	for _, c := range bad {
		_, err := LoadConfig(writeFile(t, dir, c.name, c.content))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("a missing file must be an error")
	}
}

// TestLoadConfigOverRecipe checks that a file read over a recipe keeps the
// recipe where the file is silent, replaces it where the file speaks, adds
// the file's knobs to the recipe's, and does not change the base.
func TestLoadConfigOverRecipe(t *testing.T) {
	base := DefaultConfigFor("flipflop", Rate)
	if base.LR[0] != 3e-2 || base.ClipNorm != 1 || base.Knobs["hold"] != 10 {
		t.Fatalf("flip-flop rate recipe: lr %v clip %g knobs %v", base.LR, base.ClipNorm, base.Knobs)
	}
	path := writeFile(t, t.TempDir(), "over.toml", "lr = [5e-3]\n[knobs]\nbits = 2\n")
	cfg, err := LoadConfigOver(path, base)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LR[0] != 5e-3 || cfg.ClipNorm != 1 || cfg.Knobs["hold"] != 10 || cfg.Knobs["bits"] != 2 || cfg.Cell != Rate {
		t.Errorf("over the recipe: lr %v clip %g knobs %v cell %s", cfg.LR, cfg.ClipNorm, cfg.Knobs, cfg.Cell)
	}
	if base.LR[0] != 3e-2 || len(base.Knobs) != 1 {
		t.Errorf("the base changed: lr %v knobs %v", base.LR, base.Knobs)
	}
	if d := DefaultConfigFor("nosuchtask", Vanilla); d.Task != "nosuchtask" || d.LR[0] != DefaultConfig().LR[0] {
		t.Errorf("a task without a recipe: %+v", d)
	}
	for _, task := range tasks.Names() {
		for _, cell := range []Cell{Vanilla, Rate} {
			cfg := DefaultConfigFor(task, cell)
			if _, ok := RecipeFor(task, cell); !ok {
				t.Errorf("%s has no %s recipe", task, cell)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("%s/%s recipe: %v", task, cell, err)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"hidden", func(c *Config) { c.Hidden = 0 }, "hidden"},
		{"seeds", func(c *Config) { c.Seeds = -1 }, "seeds"},
		{"batch", func(c *Config) { c.Batch = 0 }, "batch"},
		{"threshold", func(c *Config) { c.Threshold = -1 }, "threshold"},
		{"lr", func(c *Config) { c.LR = []float64{0} }, "lr"},
		{"l1", func(c *Config) { c.L1 = []float64{-1} }, "l1"},
		{"empty", func(c *Config) { c.Gamma = nil }, "gamma"},
		{"cell", func(c *Config) { c.Cell = "lstm" }, "unknown cell"},
		{"tau", func(c *Config) { c.Cell = Rate; c.Tau = 2 }, "tau"},
		{"shard", func(c *Config) { c.Shard, c.Shards = 3, 2 }, "shard"},
		{"plateau", func(c *Config) { c.PlateauFactor = 0 }, "plateau"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.change(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}

func TestNetworksGridAndShards(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Seeds = 3
	cfg.LR = []float64{1e-3, 1e-2}
	cfg.L1 = []float64{0, 1e-4}
	all := cfg.Networks()
	if len(all) != 12 {
		t.Fatalf("%d networks, want 12", len(all))
	}
	for s, n := range all {
		if n.Index != s || n.SeedIndex != uint64(s%3) {
			t.Fatalf("network %d: %+v", s, n)
		}
	}
	if all[3].Condition.L1 != 1e-4 || all[6].Condition.LR != 1e-2 {
		t.Fatalf("grid order: %+v %+v", all[3], all[6])
	}
	seen := map[int]bool{}
	cfg.Shards = 5
	for i := 0; i < 5; i++ {
		cfg.Shard = i
		for _, n := range cfg.Networks() {
			if seen[n.Index] || all[n.Index] != n {
				t.Fatalf("shard %d: network %+v repeated or changed", i, n)
			}
			seen[n.Index] = true
		}
	}
	if len(seen) != 12 {
		t.Fatalf("shards cover %d of 12 networks", len(seen))
	}
}

func FuzzLoadConfig(f *testing.F) {
	f.Add("task = \"flipflop\"\nhidden = 8\n")
	f.Add("lr = [1e-3, 2e-3]\n[knobs]\nbits = 2\n")
	f.Add("seeds = -3\nthreshold = nan\n")
	f.Add("shard = 1\nshards = 0\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "c.toml")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			return
		}
		if cfg.Validate() == nil && cfg.EnsembleSize() <= 0 {
			t.Fatalf("a valid config with no networks: %+v", cfg)
		}
	})
}

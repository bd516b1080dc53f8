package tasks

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestListMatchesNew(t *testing.T) {
	infos := List()
	if got, want := Names(), []string{"flipflop", "sine", "delayed", "pathint"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	thresholds := map[string]float64{"flipflop": 1e-3, "delayed": 1e-2, "sine": 5e-2, "pathint": 5e-2}
	for _, info := range infos {
		if info.Description == "" {
			t.Errorf("%s: no description", info.Name)
		}
		tk := mustNew(t, info.Name, nil)
		if tk.Name() != info.Name {
			t.Errorf("New(%q).Name() = %q", info.Name, tk.Name())
		}
		if tk.Threshold() != thresholds[info.Name] {
			t.Errorf("%s: Threshold() = %g, want %g", info.Name, tk.Threshold(), thresholds[info.Name])
		}
		got := tk.Knobs()
		if len(got) != len(info.Knobs) {
			t.Errorf("%s: Knobs() has %d entries, Info %d", info.Name, len(got), len(info.Knobs))
		}
		for _, k := range info.Knobs {
			if k.Description == "" {
				t.Errorf("%s: knob %s has no description", info.Name, k.Name)
			}
			if got[k.Name] != k.Default {
				t.Errorf("%s: knob %s = %g, want default %g", info.Name, k.Name, got[k.Name], k.Default)
			}
			if k.Default < k.Min || k.Default > k.Max {
				t.Errorf("%s: knob %s default %g outside [%g, %g]", info.Name, k.Name, k.Default, k.Min, k.Max)
			}
		}
		// Knobs returns a copy.
		got["steps"] = -1
		if tk.Knobs()["steps"] == -1 {
			t.Errorf("%s: Knobs() exposes the task's own map", info.Name)
		}
	}
	// List returns copies too.
	infos[0].Knobs[0].Default = -7
	if List()[0].Knobs[0].Default == -7 {
		t.Errorf("List() exposes the registry's knob slice")
	}
}

func TestNewValid(t *testing.T) {
	for _, c := range []struct {
		name    string
		knobs   map[string]float64
		inputs  int
		outputs int
	}{
		{"flipflop", map[string]float64{"bits": 4, "p": 1}, 4, 4},
		{"sine", map[string]float64{"channels": 3}, 3, 3},
		{"delayed", map[string]float64{"channels": 2}, 2, 2},
		{"delayed", map[string]float64{"channels": 2, "aux": 1}, 2, 4},
		{"delayed", map[string]float64{"delay_min": 9, "delay_max": 9}, 1, 1},
		{"pathint", nil, 4, 2},
		{"pathint", map[string]float64{"dims": 3}, 6, 3},
		{"pathint", map[string]float64{"velocity": 0}, 5, 2},
		{"pathint", map[string]float64{"dims": 3, "velocity": 0}, 8, 3},
		{"pathint", map[string]float64{"speed_min": 0.5, "speed_max": 0.5}, 4, 2},
	} {
		tk := mustNew(t, c.name, c.knobs)
		if tk.Inputs() != c.inputs || tk.Outputs() != c.outputs {
			t.Errorf("%s %v: I=%d O=%d, want I=%d O=%d", c.name, c.knobs, tk.Inputs(), tk.Outputs(), c.inputs, c.outputs)
		}
		for k, v := range c.knobs {
			if tk.Knobs()[k] != v {
				t.Errorf("%s: knob %s = %g, want %g", c.name, k, tk.Knobs()[k], v)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		knobs map[string]float64
		want  []string // substrings of the error
	}{
		{"flopflip", nil, []string{`unknown task "flopflip"`, "flipflop, sine, delayed, pathint"}},
		{"", nil, []string{"unknown task"}},
		{"flipflop", map[string]float64{"bit": 3}, []string{`unknown knob "bit"`, "bits, p, steps"}},
		{"flipflop", map[string]float64{"bits": 0}, []string{"bits", "[1, 256]", "got 0"}},
		{"flipflop", map[string]float64{"bits": 2.5}, []string{"bits must be an integer"}},
		{"flipflop", map[string]float64{"p": 0}, []string{"p must be in (0, 1], got 0"}},
		{"flipflop", map[string]float64{"p": 5}, []string{"p must be in (0, 1], got 5"}},
		{"flipflop", map[string]float64{"p": 1.01}, []string{"knob p"}},
		{"flipflop", map[string]float64{"p": math.NaN()}, []string{"p must be finite"}},
		{"flipflop", map[string]float64{"steps": math.Inf(1)}, []string{"steps must be finite"}},
		{"flipflop", map[string]float64{"steps": -5}, []string{"steps"}},
		{"sine", map[string]float64{"fmin": 30, "fmax": 30}, []string{"fmin (30) must be below fmax (30)"}},
		{"sine", map[string]float64{"fmin": 40}, []string{"fmin (40) must be below fmax (30)"}},
		{"sine", map[string]float64{"dt": 0.02}, []string{"Nyquist"}},
		{"sine", map[string]float64{"freqs": 0}, []string{"freqs"}},
		{"sine", map[string]float64{"channels": 1.5}, []string{"channels must be an integer"}},
		{"delayed", map[string]float64{"delay_min": 21}, []string{"delay_min (21) must not exceed delay_max (20)"}},
		{"delayed", map[string]float64{"aux": 2}, []string{"aux"}},
		{"delayed", map[string]float64{"aux": 0.5}, []string{"aux must be an integer"}},
		{"delayed", map[string]float64{"fmin": 0}, []string{"fmin must be positive"}},
		{"delayed", map[string]float64{"fmin": 10}, []string{"fmin (10) must be below fmax (10)"}},
		{"delayed", map[string]float64{"pulse": 0}, []string{"pulse"}},
		{"delayed", map[string]float64{"gap": 4}, []string{"gap (4) must be below half the range"}},
		{"pathint", map[string]float64{"velocity": 2}, []string{"velocity"}},
		{"delayed", map[string]float64{"delay": 5}, []string{`unknown knob "delay"`, "delay_min"}},
		{"pathint", map[string]float64{"dims": 1}, []string{"dims", "[2, 3]"}},
		{"pathint", map[string]float64{"dims": 4}, []string{"dims"}},
		{"pathint", map[string]float64{"dims": 2.5}, []string{"dims must be an integer"}},
		{"pathint", map[string]float64{"arena": 0}, []string{"arena"}},
		{"pathint", map[string]float64{"speed_max": 0}, []string{"speed_max must be positive"}},
		{"pathint", map[string]float64{"speed_min": 0.6}, []string{"speed_min (0.6) must not exceed speed_max (0.5)"}},
		{"pathint", map[string]float64{"speed_max": 6}, []string{"must not exceed the arena half-width"}},
	} {
		tk, err := New(c.name, c.knobs)
		if err == nil {
			t.Errorf("New(%q, %v) = %v, want an error", c.name, c.knobs, tk)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("New(%q, %v) error %q does not mention %q", c.name, c.knobs, err, w)
			}
		}
	}
}

// FuzzNew builds tasks from arbitrary knob values: New must either return an
// error or a task that fills a batch with finite values and a 0/1 mask.
func FuzzNew(f *testing.F) {
	f.Add(uint8(0), uint8(0), 3.0, uint8(1), 0.5)
	f.Add(uint8(1), uint8(4), 0.01, uint8(2), 1.0)
	f.Add(uint8(2), uint8(0), 3.0, uint8(3), 1.0)
	f.Add(uint8(2), uint8(1), 0.0, uint8(2), 0.0)
	f.Add(uint8(3), uint8(0), 3.0, uint8(3), 5.0)
	f.Add(uint8(3), uint8(1), 0.5, uint8(3), 0.5)
	f.Add(uint8(9), uint8(0), math.NaN(), uint8(7), math.Inf(-1))
	f.Fuzz(func(t *testing.T, task, k1 uint8, v1 float64, k2 uint8, v2 float64) {
		infos := List()
		name := "unknown"
		knobs := map[string]float64{}
		if int(task) < len(infos) {
			info := infos[task]
			name = info.Name
			// Knob indices past the list make an unknown knob.
			for _, kv := range []struct {
				k uint8
				v float64
			}{{k1, v1}, {k2, v2}} {
				if int(kv.k) < len(info.Knobs) {
					knobs[info.Knobs[kv.k].Name] = kv.v
				} else if kv.k%16 == 15 {
					knobs["nonsense"] = kv.v
				}
			}
		}
		tk, err := New(name, knobs)
		if err != nil {
			return
		}
		if tk.Inputs() <= 0 || tk.Outputs() <= 0 || tk.Steps(false) <= 0 || tk.Steps(true) < tk.Steps(false) {
			t.Fatalf("%s %v: bad sizes I=%d O=%d T=%d T_ood=%d", name, knobs, tk.Inputs(), tk.Outputs(), tk.Steps(false), tk.Steps(true))
		}
		for _, ood := range []bool{false, true} {
			if tk.Steps(ood)*(tk.Inputs()+2*tk.Outputs()) > 1<<20 {
				continue // valid but too big to fill quickly
			}
			b := NewBatchFor(tk, 2, 2, ood)
			if err := Generate(tk, b, []Key{{1, 2, 3}, {4, 5, 6}}, ood); err != nil {
				t.Fatalf("%s %v: %v", name, knobs, err)
			}
			for _, a := range [][]float32{b.X, b.Y} {
				for i, v := range a {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("%s %v ood=%v: element %d = %v", name, knobs, ood, i, v)
					}
				}
			}
			for i, m := range b.Mask {
				if m != 0 && m != 1 {
					t.Fatalf("%s %v: mask[%d] = %v", name, knobs, i, m)
				}
			}
		}
	})
}

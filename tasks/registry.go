package tasks

import (
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Knob describes one complexity knob of a task: its default, what it means,
// and the values New accepts (Min <= v <= Max, an integer when Integer).
type Knob struct {
	Name        string  `json:"name"`
	Default     float64 `json:"default"`
	Description string  `json:"description"`
	Min         float64 `json:"min"`
	Max         float64 `json:"max"`
	// MinExclusive excludes Min itself: the range is (Min, Max].
	MinExclusive bool `json:"min_exclusive,omitempty"`
	Integer      bool `json:"integer"`
}

// Range returns the knob's range as written in messages: [Min, Max] or
// (Min, Max].
func (k Knob) Range() string {
	open := "["
	if k.MinExclusive {
		open = "("
	}
	return fmt.Sprintf("%s%g, %g]", open, k.Min, k.Max)
}

// Info describes a registered task for listings such as `degen tasks`.
type Info struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Knobs       []Knob `json:"knobs"`
}

// entry is one registered task: its description and a constructor that
// receives every knob, defaults filled in and each checked against its Knob.
type entry struct {
	info  Info
	build func(k map[string]float64) (Task, error)
}

// registry lists the tasks in the order List shows them.
var registry = []entry{
	{flipFlopInfo, func(k map[string]float64) (Task, error) { return newFlipFlop(k) }},
	{sineInfo, func(k map[string]float64) (Task, error) { return newSine(k) }},
	{delayedInfo, func(k map[string]float64) (Task, error) { return newDelayed(k) }},
	{pathIntInfo, func(k map[string]float64) (Task, error) { return newPathInt(k) }},
}

// List returns the registered tasks and their knobs.
func List() []Info {
	out := make([]Info, len(registry))
	for i, e := range registry {
		out[i] = e.info
		out[i].Knobs = slices.Clone(e.info.Knobs)
	}
	return out
}

// Names returns the registered task names in List order.
func Names() []string {
	out := make([]string, len(registry))
	for i, e := range registry {
		out[i] = e.info.Name
	}
	return out
}

// New returns the task called name with the given knob values; knobs not
// given take their defaults. It returns an error for an unknown task, an
// unknown knob, a value outside the knob's range or not an integer where one
// is needed, and for inconsistent combinations (e.g. fmin >= fmax).
func New(name string, knobs map[string]float64) (Task, error) {
	for _, e := range registry {
		if e.info.Name != name {
			continue
		}
		k, err := resolveKnobs(e.info, knobs)
		if err != nil {
			return nil, err
		}
		t, err := e.build(k)
		if err != nil {
			return nil, fmt.Errorf("tasks: %s: %w", name, err)
		}
		return t, nil
	}
	return nil, fmt.Errorf("tasks: unknown task %.60q (known: %s)", name, strings.Join(Names(), ", "))
}

// resolveKnobs fills in defaults and checks every value against its Knob.
func resolveKnobs(info Info, given map[string]float64) (map[string]float64, error) {
	out := make(map[string]float64, len(info.Knobs))
	valid := make([]string, len(info.Knobs))
	for i, k := range info.Knobs {
		out[k.Name] = k.Default
		valid[i] = k.Name
	}
	names := slices.Collect(maps.Keys(given))
	sort.Strings(names)
	for _, name := range names {
		if _, ok := out[name]; !ok {
			return nil, fmt.Errorf("tasks: %s: unknown knob %.60q (valid: %s)", info.Name, name, strings.Join(valid, ", "))
		}
		out[name] = given[name]
	}
	for _, k := range info.Knobs {
		v := out[k.Name]
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return nil, fmt.Errorf("tasks: %s: knob %s must be finite, got %g", info.Name, k.Name, v)
		case k.Integer && v != math.Trunc(v):
			return nil, fmt.Errorf("tasks: %s: knob %s must be an integer, got %g", info.Name, k.Name, v)
		case v < k.Min || v > k.Max || k.MinExclusive && v == k.Min:
			return nil, fmt.Errorf("tasks: %s: knob %s must be in %s, got %g", info.Name, k.Name, k.Range(), v)
		}
	}
	return out, nil
}

// NewBatchFor allocates a zeroed batch of n slots and the given number of
// trials, sized for t (T = t.Steps(ood), I = t.Inputs(), O = t.Outputs()).
func NewBatchFor(t Task, n, trials int, ood bool) *Batch {
	return NewBatch(n, trials, t.Steps(ood), t.Inputs(), t.Outputs())
}

// CheckBatch returns an error when b does not have t's shape for ood.
func CheckBatch(t Task, b *Batch, ood bool) error {
	if err := b.Check(); err != nil {
		return err
	}
	if b.T != t.Steps(ood) || b.I != t.Inputs() || b.O != t.Outputs() {
		return fmt.Errorf("tasks: %s (ood=%v) needs T=%d I=%d O=%d, batch has T=%d I=%d O=%d",
			t.Name(), ood, t.Steps(ood), t.Inputs(), t.Outputs(), b.T, b.I, b.O)
	}
	return nil
}

// Generate fills slot n of b with the trials of keys[n], for every slot
// (b.N must equal len(keys)). Slots are filled in parallel over the cores
// when there is more than one.
func Generate(t Task, b *Batch, keys []Key, ood bool) error {
	if err := CheckBatch(t, b, ood); err != nil {
		return err
	}
	if len(keys) != b.N {
		return fmt.Errorf("tasks: generate %s: %d keys for a batch of N=%d", t.Name(), len(keys), b.N)
	}
	workers := min(runtime.GOMAXPROCS(0), b.N)
	if workers <= 1 {
		for n, k := range keys {
			t.Fill(b, n, k, ood)
		}
		return nil
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := w; n < b.N; n += workers {
				t.Fill(b, n, keys[n], ood)
			}
		}()
	}
	wg.Wait()
	return nil
}

// slot checks that b fits t and that n is one of its slots, and returns the
// slot's X, Y and Mask, zeroed. Fill methods call it first; a mismatch is a
// programming error (Generate checks the same and returns an error), so it
// panics.
func slot(t Task, b *Batch, n int, ood bool) (x, y, mask []float32) {
	if err := CheckBatch(t, b, ood); err != nil {
		panic(err)
	}
	if n < 0 || n >= b.N {
		panic(fmt.Sprintf("tasks: %s: slot %d outside batch of N=%d", t.Name(), n, b.N))
	}
	nx, ny := b.T*b.B*b.I, b.T*b.B*b.O
	x, y, mask = b.X[n*nx:(n+1)*nx], b.Y[n*ny:(n+1)*ny], b.Mask[n*ny:(n+1)*ny]
	clear(x)
	clear(y)
	clear(mask)
	return x, y, mask
}

// copyKnobs returns a copy of k for Task.Knobs.
func copyKnobs(k map[string]float64) map[string]float64 { return maps.Clone(k) }

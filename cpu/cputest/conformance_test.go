package cputest

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"degen"
	"degen/cpu"
	"degen/tasks"
)

// recorder is a testing.TB that records failures instead of reporting them,
// so the suite can be shown to fail on faulty backends.
type recorder struct {
	testing.TB
	msgs []string
}

func (r *recorder) Helper()             {}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// faulty wraps the float32 CPU backend and breaks one thing.
type faulty struct {
	*cpu.Backend
	fault string
}

func (f *faulty) Evaluate(bt *tasks.Batch, out, states, loss []float32) error {
	switch f.fault {
	case "write past end":
		defer func() { out[:cap(out)][len(out)] = 0 }()
	case "skip states":
		states = nil
	}
	return f.Backend.Evaluate(bt, out, states, loss)
}

func (f *faulty) Gradients(bt *tasks.Batch, hp *degen.Hyper, grad, loss []float32) error {
	err := f.Backend.Gradients(bt, hp, grad, loss)
	switch f.fault {
	case "perturb gradient":
		grad[len(grad)-1-f.Dims().O] *= 1 + 1e-3
	case "drop nuclear":
		h := *hp
		h.Nuclear = nil
		err = f.Backend.Gradients(bt, &h, grad, loss)
	}
	return err
}

func (f *faulty) Step(bt *tasks.Batch, hp *degen.Hyper, active []bool, loss []float32) error {
	switch f.fault {
	case "ignore freeze":
		active = make([]bool, len(active))
		for s := range active {
			active[s] = true
		}
	case "no clipping":
		h := *hp
		h.ClipNorm = 0
		hp = &h
	}
	return f.Backend.Step(bt, hp, active, loss)
}

// TestSuiteCatchesFaults runs one case on the correct float32 backend (it
// must pass) and on backends with one fault each (they must fail).
func TestSuiteCatchesFaults(t *testing.T) {
	c := Case{Cell: degen.Rate, S: 6, B: 3, T: 4, I: 2, H: 33, O: 2}
	for _, fault := range []string{"", "write past end", "skip states", "perturb gradient", "drop nuclear", "ignore freeze", "no clipping"} {
		t.Run(fmt.Sprintf("fault=%q", fault), func(t *testing.T) {
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				RunCase(r, c, 3, func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
					b, err := cpu.New(d, m, gamma)
					return &faulty{Backend: b, fault: fault}, err
				}, Float32())
			}()
			<-done
			switch {
			case fault == "" && len(r.msgs) > 0:
				t.Errorf("correct backend failed: %q", r.msgs)
			case fault != "" && len(r.msgs) == 0:
				t.Errorf("fault %q went unnoticed", fault)
			default:
				t.Logf("%d failures, first: %q", len(r.msgs), append(r.msgs, "")[0])
			}
		})
	}
}

// TestCompareNaNDoesNotMaskFailure checks that an element where both got
// and want are NaN neither hides an earlier failing element nor passes.
func TestCompareNaNDoesNotMaskFailure(t *testing.T) {
	nan := float32(math.NaN())
	tol := Tol{Atol: 1e-6, Rtol: 1e-5}
	for _, c := range []struct {
		name      string
		got, want []float32
	}{
		{"failure then NaN", []float32{2, nan, 1}, []float32{1, nan, 1}},
		{"NaN last", []float32{1, 1, nan}, []float32{1, 1, nan}},
		{"NaN first", []float32{nan, 1, 1}, []float32{nan, 1, 1}},
	} {
		r := &recorder{TB: t}
		compare(r, c.name, c.got, c.want, []int{len(c.want)}, tol)
		if len(r.msgs) == 0 {
			t.Errorf("%s: compare(%v, %v) passed", c.name, c.got, c.want)
		}
	}
}

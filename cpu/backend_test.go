package cpu

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"degen"
	"degen/tasks"
)

// TestAdamTextbook checks adam against the textbook form
// p -= lr * mhat / (sqrt(vhat) + eps), mhat = m/(1-beta1^t), vhat = v/(1-beta2^t),
// over several steps with changing gradients, in float64.
func TestAdamTextbook(t *testing.T) {
	p := []float64{0.5, -0.3, 0, 2}
	m, v := make([]float64, 4), make([]float64, 4)
	wp, wm, wv := slices.Clone(p), make([]float64, 4), make([]float64, 4)
	grads := [][]float64{{0.1, -0.2, 1e-3, 0}, {0.05, 0.1, -2, 0}, {-0.3, 0.1, 0.5, 1e-9}}
	const lr = 0.01
	for k, g := range grads {
		step := int32(k + 1)
		adam(p, m, v, g, lr, step)
		for i := range wp {
			wm[i] = degen.AdamBeta1*wm[i] + (1-degen.AdamBeta1)*g[i]
			wv[i] = degen.AdamBeta2*wv[i] + (1-degen.AdamBeta2)*g[i]*g[i]
			mhat := wm[i] / (1 - math.Pow(degen.AdamBeta1, float64(step)))
			vhat := wv[i] / (1 - math.Pow(degen.AdamBeta2, float64(step)))
			wp[i] -= lr * mhat / (math.Sqrt(vhat) + degen.AdamEps)
		}
		for i := range wp {
			if math.Abs(p[i]-wp[i]) > 1e-14 || math.Abs(m[i]-wm[i]) > 1e-15 || math.Abs(v[i]-wv[i]) > 1e-15 {
				t.Errorf("step %d element %d: p, m, v = %.17g, %g, %g, want %.17g, %g, %g", step, i, p[i], m[i], v[i], wp[i], wm[i], wv[i])
			}
		}
	}
	// The first step from zero moments moves every parameter by lr*sign(g)
	// (up to eps), the property that makes Adam's first step scale-free.
	q := []float32{1, 1}
	adam(q, make([]float32, 2), make([]float32, 2), []float32{3e-4, -7}, lr, 1)
	if math.Abs(float64(q[0])-(1-lr)) > 1e-6 || math.Abs(float64(q[1])-(1+lr)) > 1e-6 {
		t.Errorf("first float32 step gave %v, want [%g %g]", q, 1-lr, 1+lr)
	}
}

// TestClip checks clip on a 3-4-5 gradient.
func TestClip(t *testing.T) {
	for _, c := range []struct {
		norm float64
		want []float64
	}{{0, []float64{3, 4}}, {10, []float64{3, 4}}, {5, []float64{3, 4}}, {1, []float64{0.6, 0.8}}, {2.5, []float64{1.5, 2}}} {
		g := []float64{3, 4}
		clip(g, c.norm)
		for i := range g {
			if math.Abs(g[i]-c.want[i]) > 1e-15 {
				t.Errorf("clip to %g: got %v, want %v", c.norm, g, c.want)
				break
			}
		}
	}
}

// setup builds a float64 or float32 backend of model m with initial
// parameters, warm Adam moments and step counts, and returns it with the
// state it was given.
func setup(t *testing.T, float64s bool, m degen.Model, d degen.Dims) (*Backend, *degen.TrainState) {
	t.Helper()
	newB := New
	if float64s {
		newB = NewFloat64
	}
	b, err := newB(d, m, gammas(d.S))
	if err != nil {
		t.Fatal(err)
	}
	st := initState(m, d, 5)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range st.AdamM {
		st.AdamM[i] = float32(0.01 * (2*rng.Float64() - 1))
		st.AdamV[i] = float32(1e-4 * rng.Float64())
	}
	for s := range st.AdamStep {
		st.AdamStep[s] = int32(3 * s)
	}
	if err := b.SetState(st); err != nil {
		t.Fatal(err)
	}
	return b, st
}

// TestStepComposition checks, in float64, that Step equals Gradients, then
// clipping by hand, then the textbook Adam update, network by network, and
// that frozen networks keep their state bit for bit.
func TestStepComposition(t *testing.T) {
	for _, m := range []degen.Model{vanilla(9), rate(9)} {
		t.Run(string(m.Cell), func(t *testing.T) {
			d := degen.Dims{S: 5, B: 4, T: 6, I: 3, H: 9, O: 2}
			l := degen.NewLayout(d.H, d.I, d.O)
			b, st := setup(t, true, m, d)
			bt := randomBatch(rand.New(rand.NewPCG(3, 4)), d.S, d.B, d.T, d.I, d.O, 0.8)
			hp := &degen.Hyper{LR: []float32{1e-3, 2e-3, 1e-3, 5e-4, 1e-3}, L1: []float32{0, 1e-3, 0, 1e-2, 0}, Nuclear: []float32{1e-2, 0, 0, 1e-2, 0}}
			grad, loss := make([]float32, d.S*l.P), make([]float32, d.S)
			if err := b.Gradients(bt, hp, grad, loss); err != nil {
				t.Fatal(err)
			}
			norms := make([]float64, d.S)
			for s := range d.S {
				for _, g := range grad[s*l.P : (s+1)*l.P] {
					norms[s] += float64(g) * float64(g)
				}
				norms[s] = math.Sqrt(norms[s])
			}
			sorted := slices.Sorted(slices.Values(norms))
			hp.ClipNorm = float32(sorted[2]) // networks above the median clip
			active := []bool{true, false, true, true, false}
			stepLoss := make([]float32, d.S)
			if err := b.Step(bt, hp, active, stepLoss); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(loss, stepLoss) {
				t.Errorf("Step loss %v differs from Gradients loss %v", stepLoss, loss)
			}
			after := degen.NewTrainState(d.S, l)
			if err := b.State(after); err != nil {
				t.Fatal(err)
			}
			for s := range d.S {
				lo, hi := s*l.P, (s+1)*l.P
				if !active[s] {
					if !slices.Equal(after.Params[lo:hi], st.Params[lo:hi]) || !slices.Equal(after.AdamM[lo:hi], st.AdamM[lo:hi]) ||
						!slices.Equal(after.AdamV[lo:hi], st.AdamV[lo:hi]) || after.AdamStep[s] != st.AdamStep[s] {
						t.Errorf("frozen network %d changed", s)
					}
					continue
				}
				scale := 1.0
				if norms[s] > float64(hp.ClipNorm) {
					scale = float64(hp.ClipNorm) / norms[s]
				}
				step := st.AdamStep[s] + 1
				if after.AdamStep[s] != step {
					t.Errorf("network %d: step count %d, want %d", s, after.AdamStep[s], step)
				}
				worst := 0.0
				for i := lo; i < hi; i++ {
					g := float64(grad[i]) * scale
					mm := degen.AdamBeta1*float64(st.AdamM[i]) + (1-degen.AdamBeta1)*g
					vv := degen.AdamBeta2*float64(st.AdamV[i]) + (1-degen.AdamBeta2)*g*g
					mhat := mm / (1 - math.Pow(degen.AdamBeta1, float64(step)))
					vhat := vv / (1 - math.Pow(degen.AdamBeta2, float64(step)))
					p := float64(st.Params[i]) - float64(hp.LR[s])*mhat/(math.Sqrt(vhat)+degen.AdamEps)
					worst = max(worst, math.Abs(float64(after.Params[i])-p)/(1e-7+1e-6*math.Abs(p)),
						math.Abs(float64(after.AdamM[i])-mm)/(1e-9+1e-6*math.Abs(mm)),
						math.Abs(float64(after.AdamV[i])-vv)/(1e-12+1e-6*math.Abs(vv)))
				}
				if worst > 1 {
					t.Errorf("network %d (clip scale %.3g): Step differs from Gradients+clip+Adam, %.3g of tolerance", s, scale, worst)
				}
			}
			if sorted[4] <= float64(hp.ClipNorm) {
				t.Fatal("no network clipped; the test would not test clipping")
			}
		})
	}
}

// TestSharedBatch checks that a shared batch (N=1) gives bit for bit what
// the same trials copied into every slot (N=S) give.
func TestSharedBatch(t *testing.T) {
	for _, m := range []degen.Model{vanilla(33), rate(33)} {
		for _, f64 := range []bool{false, true} {
			d := degen.Dims{S: 3, B: 5, T: 7, I: 2, H: 33, O: 3}
			l := degen.NewLayout(d.H, d.I, d.O)
			b, _ := setup(t, f64, m, d)
			shared := randomBatch(rand.New(rand.NewPCG(9, 9)), 1, d.B, d.T, d.I, d.O, 0.5)
			copies := tasks.NewBatch(d.S, d.B, d.T, d.I, d.O)
			for s := range d.S {
				copy(copies.X[s*len(shared.X):], shared.X)
				copy(copies.Y[s*len(shared.Y):], shared.Y)
				copy(copies.Mask[s*len(shared.Mask):], shared.Mask)
			}
			hp := &degen.Hyper{L1: []float32{0, 1e-3, 1e-3}, Nuclear: []float32{1e-3, 0, 1e-3}}
			var outs, grads [2][]float32
			for k, bt := range []*tasks.Batch{shared, copies} {
				outs[k] = make([]float32, d.S*d.T*d.B*(d.O+d.H)+d.S)
				grads[k] = make([]float32, d.S*l.P+d.S)
				o := outs[k]
				if err := b.Evaluate(bt, o[:d.S*d.T*d.B*d.O], o[d.S*d.T*d.B*d.O:d.S*d.T*d.B*(d.O+d.H)], o[d.S*d.T*d.B*(d.O+d.H):]); err != nil {
					t.Fatal(err)
				}
				if err := b.Gradients(bt, hp, grads[k][:d.S*l.P], grads[k][d.S*l.P:]); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(outs[0], outs[1]) || !slices.Equal(grads[0], grads[1]) {
				t.Errorf("%s float64=%v: shared and copied batches differ", m.Cell, f64)
			}
		}
	}
}

// TestNaNIsolation checks that a NaN in one network's parameters leaves
// every other network's losses, outputs, gradients and updated state bit for
// bit as they are without it, and shows up in that network's loss.
func TestNaNIsolation(t *testing.T) {
	for _, m := range []degen.Model{vanilla(16), rate(16)} {
		for _, where := range []string{"W_hh", "b_out"} {
			d := degen.Dims{S: 4, B: 3, T: 5, I: 2, H: 16, O: 2}
			l := degen.NewLayout(d.H, d.I, d.O)
			bt := randomBatch(rand.New(rand.NewPCG(5, 5)), d.S, d.B, d.T, d.I, d.O, 0.7)
			hp := &degen.Hyper{LR: []float32{1e-3, 1e-3, 1e-3, 1e-3}, L1: []float32{1e-3, 1e-3, 1e-3, 1e-3}, Nuclear: []float32{1e-3, 1e-3, 1e-3, 1e-3}, ClipNorm: 0.5}
			type result struct {
				out, grad, loss, stepLoss []float32
				st                        *degen.TrainState
			}
			run := func(poison bool) result {
				b, st := setup(t, false, m, d)
				if poison {
					off := l.Whh
					if where == "b_out" {
						off = l.Bout
					}
					st.Params[2*l.P+off] = float32(math.NaN())
					if err := b.SetState(st); err != nil {
						t.Fatal(err)
					}
				}
				r := result{out: make([]float32, d.S*d.T*d.B*d.O), grad: make([]float32, d.S*l.P), loss: make([]float32, d.S), stepLoss: make([]float32, d.S), st: degen.NewTrainState(d.S, l)}
				if err := b.Evaluate(bt, r.out, nil, r.loss); err != nil {
					t.Fatal(err)
				}
				if err := b.Gradients(bt, hp, r.grad, r.loss); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if err := b.Step(bt, hp, []bool{true, true, true, true}, r.stepLoss); err != nil {
						t.Fatal(err)
					}
				}
				if err := b.State(r.st); err != nil {
					t.Fatal(err)
				}
				return r
			}
			clean, dirty := run(false), run(true)
			if !math.IsNaN(float64(dirty.loss[2])) || !math.IsNaN(float64(dirty.stepLoss[2])) {
				t.Errorf("%s NaN in %s: poisoned network's loss %g, %g, want NaN", m.Cell, where, dirty.loss[2], dirty.stepLoss[2])
			}
			for _, s := range []int{0, 1, 3} {
				p, o := s*l.P, s*d.T*d.B*d.O
				if !slices.Equal(clean.out[o:o+d.T*d.B*d.O], dirty.out[o:o+d.T*d.B*d.O]) ||
					!slices.Equal(clean.grad[p:p+l.P], dirty.grad[p:p+l.P]) ||
					clean.loss[s] != dirty.loss[s] || clean.stepLoss[s] != dirty.stepLoss[s] ||
					!slices.Equal(clean.st.Params[p:p+l.P], dirty.st.Params[p:p+l.P]) ||
					!slices.Equal(clean.st.AdamV[p:p+l.P], dirty.st.AdamV[p:p+l.P]) {
					t.Errorf("%s NaN in %s of network 2: network %d changed", m.Cell, where, s)
				}
			}
		}
	}
}

// TestLongerEvaluation checks that Evaluate accepts trials longer than
// Dims().T and that their first T steps match a T-step evaluation.
func TestLongerEvaluation(t *testing.T) {
	for _, m := range []degen.Model{vanilla(20), rate(20)} {
		d := degen.Dims{S: 3, B: 4, T: 5, I: 2, H: 20, O: 2}
		b, _ := setup(t, false, m, d)
		long := randomBatch(rand.New(rand.NewPCG(1, 1)), d.S, d.B, 2*d.T, d.I, d.O, 1)
		short := tasks.NewBatch(d.S, d.B, d.T, d.I, d.O)
		for s := range d.S {
			copy(short.X[s*d.T*d.B*d.I:(s+1)*d.T*d.B*d.I], long.X[s*2*d.T*d.B*d.I:])
		}
		outL, stL := make([]float32, d.S*2*d.T*d.B*d.O), make([]float32, d.S*2*d.T*d.B*d.H)
		outS, stS := make([]float32, d.S*d.T*d.B*d.O), make([]float32, d.S*d.T*d.B*d.H)
		if err := b.Evaluate(long, outL, stL, make([]float32, d.S)); err != nil {
			t.Fatal(err)
		}
		if err := b.Evaluate(short, outS, stS, make([]float32, d.S)); err != nil {
			t.Fatal(err)
		}
		for s := range d.S {
			n := d.T * d.B * d.H
			for i := range n {
				if math.Abs(float64(stS[s*n+i]-stL[s*2*n+i])) > 1e-6 {
					t.Fatalf("%s network %d: state %d differs: %g (T) vs %g (2T)", m.Cell, s, i, stS[s*n+i], stL[s*2*n+i])
				}
			}
		}
	}
}

// TestArgumentErrors checks that bad arguments give errors that say what
// is wrong, and no panics.
func TestArgumentErrors(t *testing.T) {
	d := degen.Dims{S: 2, B: 3, T: 4, I: 2, H: 5, O: 1}
	l := degen.NewLayout(d.H, d.I, d.O)
	good, err := New(d, vanilla(5), nil)
	if err != nil {
		t.Fatal(err)
	}
	bt := tasks.NewBatch(d.S, d.B, d.T, d.I, d.O)
	hp := &degen.Hyper{LR: []float32{1, 1}}
	for _, c := range []struct {
		name, want string
		err        error
	}{
		{"zero S", "networks S", func() error { _, err := New(degen.Dims{B: 1, T: 1, I: 1, H: 5, O: 1}, vanilla(5), nil); return err }()},
		{"H mismatch", "hidden size 6", func() error { _, err := New(d, vanilla(6), nil); return err }()},
		{"rate without gamma", "gamma has 0", func() error { _, err := New(d, rate(5), nil); return err }()},
		{"negative gamma", "gamma[1]", func() error { _, err := New(d, rate(5), []float32{1, -1}); return err }()},
		{"bad tau", "tau", func() error { _, err := New(d, degen.Model{Cell: degen.Rate, H: 5}, []float32{1, 1}); return err }()},
		{"short state", "train state", good.SetState(degen.NewTrainState(1, l))},
		{"batch B", "want B=3", good.Evaluate(tasks.NewBatch(d.S, 4, d.T, d.I, d.O), make([]float32, 100), nil, make([]float32, 2))},
		{"batch N", "N=3", good.Evaluate(tasks.NewBatch(3, d.B, d.T, d.I, d.O), make([]float32, 100), nil, make([]float32, 2))},
		{"short out", "out has 5", good.Evaluate(bt, make([]float32, 5), nil, make([]float32, 2))},
		{"short loss", "loss has 1", good.Evaluate(bt, make([]float32, 100), nil, make([]float32, 1))},
		{"active length", "active has 1", good.Step(bt, hp, []bool{true}, make([]float32, 2))},
		{"LR length", "LR has 0", good.Step(bt, &degen.Hyper{}, []bool{true, true}, make([]float32, 2))},
		{"negative clip", "ClipNorm", good.Step(bt, &degen.Hyper{LR: []float32{1, 1}, ClipNorm: -1}, []bool{true, true}, make([]float32, 2))},
		{"short grad", "grad has 3", good.Gradients(bt, hp, make([]float32, 3), make([]float32, 2))},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

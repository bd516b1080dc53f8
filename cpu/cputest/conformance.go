package cputest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"degen"
	"degen/cpu"
	"degen/tasks"
)

// Tol is the tolerance for one kind of tensor: an element passes when
//
//	|got - want| <= Atol * rms(want) + Rtol * |want|
//
// where rms(want) is the root mean square of the reference tensor (1 when it
// is all zeros), so one Atol serves tensors of any scale.
type Tol struct{ Atol, Rtol float64 }

// Tolerances are the tolerances per kind of compared tensor.
type Tolerances struct {
	Outputs Tol // Evaluate outputs (S, T, B, O)
	States  Tol // Evaluate hidden states (S, T, B, H)
	Loss    Tol // masked MSE (S) from Evaluate, Gradients and Step
	Grad    Tol // Gradients, per layout tensor (S, ...)
	Params  Tol // parameters after Steps, per layout tensor
	Moments Tol // Adam first and second moments after Steps, per layout tensor
}

// Float32 returns tolerances for a backend that computes in float32. They
// are about ten times the worst error the float32 CPU backend shows against
// the float64 reference over the full size table (the worst fractions of
// these tolerances it uses: states 0.12, outputs 0.06, gradients 0.05,
// losses 0.012, parameters 0.07, first moments 0.02, second moments 0.003).
func Float32() Tolerances {
	return Tolerances{
		Outputs: Tol{Atol: 4e-6, Rtol: 4e-5},
		States:  Tol{Atol: 4e-6, Rtol: 4e-5},
		Loss:    Tol{Atol: 1e-7, Rtol: 1e-5},
		Grad:    Tol{Atol: 1e-5, Rtol: 1e-4},
		Params:  Tol{Atol: 2e-7, Rtol: 2e-6},
		Moments: Tol{Atol: 1e-5, Rtol: 1e-4},
	}
}

// Case is one ensemble the suite builds.
type Case struct {
	Cell             degen.Cell
	S, B, T, I, H, O int
}

func (c Case) String() string {
	return fmt.Sprintf("%s/S=%d/B=%d/T=%d/I=%d/H=%d/O=%d", c.Cell, c.S, c.B, c.T, c.I, c.H, c.O)
}

// sizes straddle warp (32) and block (64, 128) boundaries in H, use S = 1
// and S above an H100's 132 multiprocessors, and odd B and T.
var sizes = []struct {
	S, B, T, I, H, O int
	short            bool
}{
	{S: 1, B: 3, T: 5, I: 2, H: 31, O: 3, short: true},
	{S: 7, B: 5, T: 7, I: 3, H: 32, O: 2, short: true},
	{S: 135, B: 3, T: 4, I: 1, H: 33, O: 1, short: true},
	{S: 3, B: 33, T: 3, I: 3, H: 33, O: 3},
	{S: 2, B: 9, T: 11, I: 4, H: 64, O: 2, short: true},
	{S: 1, B: 65, T: 3, I: 3, H: 127, O: 3},
	{S: 5, B: 3, T: 6, I: 2, H: 128, O: 3},
	{S: 3, B: 5, T: 3, I: 3, H: 129, O: 2},
	{S: 133, B: 3, T: 3, I: 3, H: 65, O: 2},
}

// Cases returns the size table for both cells; short keeps a fast subset.
func Cases(short bool) []Case {
	var cs []Case
	for _, cell := range []degen.Cell{degen.Vanilla, degen.Rate} {
		for _, z := range sizes {
			if short && !z.short {
				continue
			}
			cs = append(cs, Case{Cell: cell, S: z.S, B: z.B, T: z.T, I: z.I, H: z.H, O: z.O})
		}
	}
	return cs
}

// Conformance runs every case of Cases(testing.Short()) on the backends
// newBackend makes, comparing against cpu.NewFloat64 within tol. name
// prefixes the subtests.
func Conformance(t *testing.T, name string, newBackend func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error), tol Tolerances) {
	for i, c := range Cases(testing.Short()) {
		t.Run(name+"/"+c.String(), func(t *testing.T) {
			RunCase(t, c, uint64(i), newBackend, tol)
		})
	}
}

// RunCase builds case c on the backend under test and on the float64
// reference from seed and compares, in order: Evaluate on per-network
// trials, Gradients on shared trials one step shorter (with L1 and nuclear
// penalties on some networks), and three Steps from a warm Adam state with
// every fourth network frozen and clipping active on every third (those
// with a strong L1 penalty). Frozen networks must keep their parameters,
// moments and step counts bit for bit.
func RunCase(t testing.TB, c Case, seed uint64, newBackend func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error), tol Tolerances) {
	d := degen.Dims{S: c.S, B: c.B, T: c.T, I: c.I, H: c.H, O: c.O}
	m := degen.Model{Cell: c.Cell, H: c.H, Tau: 0.2}
	l := degen.NewLayout(d.H, d.I, d.O)
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	gamma := make([]float32, d.S)
	for s := range gamma {
		gamma[s] = []float32{0.5, 1, 2}[s%3]
	}
	got, err := newBackend(d, m, gamma)
	if err != nil {
		t.Fatalf("backend under test: %v", err)
	}
	defer got.Close()
	want, err := cpu.NewFloat64(d, m, gamma)
	if err != nil {
		t.Fatalf("reference: %v", err)
	}
	defer want.Close()
	if got.Dims() != d {
		t.Fatalf("Dims() = %+v, want %+v", got.Dims(), d)
	}

	// Parameters from the models' own initialisation, with random biases so
	// that the rate cell's bias paths matter too.
	st := degen.NewTrainState(d.S, l)
	for s := range d.S {
		p := st.Params[s*l.P : (s+1)*l.P]
		degen.InitParams(m, l, seed, uint64(s), p)
		for i := l.Bh; i < l.Wout; i++ {
			p[i] = float32(0.2 * (2*rng.Float64() - 1))
		}
		for i := l.Bout; i < l.P; i++ {
			p[i] = float32(0.2 * (2*rng.Float64() - 1))
		}
	}
	setBoth(t, got, want, st)

	// Evaluate on per-network trials.
	bt := randomBatch(rng, d.S, d.B, d.T, d.I, d.O)
	nOut, nStates := d.S*d.T*d.B*d.O, d.S*d.T*d.B*d.H
	out, states, loss := guarded(nOut), guarded(nStates), guarded(d.S)
	if err := got.Evaluate(bt, out, states, loss); err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	wOut, wStates, wLoss := make([]float32, nOut), make([]float32, nStates), make([]float32, d.S)
	if err := want.Evaluate(bt, wOut, wStates, wLoss); err != nil {
		t.Fatalf("reference Evaluate: %v", err)
	}
	checkGuard(t, "Evaluate out", out)
	checkGuard(t, "Evaluate states", states)
	checkGuard(t, "Evaluate loss", loss)
	compare(t, "Evaluate outputs", out, wOut, []int{d.S, d.T, d.B, d.O}, tol.Outputs)
	compare(t, "Evaluate states", states, wStates, []int{d.S, d.T, d.B, d.H}, tol.States)
	compare(t, "Evaluate loss", loss, wLoss, []int{d.S}, tol.Loss)

	// Gradients on shared trials, one step shorter when possible. The
	// nuclear norm is on for even networks. L1 is off for networks s%3 == 1,
	// weak for s%3 == 2 and, for s%3 == 0, strong enough that its gradient
	// norm is four times the largest unregularised one: those networks then
	// clip at ClipNorm (twice the largest unregularised norm) and the others
	// do not.
	shared := randomBatch(rng, 1, d.B, max(d.T-1, 1), d.I, d.O)
	hp := &degen.Hyper{LR: make([]float32, d.S), L1: make([]float32, d.S), Nuclear: make([]float32, d.S)}
	for s := range d.S {
		hp.LR[s] = 1e-3 * gamma[s]
		if s%2 == 0 {
			hp.Nuclear[s] = 2e-3
		}
	}
	wGrad, wgLoss := make([]float32, d.S*l.P), make([]float32, d.S)
	if err := want.Gradients(shared, hp, wGrad, wgLoss); err != nil {
		t.Fatalf("reference Gradients: %v", err)
	}
	maxNorm := 0.0
	for s := range d.S {
		maxNorm = max(maxNorm, norm(wGrad[s*l.P:(s+1)*l.P]))
	}
	sqrtWeights := math.Sqrt(float64(d.H*d.H + d.H*d.I + d.O*d.H))
	for s := range d.S {
		switch s % 3 {
		case 0:
			hp.L1[s] = float32(4 * maxNorm / sqrtWeights)
		case 2:
			hp.L1[s] = float32(0.05 * maxNorm / sqrtWeights)
		}
	}
	hp.ClipNorm = float32(2 * maxNorm)
	grad, gLoss := guarded(d.S*l.P), guarded(d.S)
	if err := got.Gradients(shared, hp, grad, gLoss); err != nil {
		t.Fatalf("Gradients: %v", err)
	}
	if err := want.Gradients(shared, hp, wGrad, wgLoss); err != nil {
		t.Fatalf("reference Gradients: %v", err)
	}
	checkGuard(t, "Gradients grad", grad)
	checkGuard(t, "Gradients loss", gLoss)
	compare(t, "Gradients loss", gLoss, wgLoss, []int{d.S}, tol.Loss)
	compareLayout(t, "Gradients", grad, wGrad, d.S, l, tol.Grad)

	// Steps from a warm Adam state (as after resuming): moments on the
	// scale of each network's gradient so the update is well conditioned,
	// step counts that differ per network, and some networks frozen.
	for s := range d.S {
		rms := norm(wGrad[s*l.P:(s+1)*l.P]) / math.Sqrt(float64(l.P))
		for i := s * l.P; i < (s+1)*l.P; i++ {
			st.AdamM[i] = float32(rms * (2*rng.Float64() - 1))
			st.AdamV[i] = float32(rms * rms * (0.5 + rng.Float64()))
		}
		st.AdamStep[s] = int32(5 + s%3)
	}
	setBoth(t, got, want, st)
	active := make([]bool, d.S)
	for s := range active {
		active[s] = d.S == 1 || s%4 != 1
	}
	for k := range 3 {
		bt := randomBatch(rng, d.S, d.B, d.T, d.I, d.O)
		sLoss, wsLoss := guarded(d.S), make([]float32, d.S)
		if err := got.Step(bt, hp, active, sLoss); err != nil {
			t.Fatalf("Step %d: %v", k, err)
		}
		if err := want.Step(bt, hp, active, wsLoss); err != nil {
			t.Fatalf("reference Step %d: %v", k, err)
		}
		checkGuard(t, "Step loss", sLoss)
		compare(t, fmt.Sprintf("Step %d loss", k), sLoss, wsLoss, []int{d.S}, tol.Loss)
	}
	gotSt, wantSt := guardedState(d.S, l), degen.NewTrainState(d.S, l)
	if err := got.State(gotSt); err != nil {
		t.Fatalf("State: %v", err)
	}
	if err := want.State(wantSt); err != nil {
		t.Fatalf("reference State: %v", err)
	}
	for _, v := range [][]float32{gotSt.Params, gotSt.AdamM, gotSt.AdamV} {
		checkGuard(t, "State", v)
	}
	compareLayout(t, "Step params", gotSt.Params, wantSt.Params, d.S, l, tol.Params)
	compareLayout(t, "Step Adam m", gotSt.AdamM, wantSt.AdamM, d.S, l, tol.Moments)
	compareLayout(t, "Step Adam v", gotSt.AdamV, wantSt.AdamV, d.S, l, tol.Moments)
	for s := range d.S {
		wantStep := st.AdamStep[s]
		if active[s] {
			wantStep += 3
		}
		if gotSt.AdamStep[s] != wantStep {
			t.Errorf("network %d: Adam step %d, want %d", s, gotSt.AdamStep[s], wantStep)
		}
		if active[s] {
			continue
		}
		for _, f := range []struct {
			name      string
			got, want []float32
		}{{"params", gotSt.Params, st.Params}, {"Adam m", gotSt.AdamM, st.AdamM}, {"Adam v", gotSt.AdamV, st.AdamV}} {
			for i := s * l.P; i < (s+1)*l.P; i++ {
				if math.Float32bits(f.got[i]) != math.Float32bits(f.want[i]) {
					t.Errorf("frozen network %d: %s[%d] changed from %g to %g", s, f.name, i-s*l.P, f.want[i], f.got[i])
					break
				}
			}
		}
	}
}

// norm returns the L2 norm of v.
func norm(v []float32) float64 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	return math.Sqrt(ss)
}

// setBoth uploads st to both backends.
func setBoth(t testing.TB, got, want degen.Backend, st *degen.TrainState) {
	t.Helper()
	if err := got.SetState(st); err != nil {
		t.Fatalf("SetState: %v", err)
	}
	if err := want.SetState(st); err != nil {
		t.Fatalf("reference SetState: %v", err)
	}
}

// randomBatch returns N slots of trials with inputs and targets uniform in
// [-1, 1] and a mask that scores 70% of the outputs.
func randomBatch(rng *rand.Rand, n, b, t, in, out int) *tasks.Batch {
	bt := tasks.NewBatch(n, b, t, in, out)
	for i := range bt.X {
		bt.X[i] = float32(2*rng.Float64() - 1)
	}
	for i := range bt.Y {
		bt.Y[i] = float32(2*rng.Float64() - 1)
		if rng.Float64() < 0.7 {
			bt.Mask[i] = 1
		}
	}
	return bt
}

// guardLen is the number of NaN elements behind every output slice.
const guardLen = 67

// guardBits is the NaN payload that fills outputs and their guard regions,
// so that a backend's own NaN cannot be mistaken for it.
const guardBits = 0x7fc0dead

// guarded returns a slice of length n, filled with the guard NaN, whose
// backing array continues with guardLen more guard NaNs.
func guarded(n int) []float32 {
	buf := make([]float32, n+guardLen)
	for i := range buf {
		buf[i] = math.Float32frombits(guardBits)
	}
	return buf[:n]
}

// guardedState is degen.NewTrainState with guarded float slices.
func guardedState(s int, l degen.Layout) *degen.TrainState {
	return &degen.TrainState{Params: guarded(s * l.P), AdamM: guarded(s * l.P), AdamV: guarded(s * l.P), AdamStep: make([]int32, s)}
}

// checkGuard fails the test when the guard region behind v was written.
func checkGuard(t testing.TB, what string, v []float32) {
	t.Helper()
	for i, g := range v[len(v):cap(v)] {
		if math.Float32bits(g) != guardBits {
			t.Errorf("%s: wrote %g past the end, at element %d", what, g, len(v)+i)
			return
		}
	}
}

// compareLayout compares (S, P) parameter-shaped arrays tensor by tensor.
func compareLayout(t testing.TB, what string, got, want []float32, s int, l degen.Layout, tol Tol) {
	t.Helper()
	for _, tn := range l.Tensors() {
		n := tn.Size()
		g, w := make([]float32, 0, s*n), make([]float32, 0, s*n)
		for k := range s {
			g = append(g, got[k*l.P+tn.Offset:k*l.P+tn.Offset+n]...)
			w = append(w, want[k*l.P+tn.Offset:k*l.P+tn.Offset+n]...)
		}
		compare(t, what+" "+tn.Name, g, w, append([]int{s}, tn.Shape...), tol)
	}
}

// compare checks got against want element by element and, on failure,
// reports the worst element: its index, both values and the fraction of the
// tolerance it uses (Inf where only one of them is NaN or infinite; NaN,
// also a failure, where both are NaN or infinities of opposite signs).
func compare(t testing.TB, what string, got, want []float32, shape []int, tol Tol) {
	t.Helper()
	var ss float64
	for _, w := range want {
		ss += float64(w) * float64(w)
	}
	rms := 1.0
	if len(want) > 0 && ss > 0 {
		rms = math.Sqrt(ss / float64(len(want)))
	}
	worst, at := 0.0, -1
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		frac := math.Abs(g-w) / (tol.Atol*rms + tol.Rtol*math.Abs(w))
		if math.IsNaN(frac) && g == w {
			frac = 0 // both exactly zero with a zero tolerance
		}
		if math.IsNaN(g) != math.IsNaN(w) || math.IsInf(g, 0) != math.IsInf(w, 0) {
			frac = math.Inf(1)
		}
		if math.IsNaN(frac) {
			// Both NaN, or infinities of opposite signs: a failure that
			// no later element may replace, as nothing compares above NaN.
			worst, at = frac, i
			break
		}
		if frac > worst {
			worst, at = frac, i
		}
	}
	if at < 0 {
		return
	}
	if worst > 1 || math.IsNaN(worst) {
		t.Errorf("%s: worst element %v: got %.9g, want %.9g, |diff| %.3g uses %.3g of the tolerance (atol %g x rms %.3g + rtol %g x |want|)",
			what, unravel(at, shape), got[at], want[at], math.Abs(float64(got[at])-float64(want[at])), worst, tol.Atol, rms, tol.Rtol)
	} else if testing.Verbose() {
		t.Logf("%s: worst element %v uses %.3g of the tolerance", what, unravel(at, shape), worst)
	}
}

// unravel turns a flat row-major index into a multi-index of shape.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = i % shape[k]
		i /= shape[k]
	}
	return idx
}

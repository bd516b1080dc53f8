package cpu

import (
	"fmt"
	"math"

	"degen"
	"degen/tasks"
)

// Backend is the CPU implementation of degen.Backend. New makes the float32
// training backend, NewFloat64 the float64 reference; both exchange float32
// with the caller. A Backend is not safe for concurrent use.
type Backend struct {
	dims   degen.Dims
	impl   ops
	detail string // Describe's line
}

// ops is what an ensemble of either element type does for Backend, after
// Backend has checked the arguments.
type ops interface {
	setState(st *degen.TrainState)
	state(st *degen.TrainState)
	evaluate(bt *tasks.Batch, out, states, loss []float32)
	gradients(bt *tasks.Batch, hp *degen.Hyper, grad, loss []float32)
	step(bt *tasks.Batch, hp *degen.Hyper, active []bool, loss []float32)
}

// New returns a float32 CPU backend for an ensemble of d.S networks of model
// m; gamma (S) is each network's rate-cell readout scale (it may be nil for
// the vanilla cell, which ignores it). Parameters start at zero: call SetState.
func New(d degen.Dims, m degen.Model, gamma []float32) (*Backend, error) {
	if err := check(d, m, gamma); err != nil {
		return nil, err
	}
	return &Backend{dims: d, impl: newEnsemble[float32](d, m, gamma), detail: "CPU, float32; GEMM: " + BLAS()}, nil
}

// NewFloat64 is New with float64 arithmetic inside: the reference that
// gradient checks and the conformance suite compare against. Its state and
// results are exchanged as float32 like every backend's.
func NewFloat64(d degen.Dims, m degen.Model, gamma []float32) (*Backend, error) {
	if err := check(d, m, gamma); err != nil {
		return nil, err
	}
	return &Backend{dims: d, impl: newEnsemble[float64](d, m, gamma), detail: "CPU, float64 (the reference)"}, nil
}

func check(d degen.Dims, m degen.Model, gamma []float32) error {
	if err := d.Check(); err != nil {
		return fmt.Errorf("cpu: new backend: %w", err)
	}
	if err := m.Check(); err != nil {
		return fmt.Errorf("cpu: new backend: %w", err)
	}
	if m.H != d.H {
		return fmt.Errorf("cpu: new backend: model hidden size %d differs from dims H=%d", m.H, d.H)
	}
	if m.Cell == degen.Vanilla && gamma == nil {
		return nil
	}
	if len(gamma) != d.S {
		return fmt.Errorf("cpu: new backend: gamma has %d values, want S=%d", len(gamma), d.S)
	}
	if m.Cell == degen.Rate {
		for s, g := range gamma {
			if !(g > 0) || math.IsInf(float64(g), 0) {
				return fmt.Errorf("cpu: new backend: gamma[%d] = %g, want a positive finite number", s, g)
			}
		}
	}
	return nil
}

// Dims returns the sizes the backend was built for.
func (b *Backend) Dims() degen.Dims { return b.dims }

// Describe says what the backend computes on (degen.Describer): the
// element type and, for float32, the GEMM in use.
func (b *Backend) Describe() string { return b.detail }

// SetState copies parameters and Adam state from st, whose slices must have
// exactly the lengths degen.NewTrainState gives.
func (b *Backend) SetState(st *degen.TrainState) error {
	if err := b.dims.CheckState(st); err != nil {
		return fmt.Errorf("cpu: set state: %w", err)
	}
	b.impl.setState(st)
	return nil
}

// State copies parameters and Adam state into st.
func (b *Backend) State(st *degen.TrainState) error {
	if err := b.dims.CheckState(st); err != nil {
		return fmt.Errorf("cpu: state: %w", err)
	}
	b.impl.state(st)
	return nil
}

// Evaluate runs the forward pass of every network. The batch may have any
// number of steps T (out-of-distribution trials are longer than training
// ones); scratch memory grows to fit. out needs at least S*T*B*O elements,
// states (optional) S*T*B*H, loss S; only those prefixes are written.
func (b *Backend) Evaluate(bt *tasks.Batch, out, states, loss []float32) error {
	d := b.dims
	if err := b.dims.CheckBatch(bt); err != nil {
		return fmt.Errorf("cpu: evaluate: %w", err)
	}
	if err := degen.CheckLen("out", out, d.S*bt.T*d.B*d.O); err != nil {
		return fmt.Errorf("cpu: evaluate: %w", err)
	}
	if states != nil {
		if err := degen.CheckLen("states", states, d.S*bt.T*d.B*d.H); err != nil {
			return fmt.Errorf("cpu: evaluate: %w", err)
		}
	}
	if err := degen.CheckLen("loss", loss, d.S); err != nil {
		return fmt.Errorf("cpu: evaluate: %w", err)
	}
	b.impl.evaluate(bt, out, states, loss)
	return nil
}

// Gradients writes into grad (S, P) the gradient of each network's masked
// MSE plus its regularisers (before clipping) and into loss (S) its masked
// MSE, updating nothing. hp.LR is not used; nil hp.L1 or hp.Nuclear mean 0.
func (b *Backend) Gradients(bt *tasks.Batch, hp *degen.Hyper, grad, loss []float32) error {
	if err := b.dims.CheckBatch(bt); err != nil {
		return fmt.Errorf("cpu: gradients: %w", err)
	}
	if err := b.dims.CheckHyper(hp, false); err != nil {
		return fmt.Errorf("cpu: gradients: %w", err)
	}
	if err := degen.CheckLen("grad", grad, b.dims.S*degen.NewLayout(b.dims.H, b.dims.I, b.dims.O).P); err != nil {
		return fmt.Errorf("cpu: gradients: %w", err)
	}
	if err := degen.CheckLen("loss", loss, b.dims.S); err != nil {
		return fmt.Errorf("cpu: gradients: %w", err)
	}
	b.impl.gradients(bt, hp, grad, loss)
	return nil
}

// Step runs one training step of every network (see degen.Backend): loss
// (S) receives the masked MSE before the update for all networks; networks
// whose active[s] is false skip backpropagation and keep their parameters,
// moments and step count bit for bit. nil hp.L1 or hp.Nuclear mean 0.
func (b *Backend) Step(bt *tasks.Batch, hp *degen.Hyper, active []bool, loss []float32) error {
	if err := b.dims.CheckBatch(bt); err != nil {
		return fmt.Errorf("cpu: step: %w", err)
	}
	if err := b.dims.CheckHyper(hp, true); err != nil {
		return fmt.Errorf("cpu: step: %w", err)
	}
	if len(active) != b.dims.S {
		return fmt.Errorf("cpu: step: active has %d values, want S=%d", len(active), b.dims.S)
	}
	if err := degen.CheckLen("loss", loss, b.dims.S); err != nil {
		return fmt.Errorf("cpu: step: %w", err)
	}
	b.impl.step(bt, hp, active, loss)
	return nil
}

// Close releases nothing: the backend's memory belongs to the Go heap.
func (b *Backend) Close() error { return nil }

// setState converts st into the ensemble's element type.
func (e *ensemble[T]) setState(st *degen.TrainState) {
	p := e.l.P
	for s := range e.d.S {
		params, m, v := e.net(e.params, s), e.net(e.adamM, s), e.net(e.adamV, s)
		for i := range p {
			params[i], m[i], v[i] = T(st.Params[s*p+i]), T(st.AdamM[s*p+i]), T(st.AdamV[s*p+i])
		}
	}
	copy(e.steps, st.AdamStep)
}

// state converts the ensemble's state to float32 into st.
func (e *ensemble[T]) state(st *degen.TrainState) {
	p := e.l.P
	for s := range e.d.S {
		params, m, v := e.net(e.params, s), e.net(e.adamM, s), e.net(e.adamV, s)
		for i := range p {
			st.Params[s*p+i], st.AdamM[s*p+i], st.AdamV[s*p+i] = float32(params[i]), float32(m[i]), float32(v[i])
		}
	}
	copy(st.AdamStep, e.steps)
}

func (e *ensemble[T]) evaluate(bt *tasks.Batch, out, states, loss []float32) {
	bh, tbo := e.d.B*e.d.H, bt.T*e.d.B*e.d.O
	e.parallel(func(s int, ws *workspace[T]) {
		loss[s] = float32(e.network(s, bt, ws, nil))
		for i, v := range ws.out[:tbo] {
			out[s*tbo+i] = float32(v)
		}
		if states != nil {
			tbh := bt.T * bh
			for i, v := range ws.h[bh : bh+tbh] {
				states[s*tbh+i] = float32(v)
			}
		}
	})
}

// lossAndGradient runs network s forward and backward and leaves in
// e.grad[s] the gradient of its masked MSE plus regularisers; it returns the
// masked MSE.
func (e *ensemble[T]) lossAndGradient(s int, bt *tasks.Batch, hp *degen.Hyper, ws *workspace[T]) float64 {
	g := e.net(e.grad, s)
	loss := e.network(s, bt, ws, g)
	var l1, nuc float64
	if hp.L1 != nil {
		l1 = float64(hp.L1[s])
	}
	if hp.Nuclear != nil {
		nuc = float64(hp.Nuclear[s])
	}
	regularize(e.l, e.net(e.params, s), g, l1, nuc)
	return loss
}

func (e *ensemble[T]) gradients(bt *tasks.Batch, hp *degen.Hyper, grad, loss []float32) {
	p := e.l.P
	e.parallel(func(s int, ws *workspace[T]) {
		loss[s] = float32(e.lossAndGradient(s, bt, hp, ws))
		for i, v := range e.net(e.grad, s) {
			grad[s*p+i] = float32(v)
		}
	})
}

func (e *ensemble[T]) step(bt *tasks.Batch, hp *degen.Hyper, active []bool, loss []float32) {
	e.parallel(func(s int, ws *workspace[T]) {
		if !active[s] {
			loss[s] = float32(e.network(s, bt, ws, nil))
			return
		}
		loss[s] = float32(e.lossAndGradient(s, bt, hp, ws))
		g := e.net(e.grad, s)
		clip(g, float64(hp.ClipNorm))
		e.steps[s]++
		adam(e.net(e.params, s), e.net(e.adamM, s), e.net(e.adamV, s), g, float64(hp.LR[s]), e.steps[s])
	})
}

var _ degen.Backend = (*Backend)(nil)

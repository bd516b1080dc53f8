package degen

import "degen/tasks"

// Adam's constants, PyTorch's defaults (no weight decay).
const (
	AdamBeta1 = 0.9
	AdamBeta2 = 0.999
	AdamEps   = 1e-8
)

// Hyper holds the per-step hyperparameters of every network. Slices have
// length S, so a sweep over them trains as one ensemble.
type Hyper struct {
	LR       []float32 // (S) Adam learning rate (for the rate cell already gamma*eta0)
	L1       []float32 // (S) lambda of lambda * sum |w| over W_hh, W_ih and W_out
	Nuclear  []float32 // (S) lambda of lambda * sum_i sigma_i(W_hh)
	ClipNorm float32   // clip each network's gradient to this L2 norm; 0 disables
}

// TrainState is everything a backend holds that a resumed run needs.
type TrainState struct {
	Params   []float32 // (S, P) in Layout order
	AdamM    []float32 // (S, P) first moments
	AdamV    []float32 // (S, P) second moments
	AdamStep []int32   // (S) Adam steps taken by each network (frozen networks do not count)
}

// NewTrainState allocates a zeroed state for S networks of layout l.
func NewTrainState(s int, l Layout) *TrainState {
	return &TrainState{
		Params:   make([]float32, s*l.P),
		AdamM:    make([]float32, s*l.P),
		AdamV:    make([]float32, s*l.P),
		AdamStep: make([]int32, s),
	}
}

// Backend trains and evaluates all S networks of an ensemble with a handful
// of coarse operations, whatever S and T are. The CPU backend (package cpu)
// is the reference; the GPU backend (package gpu) must match it within the
// tolerances its conformance tests state.
//
// Backends are made by their package's New(dims Dims, m Model, gamma []float32),
// gamma (S) being each network's rate-cell readout scale (ignored by Vanilla).
//
// The loss of network s is the masked mean squared error
//
//	L_s = sum_{t,b,o} M (y - target)^2 / sum_{t,b,o} M   (0 when sum M = 0).
//
// A batch passed to a backend has N = S (each network its own trials) or
// N = 1 (all networks share the trials), and T no larger than the backend's
// Dims().T; B must equal Dims().B.
type Backend interface {
	// Dims are the sizes the backend was built for.
	Dims() Dims
	// SetState uploads parameters and Adam state.
	SetState(st *TrainState) error
	// State downloads parameters and Adam state into st.
	State(st *TrainState) error
	// Step runs one training step: forward over all T steps, masked MSE,
	// backward through time, regulariser gradients, per-network gradient
	// clipping, then Adam on the networks whose active[s] is true (the others'
	// parameters and Adam state stay bit-for-bit unchanged). loss (S)
	// receives each network's masked MSE before the update, regularisers excluded.
	Step(b *tasks.Batch, h *Hyper, active []bool, loss []float32) error
	// Gradients computes, without updating anything, the gradient (S, P) of
	// masked MSE + regularisers (before clipping) and each network's masked MSE.
	Gradients(b *tasks.Batch, h *Hyper, grad []float32, loss []float32) error
	// Evaluate runs the forward pass only. out (S, T, B, O) receives outputs;
	// states (S, T, B, H) receives hidden states (for the rate cell, h, not
	// tanh(h)) and may be nil; loss (S) receives the masked MSE.
	Evaluate(b *tasks.Batch, out, states []float32, loss []float32) error
	// Close releases the backend's resources.
	Close() error
}

package degen

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Cell names a recurrent update rule.
type Cell string

const (
	// Vanilla is the discrete-time tanh RNN:
	//   h_t = tanh(W_hh h_{t-1} + W_ih x_t + b),  h_0 = 0,
	//   y_t = W_out h_t + b_out.
	Vanilla Cell = "vanilla"
	// Rate is the µP rate network (SCIENCE.md), with a bias b we add:
	//   h_t = h_{t-1} + tau * (-h_{t-1} + (1/H) W_hh tanh(h_{t-1}) + W_ih x_t + b),  h_0 = 0,
	//   y_t = W_out tanh(h_t) / (gamma * H) + b_out.
	// The Adam learning rate of a rate network is gamma * eta0.
	Rate Cell = "rate"
)

// Model is the architecture shared by every network of an ensemble.
// Gamma may differ per network and is passed to the backend separately.
type Model struct {
	Cell Cell    `json:"cell" toml:"cell"`
	H    int     `json:"hidden" toml:"hidden"`
	Tau  float64 `json:"tau" toml:"tau"` // rate cell only
}

// Check returns an error for an unknown cell or a bad size.
func (m Model) Check() error {
	switch m.Cell {
	case Vanilla:
	case Rate:
		if !(m.Tau > 0 && m.Tau <= 1) {
			return fmt.Errorf("tau must be in (0, 1], got %g", m.Tau)
		}
	default:
		return fmt.Errorf("unknown cell %q (want %q or %q)", m.Cell, Vanilla, Rate)
	}
	if m.H <= 0 {
		return fmt.Errorf("hidden size must be positive, got %d", m.H)
	}
	return nil
}

// InitParams writes network n's initial parameters into p (length l.P),
// drawn from a generator keyed by (seed, network) alone, so a network's
// initial weights never depend on the ensemble it trains in.
//
// Vanilla: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)), PyTorch's nn.RNN
// and nn.Linear default (one hidden bias where nn.RNN has two).
// Rate (µP): W_hh ~ N(0, H) (the 1/H sits in the update), W_ih ~ N(0, 1),
// W_out ~ N(0, 1), biases 0.
func InitParams(m Model, l Layout, seed, network uint64, p []float32) {
	rng := rand.New(rand.NewPCG(seed, network^0x9e3779b97f4a7c15))
	uniform := func(dst []float32, bound float64) {
		for i := range dst {
			dst[i] = float32((2*rng.Float64() - 1) * bound)
		}
	}
	normal := func(dst []float32, std float64) {
		for i := range dst {
			dst[i] = float32(rng.NormFloat64() * std)
		}
	}
	h := float64(l.H)
	switch m.Cell {
	case Rate:
		normal(p[l.Whh:l.Wih], math.Sqrt(h))
		normal(p[l.Wih:l.Bh], 1)
		clear(p[l.Bh:l.Wout])
		normal(p[l.Wout:l.Bout], 1)
		clear(p[l.Bout:l.P])
	default:
		bound := 1 / math.Sqrt(h)
		uniform(p[:l.P], bound)
	}
}

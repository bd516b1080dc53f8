package tasks

import (
	"fmt"
	"math"
)

var sineInfo = Info{
	Name: "sine",
	Description: "Sine-wave generation: a static input per channel gives a frequency f (one of freqs values " +
		"evenly spaced in [fmin, fmax] Hz, encoded as f/fmax); the output is sin(2 pi f t dt). " +
		"Scored at every step. OOD: trials twice as long.",
	Knobs: []Knob{
		{Name: "channels", Default: 1, Min: 1, Max: maxChannels, Integer: true,
			Description: "number of independent channels N, each with its own frequency"},
		{Name: "freqs", Default: 10, Min: 1, Max: 1 << 20, Integer: true,
			Description: "number of frequencies, evenly spaced from fmin to fmax inclusive (1: fmin only)"},
		{Name: "fmin", Default: 1, Min: 0, Max: 1e6,
			Description: "lowest frequency in Hz (SCIENCE.md: 1)"},
		{Name: "fmax", Default: 30, Min: 0, Max: 1e6,
			Description: "highest frequency in Hz (SCIENCE.md: 30); the input is f/fmax in (0, 1]"},
		{Name: "dt", Default: 0.002, Min: 1e-9, Max: 1e3,
			Description: "time step in seconds, the task's time scale; 0.002 samples 30 Hz 16.7 times per period (Nyquist needs fmax*dt < 0.5)"},
		{Name: "steps", Default: 100, Min: 1, Max: maxSteps, Integer: true,
			Description: "trial length T; 100 steps of 2 ms = 0.2 s: 6 periods of 30 Hz, a fifth of 1 Hz"},
	},
}

// Sine is the sine-wave generation task with N = channels independent
// channels. For each trial and channel c, the frequency index
// k = Intn(K, trial, 0, c, 0) picks
//
//	f = fmin + k (fmax - fmin) / (K - 1)   (f = fmin when K = 1)
//
// and at every step t = 0 .. T-1
//
//	x_t = f / fmax                  (static; (0, 1] when fmin > 0)
//	y_t = sin(2 pi f t dt)
//	mask = 1
//
// The input is linear in f, so frequency extrapolation (an OOD battery beyond
// the paper) means inputs above 1. No transient is skipped: y_0 = 0 for
// every f, and the phase is fixed by t, so the network has no reason to be
// excused from the first steps. OOD trials are 2T long and continue the same
// wave.
//
// The defaults dt = 2 ms and T = 100 are the time scale at which networks
// train: at 5 ms (30 Hz sampled 6.7 times a period) and T = 200 no vanilla
// network of 32 units, nor PyTorch's nn.RNN, left the target's variance in
// 4,000 steps; at 2 ms and T = 100 most reach the threshold in 2,500-4,000
// steps (bench/RESULTS.md). T = 100 keeps backpropagation through time short:
// dt = 1 ms with T = 200 (the same 0.2 s) failed again.
type Sine struct {
	knobs           map[string]float64
	channels, freqs int
	fmin, fmax, dt  float64
	steps           int
}

func newSine(k map[string]float64) (*Sine, error) {
	s := &Sine{knobs: k, channels: int(k["channels"]), freqs: int(k["freqs"]),
		fmin: k["fmin"], fmax: k["fmax"], dt: k["dt"], steps: int(k["steps"])}
	if !(s.fmin < s.fmax) {
		return nil, fmt.Errorf("fmin (%g) must be below fmax (%g)", s.fmin, s.fmax)
	}
	if !(s.fmax*s.dt < 0.5) {
		return nil, fmt.Errorf("fmax*dt = %g must be below 0.5 (Nyquist) to resolve fmax=%g Hz", s.fmax*s.dt, s.fmax)
	}
	return s, nil
}

// Name returns "sine".
func (s *Sine) Name() string { return sineInfo.Name }

// Inputs returns N.
func (s *Sine) Inputs() int { return s.channels }

// Outputs returns N.
func (s *Sine) Outputs() int { return s.channels }

// Steps returns T, or 2T for OOD trials.
func (s *Sine) Steps(ood bool) int {
	if ood {
		return 2 * s.steps
	}
	return s.steps
}

// Threshold returns 5e-2.
func (s *Sine) Threshold() float64 { return 5e-2 }

// Knobs returns channels, freqs, fmin, fmax, dt and steps.
func (s *Sine) Knobs() map[string]float64 { return copyKnobs(s.knobs) }

// Frequency returns f_k = fmin + k (fmax - fmin) / (K - 1), or fmin when K = 1.
func (s *Sine) Frequency(k int) float64 {
	if s.freqs == 1 {
		return s.fmin
	}
	return s.fmin + float64(k)*(s.fmax-s.fmin)/float64(s.freqs-1)
}

// Fill writes the trials of key into slot n of b.
func (s *Sine) Fill(b *Batch, n int, key Key, ood bool) {
	x, y, mask := slot(s, b, n, ood)
	r := NewStream(key)
	waves := make(map[int][]float32)         // frequency index -> y_t, t < T, computed once per Fill
	in := make([]float32, b.B*s.channels)    // (B, N) static inputs
	out := make([][]float32, b.B*s.channels) // (B, N) the wave of each trial and channel
	for trial := 0; trial < b.B; trial++ {
		for c := 0; c < s.channels; c++ {
			k := r.Intn(s.freqs, trial, 0, c, 0)
			f := s.Frequency(k)
			wave, ok := waves[k]
			if !ok {
				wave = make([]float32, b.T)
				for t := range wave {
					wave[t] = float32(math.Sin(2 * math.Pi * f * s.dt * float64(t)))
				}
				waves[k] = wave
			}
			in[trial*s.channels+c] = float32(f / s.fmax)
			out[trial*s.channels+c] = wave
		}
	}
	// I = O = N, so one step of all trials is the (B, N) block at t*B*N.
	for t := 0; t < b.T; t++ {
		base := t * b.B * s.channels
		copy(x[base:base+len(in)], in)
		for j, wave := range out {
			y[base+j] = wave[t]
			mask[base+j] = 1
		}
	}
}

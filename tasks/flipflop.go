package tasks

import "fmt"

// Limits shared by the knobs of every task: they keep counters within 32 bits
// and a single trial's arrays within memory.
const (
	maxSteps    = 1 << 16 // longest trial (in distribution) a knob may ask for
	maxChannels = 256     // most independent channels (bits, sine/delayed channels)
)

var flipFlopInfo = Info{
	Name: "flipflop",
	Description: "N-bit flip-flop: N input channels pulse ±1 with probability p per step " +
		"(every channel pulses at t=0); each output holds the sign of its channel's last pulse. " +
		"Scored at every step. OOD: trials twice as long.",
	Knobs: []Knob{
		{Name: "bits", Default: 3, Min: 1, Max: maxChannels, Integer: true,
			Description: "number of channels N (2^N stable states); 3 as in FixedPointFinder and the reference study"},
		{Name: "p", Default: 0.2, Min: 0, Max: 1,
			Description: "pulse probability per channel and step, in (0, 1]; 0.2 as the peer PyTorch script (unknown in the paper)"},
		{Name: "steps", Default: 100, Min: 1, Max: maxSteps, Integer: true,
			Description: "trial length T in distribution; 100 as the first author's later code and the peer script"},
	},
}

// FlipFlop is the N-bit flip-flop task. Inputs and outputs have N = bits
// channels. For each trial and channel c, at step t:
//
//	t = 0:  x = s_0, s_0 = +1 if u_sign < 1/2 else -1     (a pulse on every channel)
//	t > 0:  x = s_t if u_pulse < p (s_t = ±1 as above), else 0
//	y_t = the last nonzero x_{t'} with t' <= t             (always ±1)
//	mask = 1 everywhere
//
// with u_pulse = Float64(trial, t, c, 0) and u_sign = Float64(trial, t, c, 1).
// The forced pulse at t = 0 (as FixedPointFinder and the peer script) makes
// every target defined from the first step. OOD trials are 2T long; their
// first T steps equal the in-distribution trial of the same key.
type FlipFlop struct {
	knobs map[string]float64
	bits  int
	p     float64
	steps int
}

func newFlipFlop(k map[string]float64) (*FlipFlop, error) {
	f := &FlipFlop{knobs: k, bits: int(k["bits"]), p: k["p"], steps: int(k["steps"])}
	if !(f.p > 0) {
		return nil, fmt.Errorf("p must be in (0, 1], got %g (no pulse would ever come after t=0)", f.p)
	}
	return f, nil
}

// Name returns "flipflop".
func (f *FlipFlop) Name() string { return flipFlopInfo.Name }

// Inputs returns N.
func (f *FlipFlop) Inputs() int { return f.bits }

// Outputs returns N.
func (f *FlipFlop) Outputs() int { return f.bits }

// Steps returns T, or 2T for OOD trials.
func (f *FlipFlop) Steps(ood bool) int {
	if ood {
		return 2 * f.steps
	}
	return f.steps
}

// Threshold returns 1e-3.
func (f *FlipFlop) Threshold() float64 { return 1e-3 }

// Knobs returns bits, p and steps.
func (f *FlipFlop) Knobs() map[string]float64 { return copyKnobs(f.knobs) }

// Fill writes the trials of key into slot n of b.
func (f *FlipFlop) Fill(b *Batch, n int, key Key, ood bool) {
	x, y, mask := slot(f, b, n, ood)
	s := NewStream(key)
	last := make([]float32, b.B*f.bits) // (B, N) sign of the last pulse
	for t := 0; t < b.T; t++ {
		for trial := 0; trial < b.B; trial++ {
			cell := s.At(trial, t)
			held := last[trial*f.bits : (trial+1)*f.bits]
			for c := range held {
				if t == 0 || cell.Float64(c, 0) < f.p {
					held[c] = 1
					if cell.Float64(c, 1) >= 0.5 {
						held[c] = -1
					}
					x[(t*b.B+trial)*b.I+c] = held[c]
				}
				i := (t*b.B+trial)*b.O + c
				y[i] = held[c]
				mask[i] = 1
			}
		}
	}
}

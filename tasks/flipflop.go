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
	Description: "N-bit flip-flop: N input channels pulse ±1 with probability p per event slot of hold steps " +
		"(every channel pulses at t=0); each output holds the sign of its channel's last pulse. " +
		"Scored at every step but the first hold-1 steps of a pulse. OOD: trials twice as long.",
	Knobs: []Knob{
		{Name: "bits", Default: 3, Min: 1, Max: maxChannels, Integer: true,
			Description: "number of channels N (2^N stable states); 3 as in FixedPointFinder and the reference study"},
		{Name: "p", Default: 0.2, Min: 0, Max: 1, MinExclusive: true,
			Description: "pulse probability per channel and step, in (0, 1]; 0.2 as the peer PyTorch script (unknown in the paper)"},
		{Name: "steps", Default: 100, Min: 1, Max: maxSteps, Integer: true,
			Description: "trial length in event slots (T = steps x hold steps); 100 as the first author's later code and the peer script"},
		{Name: "hold", Default: 1, Min: 1, Max: 1024, Integer: true,
			Description: "time scale: steps per event slot; a pulse lasts hold steps and the output must have switched by its last step. 1 for the vanilla cell; the rate cell needs about 1/tau (its recipe: 10)"},
	},
}

// FlipFlop is the N-bit flip-flop task. Inputs and outputs have N = bits
// channels. Time runs in event slots of k = hold steps, T = steps * k. For
// each trial and channel c, in slot j (steps j*k .. j*k + k - 1):
//
//	j = 0:  a pulse of sign s_0 = +1 if u_sign < 1/2 else -1   (every channel pulses)
//	j > 0:  a pulse of sign s_j (as above) if u_pulse < p, else none
//	x = the pulse's sign during its k steps, 0 elsewhere
//	y = the sign of the last pulse begun at or before this step   (always ±1)
//	mask = 0 on the first k - 1 steps of a pulse (the output is switching), else 1
//
// with u_pulse = Float64(trial, j, c, 0) and u_sign = Float64(trial, j, c, 1).
// With k = 1 (the default) every step is a slot and every step is scored.
// The forced pulse at t = 0 (as FixedPointFinder and the peer script) makes
// every target defined from the first slot. OOD trials are 2T long; their
// first T steps equal the in-distribution trial of the same key.
//
// hold is the task's time scale. A rate network moves its state by tau of
// the way per step, so it cannot switch within the one step a vanilla
// network needs: on k = 1, rate networks (tau 0.1) plateau at MSE 0.19, the
// cost of lagging every flip. Slots of k steps keep the events per trial
// and the memory demand, and give the switch k steps.
type FlipFlop struct {
	knobs map[string]float64
	bits  int
	p     float64
	steps int // slots
	hold  int // steps per slot
}

func newFlipFlop(k map[string]float64) (*FlipFlop, error) {
	f := &FlipFlop{knobs: k, bits: int(k["bits"]), p: k["p"], steps: int(k["steps"]), hold: int(k["hold"])}
	if f.steps*f.hold > maxSteps {
		return nil, fmt.Errorf("steps x hold = %d steps, more than the longest trial (%d)", f.steps*f.hold, maxSteps)
	}
	return f, nil
}

// Name returns "flipflop".
func (f *FlipFlop) Name() string { return flipFlopInfo.Name }

// Inputs returns N.
func (f *FlipFlop) Inputs() int { return f.bits }

// Outputs returns N.
func (f *FlipFlop) Outputs() int { return f.bits }

// Steps returns T = steps * hold, or 2T for OOD trials.
func (f *FlipFlop) Steps(ood bool) int {
	if ood {
		return 2 * f.steps * f.hold
	}
	return f.steps * f.hold
}

// Threshold returns 1e-3.
func (f *FlipFlop) Threshold() float64 { return 1e-3 }

// Knobs returns bits, p, steps and hold.
func (f *FlipFlop) Knobs() map[string]float64 { return copyKnobs(f.knobs) }

// Fill writes the trials of key into slot n of b.
func (f *FlipFlop) Fill(b *Batch, n int, key Key, ood bool) {
	x, y, mask := slot(f, b, n, ood)
	s := NewStream(key)
	k := f.hold
	last := make([]float32, b.B*f.bits) // (B, N) sign of the last pulse
	for slot := 0; slot*k < b.T; slot++ {
		for trial := 0; trial < b.B; trial++ {
			cell := s.At(trial, slot)
			held := last[trial*f.bits : (trial+1)*f.bits]
			for c := range held {
				pulse := slot == 0 || cell.Float64(c, 0) < f.p
				if pulse {
					held[c] = 1
					if cell.Float64(c, 1) >= 0.5 {
						held[c] = -1
					}
				}
				for t := slot * k; t < (slot+1)*k; t++ {
					i := (t*b.B+trial)*b.O + c
					y[i] = held[c]
					mask[i] = 1
					if pulse {
						x[(t*b.B+trial)*b.I+c] = held[c]
						if t < (slot+1)*k-1 {
							mask[i] = 0
						}
					}
				}
			}
		}
	}
}

package tasks

import "fmt"

// Batch holds the trials of one training or evaluation step for N networks.
// N is the ensemble size S, or 1 when every network shares the same data.
// All arrays are time-major within a network so that one step of all trials
// is contiguous:
//
//	X    (N, T, B, I) inputs
//	Y    (N, T, B, O) targets
//	Mask (N, T, B, O) 1 where the output is scored, 0 elsewhere
type Batch struct {
	N, B, T, I, O int
	X, Y, Mask    []float32
}

// NewBatch allocates a zeroed batch.
func NewBatch(n, b, t, in, out int) *Batch {
	return &Batch{N: n, B: b, T: t, I: in, O: out,
		X:    make([]float32, n*t*b*in),
		Y:    make([]float32, n*t*b*out),
		Mask: make([]float32, n*t*b*out),
	}
}

// Shared reports whether all networks read slot 0.
func (b *Batch) Shared() bool { return b.N == 1 }

// XAt returns the index of X[n, t, trial, i].
func (b *Batch) XAt(n, t, trial, i int) int { return ((n*b.T+t)*b.B+trial)*b.I + i }

// YAt returns the index of Y[n, t, trial, o] (and of Mask[n, t, trial, o]).
func (b *Batch) YAt(n, t, trial, o int) int { return ((n*b.T+t)*b.B+trial)*b.O + o }

// Check returns an error when the slices do not match the sizes.
func (b *Batch) Check() error {
	if b.N <= 0 || b.B <= 0 || b.T <= 0 || b.I <= 0 || b.O <= 0 {
		return fmt.Errorf("tasks: batch sizes must be positive: N=%d B=%d T=%d I=%d O=%d", b.N, b.B, b.T, b.I, b.O)
	}
	if len(b.X) != b.N*b.T*b.B*b.I || len(b.Y) != b.N*b.T*b.B*b.O || len(b.Mask) != len(b.Y) {
		return fmt.Errorf("tasks: batch arrays do not match N=%d B=%d T=%d I=%d O=%d", b.N, b.B, b.T, b.I, b.O)
	}
	return nil
}

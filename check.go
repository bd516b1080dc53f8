package degen

import (
	"fmt"
	"math"

	"degen/tasks"
)

// The argument checks every Backend makes, so that all backends refuse the
// same inputs with the same messages.

// CheckState returns an error unless st holds at least S networks of the
// ensemble's layout, NewLayout(H, I, O).
func (d Dims) CheckState(st *TrainState) error {
	if st == nil {
		return fmt.Errorf("nil train state")
	}
	n := d.S * NewLayout(d.H, d.I, d.O).P
	if len(st.Params) < n || len(st.AdamM) < n || len(st.AdamV) < n || len(st.AdamStep) < d.S {
		return fmt.Errorf("train state has lengths params=%d m=%d v=%d steps=%d, want %d, %d, %d, %d",
			len(st.Params), len(st.AdamM), len(st.AdamV), len(st.AdamStep), n, n, n, d.S)
	}
	return nil
}

// CheckBatch returns an error unless b fits the ensemble: N = S or 1 slots
// and the ensemble's B, I and O (any T).
func (d Dims) CheckBatch(b *tasks.Batch) error {
	if b == nil {
		return fmt.Errorf("nil batch")
	}
	if err := b.Check(); err != nil {
		return err
	}
	if b.N != d.S && b.N != 1 {
		return fmt.Errorf("batch has N=%d slots, want S=%d or 1", b.N, d.S)
	}
	if b.B != d.B || b.I != d.I || b.O != d.O {
		return fmt.Errorf("batch has B=%d I=%d O=%d, want B=%d I=%d O=%d", b.B, b.I, b.O, d.B, d.I, d.O)
	}
	return nil
}

// CheckHyper returns an error unless h has S values per list (LR only when
// needLR; L1 and Nuclear may be nil) and a finite ClipNorm >= 0.
func (d Dims) CheckHyper(h *Hyper, needLR bool) error {
	if h == nil {
		return fmt.Errorf("nil hyperparameters")
	}
	if needLR && len(h.LR) != d.S {
		return fmt.Errorf("LR has %d values, want S=%d", len(h.LR), d.S)
	}
	if h.L1 != nil && len(h.L1) != d.S {
		return fmt.Errorf("L1 has %d values, want S=%d (or nil)", len(h.L1), d.S)
	}
	if h.Nuclear != nil && len(h.Nuclear) != d.S {
		return fmt.Errorf("Nuclear has %d values, want S=%d (or nil)", len(h.Nuclear), d.S)
	}
	if !(h.ClipNorm >= 0) || math.IsInf(float64(h.ClipNorm), 0) {
		return fmt.Errorf("ClipNorm = %g, want a finite value >= 0", h.ClipNorm)
	}
	return nil
}

// CheckLen returns an error when an output slice is shorter than n.
func CheckLen(name string, v []float32, n int) error {
	if len(v) < n {
		return fmt.Errorf("%s has %d elements, need %d", name, len(v), n)
	}
	return nil
}

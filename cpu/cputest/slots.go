package cputest

import (
	"math/rand/v2"
	"slices"
	"testing"

	"degen"
	"degen/tasks"
)

// SlotIndependence trains one network alone and in the last slot of a larger
// ensemble, on per-network batches with odd sizes (so its data and
// parameters sit at differently aligned offsets), and requires bit-identical
// losses, gradients and parameters after two steps: a network's result must
// not depend on the ensemble it trains in.
func SlotIndependence(t *testing.T, newBackend func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error)) {
	for _, c := range []struct {
		m    degen.Model
		s, b int
	}{
		{degen.Model{Cell: degen.Vanilla, H: 7}, 3, 5},
		{degen.Model{Cell: degen.Vanilla, H: 33}, 4, 3},
		{degen.Model{Cell: degen.Rate, H: 9, Tau: 0.1}, 2, 7},
		{degen.Model{Cell: degen.Vanilla, H: 128}, 3, 9},
	} {
		d := degen.Dims{S: c.s, B: c.b, T: 11, I: 3, H: c.m.H, O: 3}
		one := d
		one.S = 1
		l := degen.NewLayout(d.H, d.I, d.O)
		rng := rand.New(rand.NewPCG(3, 4))
		big := randomBatch(rng, c.s, d.B, d.T, d.I, d.O)
		// The lone network's batch is the last slot of the big one.
		alone := tasks.NewBatch(1, d.B, d.T, d.I, d.O)
		last := c.s - 1
		copy(alone.X, big.X[last*len(alone.X):])
		copy(alone.Y, big.Y[last*len(alone.Y):])
		copy(alone.Mask, big.Mask[last*len(alone.Mask):])
		stBig := degen.NewTrainState(d.S, l)
		gamma := make([]float32, d.S)
		for s := range d.S {
			degen.InitParams(c.m, l, 9, uint64(s), stBig.Params[s*l.P:(s+1)*l.P])
			gamma[s] = []float32{0.5, 1, 2}[s%3]
		}
		stOne := degen.NewTrainState(1, l)
		copy(stOne.Params, stBig.Params[last*l.P:])

		run := func(dims degen.Dims, st *degen.TrainState, bt *tasks.Batch, g []float32) (loss, grad, params []float32) {
			be, err := newBackend(dims, c.m, g)
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			if err := be.SetState(st); err != nil {
				t.Fatal(err)
			}
			hp := &degen.Hyper{LR: make([]float32, dims.S), L1: make([]float32, dims.S), Nuclear: make([]float32, dims.S), ClipNorm: 0.5}
			active := make([]bool, dims.S)
			for s := range dims.S {
				hp.LR[s], hp.L1[s], hp.Nuclear[s], active[s] = 1e-2, 1e-4, 1e-3, true
			}
			grad = make([]float32, dims.S*l.P)
			loss = make([]float32, dims.S)
			if err := be.Gradients(bt, hp, grad, loss); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := be.Step(bt, hp, active, loss); err != nil {
					t.Fatal(err)
				}
			}
			out := degen.NewTrainState(dims.S, l)
			if err := be.State(out); err != nil {
				t.Fatal(err)
			}
			return loss, grad, out.Params
		}
		lossB, gradB, parB := run(d, stBig, big, gamma)
		lossO, gradO, parO := run(one, stOne, alone, gamma[last:])
		if lossB[last] != lossO[0] {
			t.Errorf("%s H=%d: loss %v in slot %d, %v alone", c.m.Cell, c.m.H, lossB[last], last, lossO[0])
		}
		if !slices.Equal(gradB[last*l.P:], gradO) {
			t.Errorf("%s H=%d: gradient differs between slot %d and alone", c.m.Cell, c.m.H, last)
		}
		if !slices.Equal(parB[last*l.P:], parO) {
			t.Errorf("%s H=%d: parameters after two steps differ between slot %d and alone", c.m.Cell, c.m.H, last)
		}
	}
}

package cpu

import (
	"math/rand/v2"

	"degen"
	"degen/tasks"
)

// randomBatch returns a batch with N slots whose inputs and targets are
// uniform in [-1, 1] and whose mask is 1 with probability keep.
func randomBatch(rng *rand.Rand, n, b, t, in, out int, keep float64) *tasks.Batch {
	bt := tasks.NewBatch(n, b, t, in, out)
	for i := range bt.X {
		bt.X[i] = float32(2*rng.Float64() - 1)
	}
	for i := range bt.Y {
		bt.Y[i] = float32(2*rng.Float64() - 1)
		if rng.Float64() < keep {
			bt.Mask[i] = 1
		}
	}
	return bt
}

// initState returns a train state with every network initialised by
// degen.InitParams from seed.
func initState(m degen.Model, d degen.Dims, seed uint64) *degen.TrainState {
	l := degen.NewLayout(d.H, d.I, d.O)
	st := degen.NewTrainState(d.S, l)
	for s := range d.S {
		degen.InitParams(m, l, seed, uint64(s), st.Params[s*l.P:(s+1)*l.P])
	}
	return st
}

// gammas returns S readout scales cycling through 0.5, 1 and 2.
func gammas(s int) []float32 {
	g := make([]float32, s)
	for i := range g {
		g[i] = []float32{0.5, 1, 2}[i%3]
	}
	return g
}

// vanilla and rate are the two cells at width h.
func vanilla(h int) degen.Model { return degen.Model{Cell: degen.Vanilla, H: h} }
func rate(h int) degen.Model    { return degen.Model{Cell: degen.Rate, H: h, Tau: 0.3} }

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"degen"
)

// TestGradientFiniteDifference checks the float64 backward pass, with and
// without each regulariser, against central finite differences of
// masked MSE + Regularization, element by element.
func TestGradientFiniteDifference(t *testing.T) {
	type reg struct{ l1, nuclear float64 }
	regs := []reg{{0, 0}, {0.01, 0}, {0, 0.02}, {0.01, 0.02}}
	for _, m := range []degen.Model{vanilla(4), vanilla(7), rate(5), rate(7)} {
		for _, shared := range []bool{false, true} {
			for _, r := range regs {
				name := fmt.Sprintf("%s/H=%d/shared=%v/l1=%g/nuc=%g", m.Cell, m.H, shared, r.l1, r.nuclear)
				t.Run(name, func(t *testing.T) {
					d := degen.Dims{S: 2, B: 3, T: 5, I: 2, H: m.H, O: 2}
					rng := rand.New(rand.NewPCG(7, uint64(m.H)))
					n := d.S
					if shared {
						n = 1
					}
					bt := randomBatch(rng, n, d.B, d.T, d.I, d.O, 0.6)
					e := newEnsemble[float64](d, m, gammas(d.S))
					e.setState(initState(m, d, 11))
					l := e.l
					hp := &degen.Hyper{L1: []float32{float32(r.l1), float32(r.l1)}, Nuclear: []float32{float32(r.nuclear), float32(r.nuclear)}}
					ws := new(workspace[float64])
					for s := range d.S {
						e.lossAndGradient(s, bt, hp, ws)
						p := e.net(e.params, s)
						objective := func() float64 {
							return e.network(s, bt, ws, nil) + Regularization(l, p, float64(hp.L1[s]), float64(hp.Nuclear[s]))
						}
						const h = 1e-6
						for _, tn := range l.Tensors() {
							worst, worstAt := 0.0, -1
							var got, want float64
							for i := tn.Offset; i < tn.Offset+tn.Size(); i++ {
								saved := p[i]
								p[i] = saved + h
								up := objective()
								p[i] = saved - h
								down := objective()
								p[i] = saved
								num := (up - down) / (2 * h)
								ana := e.net(e.grad, s)[i]
								rel := math.Abs(num-ana) / math.Max(math.Abs(num)+math.Abs(ana), 1e-6)
								if !(rel <= worst) {
									worst, worstAt, got, want = rel, i-tn.Offset, ana, num
								}
							}
							if !(worst < 1e-5) {
								t.Errorf("network %d %s[%d]: backward %.10g, finite difference %.10g, relative error %.3g",
									s, tn.Name, worstAt, got, want, worst)
							}
						}
					}
				})
			}
		}
	}
}

package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"degen"

	"gonum.org/v1/gonum/mat"
)

// randomDense returns an (r, c) matrix of standard normal entries.
func randomDense(r, c int, rng *rand.Rand) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

// relabel returns the weights of w with unit i renamed p[i]:
// W_hh'[p i, p j] = W_hh[i, j], W_ih'[p i, :] = W_ih[i, :], W_out'[:, p i] = W_out[:, i],
// so that W_hh = P^T W_hh' P with Perm = p.
func relabel(w NetWeights, p []int) NetWeights {
	h, _ := w.Whh.Dims()
	out := NetWeights{Whh: mat.NewDense(h, h, nil)}
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			out.Whh.Set(p[i], p[j], w.Whh.At(i, j))
		}
	}
	if w.Wih != nil {
		_, in := w.Wih.Dims()
		out.Wih = mat.NewDense(h, in, nil)
		for i := 0; i < h; i++ {
			out.Wih.SetRow(p[i], w.Wih.RawRowView(i))
		}
	}
	if w.Wout != nil {
		o, _ := w.Wout.Dims()
		out.Wout = mat.NewDense(o, h, nil)
		for i := 0; i < h; i++ {
			for k := 0; k < o; k++ {
				out.Wout.Set(k, p[i], w.Wout.At(k, i))
			}
		}
	}
	return out
}

func randomNet(h, in, out int, rng *rand.Rand) NetWeights {
	return NetWeights{Whh: randomDense(h, h, rng), Wih: randomDense(h, in, rng), Wout: randomDense(out, h, rng)}
}

func TestPermutationDistancePlanted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, h := range []int{7, 31, 64, 129} {
		for _, tie := range []bool{false, true} {
			w := randomNet(h, 3, 2, rng)
			p := rng.Perm(h)
			opts := DefaultPermOptions()
			opts.TieIO = tie
			r, err := PermutationDistance(w, relabel(w, p), opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Distance > 1e-9 {
				t.Errorf("H=%d tie=%v: d(W, P W P^T) = %g, want 0", h, tie, r.Distance)
			}
			for i := range p {
				if r.Perm[i] != p[i] {
					t.Errorf("H=%d tie=%v: unit %d matched %d, planted %d", h, tie, i, r.Perm[i], p[i])
					break
				}
			}
		}
	}
}

func TestPermutationDistancePlantedNoise(t *testing.T) {
	// W2 = P W1 P^T + E: the planted permutation costs exactly ||E||, so the
	// solver must report at most that (it finds the planted one).
	rng := rand.New(rand.NewPCG(19, 20))
	for _, h := range []int{31, 64, 129} {
		for _, noise := range []float64{0.05, 0.5} {
			a := randomDense(h, h, rng)
			a.Scale(1/math.Sqrt(float64(h)), a)
			w2 := relabel(NetWeights{Whh: a}, rng.Perm(h))
			e := randomDense(h, h, rng)
			e.Scale(noise/math.Sqrt(float64(h)), e)
			w2.Whh.Add(w2.Whh, e)
			r, err := PermutationDistance(NetWeights{Whh: a}, w2, DefaultPermOptions())
			if err != nil {
				t.Fatal(err)
			}
			if en := mat.Norm(e, 2); r.Distance > en*(1+1e-9) {
				t.Errorf("H=%d noise %.2f: distance %.6f above the planted permutation's %.6f", h, noise, r.Distance, en)
			}
		}
	}
}

// bruteForceCost returns min over all permutations of the QAP cost.
func bruteForceCost(q *qap) float64 {
	best := math.Inf(1)
	permutations(q.h, func(p []int) { best = min(best, q.cost(p)) })
	return best
}

func TestPermutationDistanceBruteForce(t *testing.T) {
	// On small random instances the solver reaches the exact optimum.
	rng := rand.New(rand.NewPCG(9, 10))
	for _, h := range []int{2, 3, 5, 6, 7} {
		for _, tie := range []bool{false, true} {
			for trial := 0; trial < 12; trial++ {
				w1, w2 := randomNet(h, 2, 2, rng), randomNet(h, 2, 2, rng)
				opts := DefaultPermOptions()
				opts.TieIO = tie
				r, err := PermutationDistance(w1, w2, opts)
				if err != nil {
					t.Fatal(err)
				}
				q, _ := newQAP(w1, w2, tie)
				want := math.Sqrt(bruteForceCost(q))
				if math.Abs(r.Distance-want) > 1e-9*want {
					t.Errorf("H=%d tie=%v trial %d: got %.12g, optimum %.12g", h, tie, trial, r.Distance, want)
				}
				if got := math.Sqrt(q.cost(r.Perm)); math.Abs(got-r.Distance) > 1e-12*want {
					t.Errorf("H=%d: reported %g but its permutation costs %g", h, r.Distance, got)
				}
			}
		}
	}
}

func TestVertexGradientUpdate(t *testing.T) {
	// The rank-one update of G(Q) agrees with the full product.
	rng := rand.New(rand.NewPCG(17, 18))
	for _, h := range []int{8, 33, 64} {
		q, err := newQAP(randomNet(h, 1, 1, rng), randomNet(h, 1, 1, rng), false)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, 2*h*h)
		old := rng.Perm(h)
		g, want := make([]float64, h*h), make([]float64, h*h)
		q.gradVertex(old, g, x)
		pi := slices.Clone(old)
		for k := 0; k < h/16+1; k++ {
			u, v := rng.IntN(h), rng.IntN(h)
			pi[u], pi[v] = pi[v], pi[u]
		}
		if !q.updateVertexGrad(old, pi, g) {
			t.Fatalf("H=%d: update refused for %d moved columns", h, 2*(h/16+1))
		}
		q.gradVertex(pi, want, x)
		for k := range g {
			if math.Abs(g[k]-want[k]) > 1e-10*(1+math.Abs(want[k])) {
				t.Fatalf("H=%d: element %d updated to %v, full product %v", h, k, g[k], want[k])
			}
		}
	}
}

func TestSwapDelta(t *testing.T) {
	// The O(1) swap change with the O(H^2) updates of S and S^T, and the
	// O(H) change of the annealing (pairDelta), agree with recomputing the
	// cost after each of many swaps, with and without tied weights.
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		h   int
		tie bool
	}{{4, true}, {17, true}, {33, true}, {17, false}} {
		h := c.h
		w1, w2 := randomNet(h, 3, 1, rng), randomNet(h, 3, 1, rng)
		q, err := newQAP(w1, w2, c.tie)
		if err != nil {
			t.Fatal(err)
		}
		pi := rng.Perm(h)
		s := q.newSwapState(pi)
		for step := 0; step < 50; step++ {
			u, v := rng.IntN(h), rng.IntN(h)
			if u == v {
				continue
			}
			if u > v {
				u, v = v, u
			}
			before := q.cost(s.pi)
			delta := s.delta(u, v)
			if d2 := q.pairDelta(s.pi, v, u); math.Abs(d2-delta) > 1e-9*(1+before) {
				t.Fatalf("H=%d step %d: pairDelta %g, delta %g", h, step, d2, delta)
			}
			s.swap(u, v)
			after := q.cost(s.pi)
			if math.Abs(after-before-delta) > 1e-9*(1+before) {
				t.Fatalf("H=%d step %d: swap (%d,%d) changed the cost by %g, predicted %g", h, step, u, v, after-before, delta)
			}
		}
	}
}

// readCase reads one array of the reference cases (metricCasesPath and
// readCaseArray live in dsa_test.go).
func readCase(t *testing.T, path, name string) *degen.Array {
	t.Helper()
	a, err := readCaseArray(path, name)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPermutationDistanceMetricCases(t *testing.T) {
	path := metricCasesPath()
	if path == "" {
		t.Skip("metric_cases.npz is absent from analysis/testdata and ../shared/reference: skipping the reference comparison")
	}
	nmf := readCase(t, path, "perm_nmf").Data
	kopt := readCase(t, path, "perm_kopt").Data
	planted := readCase(t, path, "planted_pairs").Data
	for k := range nmf {
		a := readCase(t, path, "weights_a_"+string(rune('0'+k)))
		b := readCase(t, path, "weights_b_"+string(rune('0'+k)))
		h := a.Shape[0]
		// The reference calls permutation_2sided(B, A): min_P ||A - P^T B P||.
		r, err := PermutationDistance(NetWeights{Whh: mat.NewDense(h, h, a.Data)}, NetWeights{Whh: mat.NewDense(h, h, b.Data)}, DefaultPermOptions())
		if err != nil {
			t.Fatal(err)
		}
		best := min(nmf[k], kopt[k])
		if r.Distance > best+1e-9 {
			t.Errorf("pair %d (H=%d): %.6f, worse than the published best %.6f", k, h, r.Distance, best)
		}
		noise := 0.05 * math.Sqrt(float64(h))
		if planted[k] != 0 && r.Distance > 1.25*noise {
			t.Errorf("pair %d (H=%d): planted permutation missed: %.4f, noise norm about %.4f", k, h, r.Distance, noise)
		}
		t.Logf("pair %d H=%d planted=%v: degen %.4f  nmf %.4f  k-opt %.4f", k, h, planted[k] != 0, r.Distance, nmf[k], kopt[k])
	}
}

func TestPermutationDistances(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	nets := make([]NetWeights, 5)
	for i := range nets {
		nets[i] = randomNet(9, 2, 2, rng)
	}
	nets[3] = relabel(nets[1], rng.Perm(9))
	for _, normalize := range []bool{false, true} {
		opts := DefaultPermOptions()
		opts.Normalize = normalize
		d, err := PermutationDistances(nets, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range nets {
			if d.At(i, i) != 0 {
				t.Errorf("diagonal %d = %g", i, d.At(i, i))
			}
			for j := range nets {
				if d.At(i, j) != d.At(j, i) {
					t.Errorf("not symmetric at (%d, %d)", i, j)
				}
				if i != j && !(i == 1 && j == 3 || i == 3 && j == 1) && d.At(i, j) <= 0 {
					t.Errorf("d[%d,%d] = %g, want positive", i, j, d.At(i, j))
				}
			}
		}
		if d.At(1, 3) > 1e-9 {
			t.Errorf("relabelled copy: d = %g, want 0", d.At(1, 3))
		}
		r, _ := PermutationDistance(nets[0], nets[2], opts)
		if d.At(0, 2) != r.Distance {
			t.Errorf("matrix entry %g differs from the pair's distance %g", d.At(0, 2), r.Distance)
		}
	}
}

func TestPermutationDistanceErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	good := randomNet(4, 2, 2, rng)
	nan := randomNet(4, 2, 2, rng)
	nan.Whh.Set(1, 2, math.NaN())
	cases := []struct {
		name string
		a, b NetWeights
		opts PermOptions
	}{
		{"nil W_hh", NetWeights{}, good, DefaultPermOptions()},
		{"non-square", NetWeights{Whh: randomDense(3, 4, rng)}, good, DefaultPermOptions()},
		{"NaN", good, nan, DefaultPermOptions()},
		{"tie without W_ih", NetWeights{Whh: good.Whh}, good, PermOptions{TieIO: true}},
		{"tie channel mismatch", good, randomNet(4, 3, 2, rng), PermOptions{TieIO: true}},
		{"negative restarts", good, good, PermOptions{Restarts: -1}},
	}
	for _, c := range cases {
		if _, err := PermutationDistance(c.a, c.b, c.opts); err == nil {
			t.Errorf("%s: want an error", c.name)
		}
	}
	if _, err := PermutationDistances([]NetWeights{good}, DefaultPermOptions()); err == nil {
		t.Error("one network: want an error")
	}
}

// benchmarkPermutation times one pair of random (H, H) matrices with the
// default options.
func benchmarkPermutation(b *testing.B, h int, planted bool) {
	rng := rand.New(rand.NewPCG(uint64(h), 99))
	w1 := NetWeights{Whh: randomDense(h, h, rng)}
	w2 := NetWeights{Whh: randomDense(h, h, rng)}
	if planted {
		w2 = relabel(w1, rng.Perm(h))
	}
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := PermutationDistance(w1, w2, DefaultPermOptions()); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// processCPU returns the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the CPU milliseconds per operation since cpu0 to b's
// results: on a shared, loaded machine it is steadier than wall time.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func BenchmarkPermutation32(b *testing.B)         { benchmarkPermutation(b, 32, false) }
func BenchmarkPermutation64(b *testing.B)         { benchmarkPermutation(b, 64, false) }
func BenchmarkPermutation128(b *testing.B)        { benchmarkPermutation(b, 128, false) }
func BenchmarkPermutation128Planted(b *testing.B) { benchmarkPermutation(b, 128, true) }
func BenchmarkPermutation256(b *testing.B)        { benchmarkPermutation(b, 256, false) }

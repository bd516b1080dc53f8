package main

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Training is chaotic: two float32 implementations of the same step, run
// from the same seed, end hundreds of Adam steps later at test losses that
// differ by factors of two and more, network by network. So the end-to-end
// check asks whether the GPU's networks differ from the CPU's no more than a
// change of rounding alone makes them differ: the calibration is the CPU
// trained in float64 (e2e curve -backend cpu64) against the CPU in float32,
// for the networks of the float64 curve, each after the steps it took to
// converge on the GPU: the same networks and epochs the GPU is judged at
// (the divergence grows with the steps: on the flip-flop the median
// |log(cpu64/cpu32)| goes from 0.19 after 550 steps to 0.63 after 1500).
// Two one-number tests on log(gpu/cpu):
//   - bias: a sign test, gpu above cpu as often as below;
//   - spread: a rank-sum (Mann-Whitney) test that |log(gpu/cpu)| is not
//     larger than the calibration's |log(cpu64/cpu32)|.

// signTest returns how many of logs are positive, how many are nonzero,
// and the two-sided p-value of that count under a fair coin (normal
// approximation with continuity correction).
func signTest(logs []float64) (pos, n int, p float64) {
	for _, v := range logs {
		if v > 0 {
			pos++
		}
		if v != 0 {
			n++
		}
	}
	if n == 0 {
		return 0, 0, 1
	}
	mean, sd := float64(n)/2, math.Sqrt(float64(n))/2
	z := (math.Abs(float64(pos)-mean) - 0.5) / sd
	if z < 0 {
		z = 0
	}
	return pos, n, 2 * distuv.UnitNormal.Survival(z)
}

// rankSumGreater returns the Mann-Whitney z statistic for x against y and
// the one-sided p-value that x tends to be larger than y (normal
// approximation, ties given their mean rank).
func rankSumGreater(x, y []float64) (z, p float64) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 0, 1
	}
	type item struct {
		v    float64
		inX  bool
		rank float64
	}
	all := make([]item, 0, n1+n2)
	for _, v := range x {
		all = append(all, item{v: v, inX: true})
	}
	for _, v := range y {
		all = append(all, item{v: v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		for k := i; k < j; k++ {
			all[k].rank = float64(i+j+1) / 2 // ranks i+1 .. j
		}
		i = j
	}
	r1 := 0.0
	for _, it := range all {
		if it.inX {
			r1 += it.rank
		}
	}
	u := r1 - float64(n1)*float64(n1+1)/2
	mean := float64(n1) * float64(n2) / 2
	sd := math.Sqrt(float64(n1) * float64(n2) * float64(n1+n2+1) / 12)
	z = (u - mean) / sd
	return z, distuv.UnitNormal.Survival(z)
}

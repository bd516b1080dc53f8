package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkDSAMetricCases times the full DSA matrix of reference/metric_cases
// (7 networks, n = 16 units, 8 trials x 60 steps, 4 delays, rank 12), the
// published implementation's 4.5 s per pair on 2 cores being the baseline.
func BenchmarkDSAMetricCases(b *testing.B) {
	c := loadDSACases(b)
	opt := DSAOptions{Delays: 4, Rank: 12, Seed: 1}
	pairs := c.N * (c.N - 1) / 2
	b.ResetTimer()
	c0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := DSAMatrix(c.trajs, c.K, c.T, c.n, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*pairs), "ms/pair")
	b.ReportMetric(float64((processCPU()-c0).Milliseconds())/float64(b.N*pairs), "cpu-ms/pair")
}

// BenchmarkDSAMatrix50 times the reference study's scale: 50 networks of
// H = 128 units, 64 trials x 100 steps, 5 delays, rank 30 (1,225 pairs).
func BenchmarkDSAMatrix50(b *testing.B) {
	const N, K, T, H = 50, 64, 100, 128
	trajs := randomRNNTrajectories(N, K, T, H, 3, 50)
	opt := DSAOptions{Delays: 5, Rank: 30, Seed: 1}
	b.ResetTimer()
	var fit, pairs, fitCPU, pairsCPU time.Duration
	for i := 0; i < b.N; i++ {
		t0, c0 := time.Now(), processCPU()
		ops, err := FitOperators(trajs, K, T, H, opt)
		if err != nil {
			b.Fatal(err)
		}
		t1, c1 := time.Now(), processCPU()
		if _, err := DSAOperatorMatrix(ops, opt); err != nil {
			b.Fatal(err)
		}
		fit += t1.Sub(t0)
		pairs += time.Since(t1)
		fitCPU += c1 - c0
		pairsCPU += processCPU() - c1
	}
	b.ReportMetric(fit.Seconds()/float64(b.N), "s-fit")
	b.ReportMetric(pairs.Seconds()/float64(b.N), "s-pairs")
	b.ReportMetric(fitCPU.Seconds()/float64(b.N), "cpu-s-fit")
	b.ReportMetric(pairsCPU.Seconds()/float64(b.N), "cpu-s-pairs")
	b.ReportMetric(float64(pairsCPU.Milliseconds())/float64(b.N*N*(N-1)/2), "cpu-ms/pair")
}

// BenchmarkFitOperator times one network's operator at the study's scale.
func BenchmarkFitOperator(b *testing.B) {
	const K, T, H = 64, 100, 128
	trajs := randomRNNTrajectories(1, K, T, H, 3, 51)
	opt := DSAOptions{Delays: 5, Rank: 30}
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := FitOperator(trajs[0], K, T, H, opt); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkAlignOrthogonal times one pair of random (n, n) matrices with the
// default starts.
func BenchmarkAlignOrthogonal(b *testing.B) {
	for _, n := range []int{12, 30} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(uint64(n), 52))
			a, c := gaussDense(n, n, rng), gaussDense(n, n, rng)
			var steps int
			cpu0 := processCPU()
			for i := 0; i < b.N; i++ {
				fit, err := AlignOrthogonal(a, c, OrthogonalOptions{Seed: uint64(i)})
				if err != nil {
					b.Fatal(err)
				}
				steps += fit.Steps
			}
			reportCPU(b, cpu0)
			b.ReportMetric(float64(steps)/float64(b.N), "steps/op")
		})
	}
}

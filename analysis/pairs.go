package analysis

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Pairwise returns the symmetric (N, N) matrix D with D[i,j] = D[j,i] =
// dist(i, j) for every pair i < j and a zero diagonal. The pairs are spread
// over runtime.GOMAXPROCS(0) goroutines, so dist must be safe for concurrent
// use. The first error stops the work and is returned with the pair that
// caused it; a NaN or infinite distance is an error too.
// progress, if not nil, is called once per finished pair.
func Pairwise(n int, dist func(i, j int) (float64, error), progress ...func()) (*mat.SymDense, error) {
	return PairwiseWorkers(n, runtime.GOMAXPROCS(0), dist, progress...)
}

// PairwiseWorkers is Pairwise on a given number of goroutines (at least 1).
// progress, if not nil, is called once per finished pair, from any goroutine.
func PairwiseWorkers(n, workers int, dist func(i, j int) (float64, error), progress ...func()) (*mat.SymDense, error) {
	if n < 1 {
		return nil, fmt.Errorf("pairwise: need at least one item, got %d", n)
	}
	pairs := make([][2]int, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			pairs = append(pairs, [2]int{i, j})
		}
	}
	d := mat.NewSymDense(n, nil)
	err := parallelFor(len(pairs), workers, func(k int) error {
		i, j := pairs[k][0], pairs[k][1]
		v, err := dist(i, j)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			err = fmt.Errorf("distance is %v", v)
		}
		if err == nil {
			// Each pair writes its own element of the upper triangle.
			d.SetSym(i, j, v)
		}
		for _, f := range progress {
			if f != nil {
				f()
			}
		}
		if err != nil {
			return fmt.Errorf("pair (%d, %d): %w", i, j, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ParallelFor calls f(k) for k = 0..n-1 on runtime.GOMAXPROCS(0)
// goroutines. After the first error it starts no further item and returns
// that error as f returned it, so f's errors should name their item.
func ParallelFor(n int, f func(k int) error) error {
	return parallelFor(n, runtime.GOMAXPROCS(0), f)
}

// parallelFor is ParallelFor on a given number of goroutines (at least 1).
func parallelFor(n, workers int, f func(k int) error) error {
	jobs := make(chan int)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	for w := 0; w < max(workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				if failed() {
					continue
				}
				if err := f(k); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for k := 0; k < n && !failed(); k++ {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	return firstErr
}

// PairStats summarises the off-diagonal entries of a symmetric distance
// matrix: over the M = N(N-1)/2 pairs i < j,
//
//	Mean   = sum d_ij / M
//	StdErr = sqrt(sum (d_ij - Mean)^2 / (M - 1)) / sqrt(M)   (0 when M < 2)
//
// The standard error treats pairs as independent, which they are not (each
// network enters N-1 pairs): read it as a scale, not a confidence interval.
type PairStats struct {
	Mean   float64 `json:"mean"`
	StdErr float64 `json:"stderr"`
	Count  int     `json:"pairs"`
}

// SummarizePairs returns the PairStats of d's entries above the diagonal.
func SummarizePairs(d mat.Symmetric) PairStats {
	n := d.SymmetricDim()
	var vals []float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			vals = append(vals, d.At(i, j))
		}
	}
	return summarize(vals)
}

// summarize returns the mean, standard error of the mean and count of vals.
func summarize(vals []float64) PairStats {
	s := PairStats{Count: len(vals)}
	if len(vals) == 0 {
		return s
	}
	for _, v := range vals {
		s.Mean += v
	}
	s.Mean /= float64(len(vals))
	if len(vals) < 2 {
		return s
	}
	var ss float64
	for _, v := range vals {
		ss += (v - s.Mean) * (v - s.Mean)
	}
	s.StdErr = math.Sqrt(ss/float64(len(vals)-1)) / math.Sqrt(float64(len(vals)))
	return s
}

// CheckFinite returns an error naming what and the first index whose value
// is NaN or infinite.
func CheckFinite(what string, data []float64) error {
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: element %d is %v", what, i, v)
		}
	}
	return nil
}

// SymData returns d's entries in row-major order, (N*N), for writing to NPZ.
func SymData(d mat.Symmetric) []float64 {
	n := d.SymmetricDim()
	out := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			out[i*n+j] = d.At(i, j)
		}
	}
	return out
}

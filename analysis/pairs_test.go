package analysis

import (
	"errors"
	"math"
	"sync/atomic"
	"testing"
)

func TestPairwise(t *testing.T) {
	for _, n := range []int{1, 2, 7, 33} {
		for _, workers := range []int{1, 3} {
			d, err := PairwiseWorkers(n, workers, func(i, j int) (float64, error) {
				return float64(10*i + j), nil
			})
			if err != nil {
				t.Fatalf("n=%d workers=%d: %v", n, workers, err)
			}
			for i := 0; i < n; i++ {
				if d.At(i, i) != 0 {
					t.Errorf("n=%d: diagonal %d = %v", n, i, d.At(i, i))
				}
				for j := i + 1; j < n; j++ {
					if want := float64(10*i + j); d.At(i, j) != want || d.At(j, i) != want {
						t.Errorf("n=%d: d[%d,%d]=%v d[%d,%d]=%v, want %v", n, i, j, d.At(i, j), j, i, d.At(j, i), want)
					}
				}
			}
		}
	}
}

func TestPairwiseProgress(t *testing.T) {
	var calls atomic.Int64
	if _, err := PairwiseWorkers(9, 2, func(i, j int) (float64, error) { return 1, nil }, func() { calls.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 36 {
		t.Errorf("progress called %d times, want 36 (one per pair)", calls.Load())
	}
	var seen [5]atomic.Int64
	if err := ParallelFor(5, func(k int) error { seen[k].Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	for k := range seen {
		if seen[k].Load() != 1 {
			t.Errorf("ParallelFor visited item %d %d times", k, seen[k].Load())
		}
	}
	boom := errors.New("boom")
	if err := ParallelFor(5, func(k int) error {
		if k == 3 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("ParallelFor: want the item's error, got %v", err)
	}
}

func TestPairwiseErrors(t *testing.T) {
	boom := errors.New("boom")
	if _, err := Pairwise(5, func(i, j int) (float64, error) {
		if i == 2 && j == 3 {
			return 0, boom
		}
		return 1, nil
	}); !errors.Is(err, boom) {
		t.Errorf("want the pair's error, got %v", err)
	}
	if _, err := Pairwise(4, func(i, j int) (float64, error) { return math.NaN(), nil }); err == nil {
		t.Error("NaN distance: want an error")
	}
	if _, err := Pairwise(0, nil); err == nil {
		t.Error("no items: want an error")
	}
}

func TestSummarizePairs(t *testing.T) {
	d, _ := Pairwise(3, func(i, j int) (float64, error) { return float64(i + j), nil })
	// pairs: (0,1)=1 (0,2)=2 (1,2)=3: mean 2, sample sd 1, se 1/sqrt(3)
	s := SummarizePairs(d)
	if s.Count != 3 || math.Abs(s.Mean-2) > 1e-15 || math.Abs(s.StdErr-1/math.Sqrt(3)) > 1e-15 {
		t.Errorf("got %+v, want mean 2, stderr %v, 3 pairs", s, 1/math.Sqrt(3))
	}
	if err := CheckFinite("x", []float64{0, math.Inf(1)}); err == nil {
		t.Error("Inf: want an error")
	}
}

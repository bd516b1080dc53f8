package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
)

// permutations calls f with every permutation of 0..n-1 (Heap's algorithm).
func permutations(n int, f func(p []int)) {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	c := make([]int, n)
	f(p)
	for i := 0; i < n; {
		if c[i] < i {
			if i%2 == 0 {
				p[0], p[i] = p[i], p[0]
			} else {
				p[c[i]], p[i] = p[i], p[c[i]]
			}
			f(p)
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
}

func TestLinearAssignmentBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 5, 8} {
		for trial := 0; trial < 20; trial++ {
			cost := make([]float64, n*n)
			for k := range cost {
				cost[k] = rng.NormFloat64()
				if trial%3 == 0 {
					cost[k] = float64(rng.IntN(3)) // ties
				}
			}
			sigma, got, err := LinearAssignment(n, cost)
			if err != nil {
				t.Fatal(err)
			}
			seen := make([]bool, n)
			var sum float64
			for i, j := range sigma {
				if seen[j] {
					t.Fatalf("n=%d: %v is not a permutation", n, sigma)
				}
				seen[j] = true
				sum += cost[i*n+j]
			}
			best := math.Inf(1)
			permutations(n, func(p []int) {
				var s float64
				for i, j := range p {
					s += cost[i*n+j]
				}
				best = min(best, s)
			})
			if math.Abs(got-best) > 1e-12 || math.Abs(sum-got) > 1e-12 {
				t.Errorf("n=%d trial %d: got %v (sum %v), optimum %v", n, trial, got, sum, best)
			}
		}
	}
}

func TestLinearAssignmentPlanted(t *testing.T) {
	// cost[i, j] = |i - pi(j)|... a zero-cost assignment exists only at sigma = pi^-1.
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{63, 65, 129} {
		pi := rng.Perm(n)
		cost := make([]float64, n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				cost[i*n+j] = math.Abs(float64(i-pi[j])) + rng.Float64()*0.1
				if i == pi[j] {
					cost[i*n+j] = 0
				}
			}
		}
		sigma, total, err := LinearAssignment(n, cost)
		if err != nil {
			t.Fatal(err)
		}
		for i := range sigma {
			if pi[sigma[i]] != i {
				t.Fatalf("n=%d: row %d assigned column %d, want the planted one", n, i, sigma[i])
			}
		}
		if total != 0 {
			t.Errorf("n=%d: total %v, want 0", n, total)
		}
	}
}

func TestLinearAssignmentErrors(t *testing.T) {
	if _, _, err := LinearAssignment(2, []float64{1, 2, 3}); err == nil {
		t.Error("wrong length: want an error")
	}
	if _, _, err := LinearAssignment(2, []float64{1, math.NaN(), 3, 4}); err == nil {
		t.Error("NaN cost: want an error")
	}
}

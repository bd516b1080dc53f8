package analysis

import (
	"fmt"
	"math"
)

// LinearAssignment solves the linear assignment problem on the square
// (n, n) row-major cost matrix: it returns the permutation sigma that
// minimises sum_i cost[i*n + sigma(i)] (row i is assigned column sigma(i))
// and that minimum.
//
// It is the shortest augmenting path method of Jonker and Volgenant (1987)
// with their column reduction as the only initialisation: the rows left
// free by it are added one at a time, each assigned by a Dijkstra search
// over reduced costs
// c[i,j] - u[i] - v[j] >= 0, with the dual potentials u, v updated so that
// every assigned pair has zero reduced cost. O(n^3) in the worst case.
// A NaN or infinite cost is an error.
func LinearAssignment(n int, cost []float64) ([]int, float64, error) {
	if n < 0 || len(cost) != n*n {
		return nil, 0, fmt.Errorf("linear assignment: cost has %d elements, want %d x %d", len(cost), n, n)
	}
	if err := CheckFinite("linear assignment cost", cost); err != nil {
		return nil, 0, err
	}
	var w lapWork
	sigma := make([]int, n)
	w.solve(n, cost, sigma)
	var total float64
	for i, j := range sigma {
		total += cost[i*n+j]
	}
	return sigma, total, nil
}

// lapWork holds the scratch space of one linear assignment solve, so
// repeated solves (as in Frank–Wolfe) do not allocate.
type lapWork struct {
	u, v, minv []float64 // (n) row potentials, (n+1) column potentials, (n+1) tentative distances
	rowOf, via []int     // (n+1) row assigned to each column (-1: free), predecessor column on the path
	used       []bool    // (n+1) columns settled in this search
	assigned   []bool    // (n) rows assigned by the column reduction
	lastN      int
}

func (w *lapWork) resize(n int) {
	if w.lastN == n && w.u != nil {
		return
	}
	w.lastN = n
	w.u = make([]float64, n)
	w.v = make([]float64, n+1)
	w.minv = make([]float64, n+1)
	w.rowOf = make([]int, n+1)
	w.via = make([]int, n+1)
	w.used = make([]bool, n+1)
	w.assigned = make([]bool, n)
}

// solve writes the minimising assignment of cost (n, n) into sigma (n); the
// costs must be finite. Column index n is a virtual column from which each
// new row's search starts.
func (w *lapWork) solve(n int, cost []float64, sigma []int) {
	w.resize(n)
	u, v, minv, rowOf, via, used := w.u, w.v, w.minv, w.rowOf, w.via, w.used
	clear(u)
	clear(v)
	for j := range rowOf {
		rowOf[j] = -1
	}
	// Column reduction (Jonker–Volgenant's first phase): v[j] = min_i c[i,j]
	// keeps every reduced cost >= 0, and each column's minimising row takes
	// that column if the row is still free (reduced cost 0).
	assigned := w.assigned
	clear(assigned)
	for j := 0; j < n; j++ {
		best, arg := math.Inf(1), -1
		for i := 0; i < n; i++ {
			if c := cost[i*n+j]; c < best {
				best, arg = c, i
			}
		}
		v[j] = best
		if !assigned[arg] {
			assigned[arg] = true
			rowOf[j] = arg
		}
	}
	for i := 0; i < n; i++ {
		if assigned[i] {
			continue
		}
		// Start from the virtual column n holding row i and search for a
		// free real column along the shortest path of reduced costs.
		rowOf[n] = i
		j0 := n
		for j := 0; j <= n; j++ {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0 := rowOf[j0]
			delta := math.Inf(1)
			j1 := -1
			row := cost[i0*n : i0*n+n]
			ui := u[i0]
			for j := 0; j < n; j++ {
				if used[j] {
					continue
				}
				if cur := row[j] - ui - v[j]; cur < minv[j] {
					minv[j] = cur
					via[j] = j0
				}
				if minv[j] < delta {
					delta = minv[j]
					j1 = j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[rowOf[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if rowOf[j0] < 0 {
				break
			}
		}
		// Augment: shift the assignments back along the path.
		for j0 != n {
			j1 := via[j0]
			rowOf[j0] = rowOf[j1]
			j0 = j1
		}
	}
	for j := 0; j < n; j++ {
		sigma[rowOf[j]] = j
	}
}

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemm checks the float32 GEMM of this build against gonum's float64
// Dgemm for every transpose combination, several alpha and beta, and sizes
// that straddle the kernels' 4-row and 16-column tiles and 256-deep blocks,
// with padded leading dimensions whose padding (NaN) must stay untouched.
func TestSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {3, 16, 5}, {4, 16, 1}, {5, 17, 3}, {16, 3, 7}, {17, 2, 300}, {33, 31, 64}, {64, 64, 64}, {7, 48, 513}, {64, 3, 600}, {3, 64, 600}, {2, 17, 0}, {20, 3, 0}, {6, 40, 300}, {9, 100, 50}, {18, 21, 2}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					name := fmt.Sprintf("m=%d/n=%d/k=%d/tA=%v/tB=%v/alpha=%g/beta=%g", m, n, k, tA, tB, ab[0], ab[1])
					ar, ac := m, k
					if tA {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+3, bc+1, n+2
					a, b, c := make([]float32, ar*lda), make([]float32, br*ldb), make([]float32, m*ldc)
					for _, v := range [][]float32{a, b, c} {
						for i := range v {
							v[i] = float32(2*rng.Float64() - 1)
						}
					}
					for i := range m {
						for j := n; j < ldc; j++ {
							c[i*ldc+j] = float32(math.NaN())
						}
					}
					a64, b64, c64 := widen(a), widen(b), widen(c)
					pureGo.Dgemm(trans(tA), trans(tB), m, n, k, float64(ab[0]), a64, lda, b64, ldb, float64(ab[1]), c64, ldc)
					sgemm(tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], c, ldc)
					for i := range m {
						for j := range ldc {
							got, want := float64(c[i*ldc+j]), c64[i*ldc+j]
							if j >= n {
								if !math.IsNaN(got) {
									t.Fatalf("%s: wrote padding C[%d,%d] = %g", name, i, j, got)
								}
								continue
							}
							if math.Abs(got-want) > 1e-5*float64(k+1) {
								t.Fatalf("%s: C[%d,%d] = %g, want %g", name, i, j, got, want)
							}
						}
					}
				}
			}
		}
	}
}

func widen(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

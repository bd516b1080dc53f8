//go:build openblas

package cpu

import "degen/cpu/internal/openblas"

func init() { polar = openblas.PolarFactor }

// sgemm is gemm for float32 through OpenBLAS (single-threaded, cgo).
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	openblas.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// BLAS names the float32 GEMM in use.
func BLAS() string { return "OpenBLAS (cgo, single-threaded)" }

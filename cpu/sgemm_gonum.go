//go:build !openblas && (!amd64 || purego)

package cpu

// sgemm is gemm for float32 through gonum's pure-Go BLAS.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	pureGo.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// BLAS names the float32 GEMM in use.
func BLAS() string { return "gonum pure-Go" }

package cpu

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// float is the element type of an ensemble: float32 for training, float64
// for the reference.
type float interface{ float32 | float64 }

// pureGo is gonum's pure-Go BLAS, used for float64 always and for float32
// unless the build selects a faster float32 GEMM (see sgemm).
var pureGo gonum.Implementation

// trans maps a transpose flag to gonum's constant.
func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes C = alpha * op(A) op(B) + beta * C with row-major matrices,
// op(A) (m, k), op(B) (k, n), C (m, n); op transposes when tA or tB is set.
// When beta is 0, C is not read.
func gemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	// Switching on pointers, not slices, avoids boxing a slice header on
	// every call.
	switch a := any(&a).(type) {
	case *[]float32:
		sgemm(tA, tB, m, n, k, float32(alpha), *a, lda, *any(&b).(*[]float32), ldb, float32(beta), *any(&c).(*[]float32), ldc)
	case *[]float64:
		pureGo.Dgemm(trans(tA), trans(tB), m, n, k, float64(alpha), *a, lda, *any(&b).(*[]float64), ldb, float64(beta), *any(&c).(*[]float64), ldc)
	}
}

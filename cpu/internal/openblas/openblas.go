//go:build openblas

// Package openblas is the one cgo binding of package cpu: single-threaded
// OpenBLAS cblas_sgemm. It lives apart because a Go package with cgo may not
// hold Go assembly, which cpu does. Build with -tags openblas and Debian's
// libopenblas-dev (or any OpenBLAS providing cblas.h and -lopenblas).
package openblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func init() {
	// Callers run networks in parallel on goroutines; OpenBLAS's own
	// threads would only compete with them.
	C.openblas_set_num_threads(1)
}

// Sgemm computes C = alpha op(A) op(B) + beta C for row-major float32
// matrices, op(A) (m, k), op(B) (k, n), C (m, n), op transposing when tA or
// tB is set. It panics, like gonum's BLAS, when a slice is too short for
// its sizes and leading dimension, since OpenBLAS would read or write past it.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	if k > 0 && (len(a) < (ar-1)*lda+ac || len(b) < (br-1)*ldb+bc) || len(c) < (m-1)*ldc+n || lda < max(ac, 1) || ldb < max(bc, 1) || ldc < max(n, 1) {
		panic(fmt.Sprintf("openblas: sgemm m=%d n=%d k=%d: slices too short (a %d, b %d, c %d) or bad leading dimensions", m, n, k, len(a), len(b), len(c)))
	}
	var pa, pb *C.float
	if k > 0 {
		pa, pb = (*C.float)(unsafe.Pointer(&a[0])), (*C.float)(unsafe.Pointer(&b[0]))
	}
	C.cblas_sgemm(C.CblasRowMajor, trans(tA), trans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), pa, C.blasint(lda), pb, C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

func trans(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

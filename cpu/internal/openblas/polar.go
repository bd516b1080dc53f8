//go:build openblas

package openblas

/*
#include <stddef.h>
#include <cblas.h>

// LAPACK's divide-and-conquer SVD as OpenBLAS exports it (Fortran ABI,
// 32-bit integers, hidden length of the character argument last).
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda,
	double* s, double* u, const int* ldu, double* vt, const int* ldvt,
	double* work, const int* lwork, int* iwork, int* info, size_t jobz_len);
*/
import "C"

import (
	"math"
	"unsafe"
)

// PolarFactor returns U V^T (n, n), row-major, from the SVD W = U Sigma V^T
// of the row-major (n, n) matrix w, using LAPACK's dgesdd from OpenBLAS.
// ok is false when w holds NaN or Inf or the SVD does not converge.
//
// LAPACK is column-major, so it sees A = W^T = V Sigma U^T; the product of
// its factors U_A V_A^T = V U^T, stored column-major, is U V^T row-major.
func PolarFactor(n int, w []float64) (uvt []float64, ok bool) {
	if n <= 0 || len(w) < n*n {
		return nil, false
	}
	a := make([]float64, n*n)
	for i, v := range w[:n*n] {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		a[i] = v
	}
	s, u, vt := make([]float64, n), make([]float64, n*n), make([]float64, n*n)
	iwork := make([]C.int, 8*n)
	jobz := C.char('S')
	cn := C.int(n)
	var info C.int
	// Workspace query, then the SVD.
	var query C.double
	lwork := C.int(-1)
	C.dgesdd_(&jobz, &cn, &cn, (*C.double)(&a[0]), &cn, (*C.double)(&s[0]), (*C.double)(&u[0]), &cn,
		(*C.double)(&vt[0]), &cn, &query, &lwork, &iwork[0], &info, 1)
	if info != 0 {
		return nil, false
	}
	work := make([]float64, int(query)+1)
	lwork = C.int(len(work))
	C.dgesdd_(&jobz, &cn, &cn, (*C.double)(&a[0]), &cn, (*C.double)(&s[0]), (*C.double)(&u[0]), &cn,
		(*C.double)(&vt[0]), &cn, (*C.double)(&work[0]), &lwork, &iwork[0], &info, 1)
	if info != 0 {
		return nil, false
	}
	uvt = make([]float64, n*n)
	C.cblas_dgemm(C.CblasColMajor, C.CblasNoTrans, C.CblasNoTrans, cn, cn, cn, 1,
		(*C.double)(unsafe.Pointer(&u[0])), cn, (*C.double)(unsafe.Pointer(&vt[0])), cn, 0,
		(*C.double)(unsafe.Pointer(&uvt[0])), cn)
	return uvt, true
}

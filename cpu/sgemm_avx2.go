//go:build !openblas && amd64 && !purego

package cpu

// BLAS names the float32 GEMM in use.
func BLAS() string {
	if haveAVX2FMA {
		return "Go-assembly AVX2/FMA kernels, gonum pure-Go for thin shapes"
	}
	return "gonum pure-Go (this CPU lacks AVX2 or FMA)"
}

// kern4x16 computes C[r, j] += alpha * sum_{p<k} A(r, p) B(p, j) for r < 4,
// j < 16, where A(r, p) = a[r*ai + p*ap], B(p, j) = b[p*bp + j] and
// C[r, j] = c[r*ldc + j] (strides in elements, k > 0).
//
//go:noescape
func kern4x16(k int, a *float32, ai, ap int, b *float32, bp int, c *float32, ldc int, alpha float32)

// kern1x16 is kern4x16 for one row: C[j] += alpha * sum_p A(p) B(p, j),
// A(p) = a[p*ap].
//
//go:noescape
func kern1x16(k int, a *float32, ap int, b *float32, bp int, c *float32, alpha float32)

// kBlock is the depth of one pass of the kernels: 256 rows of A and B
// (16 KB each for a 4x16 tile's panels) stay in L1/L2 across the tiles.
const kBlock = 256

// sgemm is gemm for float32. Shapes whose output has at least 16 columns
// (or, transposed, 16 rows) go to the AVX2 kernels: a transposed B is
// packed into row-major order first, and when C has few columns but op(A)
// is stored column-wise, C^T = op(B)^T op(A)^T is computed instead. The
// rest, and CPUs without AVX2 and FMA, use gonum's pure-Go BLAS.
func sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if !haveAVX2FMA || m == 0 || n == 0 {
		pureGo.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if k == 0 {
		scaleRows(c, m, n, ldc, beta)
		return
	}
	// A(i, p) = a[i*ai + p*ap], B(p, j) = b[p*bp + j*bj].
	ai, ap := lda, 1
	if tA {
		ai, ap = 1, lda
	}
	bp, bj := ldb, 1
	if tB {
		bp, bj = 1, ldb
	}
	switch {
	case n >= 16:
		scaleRows(c, m, n, ldc, beta)
		if bj != 1 {
			b, bp = packRows(k, n, b, bp, bj), n
		}
		tiles(m, n, k, a, ai, ap, b, bp, c, ldc, alpha)
	case m >= 16 && ai == 1:
		// C^T (n, m) = op(B)^T op(A)^T, with op(A)^T stored row-major.
		scaleRows(c, m, n, ldc, beta)
		ct := make([]float32, n*m)
		tiles(n, m, k, b, bj, bp, a, ap, ct, m, alpha)
		for i := range m {
			for j := range n {
				c[i*ldc+j] += ct[j*m+i]
			}
		}
	case !tA && tB:
		// Few output columns, both operands row-wise (the readout
		// H W_out^T): one dot product per element, with no goroutines.
		scaleRows(c, m, n, ldc, beta)
		for i := range m {
			for j := range n {
				c[i*ldc+j] += alpha * pureGo.Sdot(k, a[i*lda:], 1, b[j*ldb:], 1)
			}
		}
	default:
		pureGo.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// tiles adds alpha * A B to C (m, n) with the kernels, A(i, p) =
// a[i*ai + p*ap], B(p, j) = b[p*bp + j]: 4x16 tiles, then single rows. The
// last n%16 columns go through the same kernels on a zero-padded copy of
// B's last columns and a scratch copy of C's.
func tiles(m, n, k int, a []float32, ai, ap int, b []float32, bp int, c []float32, ldc int, alpha float32) {
	n16 := n &^ 15
	for p0 := 0; p0 < k; p0 += kBlock {
		kc := min(kBlock, k-p0)
		i := 0
		for ; i+4 <= m; i += 4 {
			for j := 0; j < n16; j += 16 {
				kern4x16(kc, &a[i*ai+p0*ap], ai, ap, &b[p0*bp+j], bp, &c[i*ldc+j], ldc, alpha)
			}
		}
		for ; i < m; i++ {
			for j := 0; j < n16; j += 16 {
				kern1x16(kc, &a[i*ai+p0*ap], ap, &b[p0*bp+j], bp, &c[i*ldc+j], alpha)
			}
		}
	}
	if n16 == n {
		return
	}
	w := n - n16
	panel := make([]float32, k*16) // B(p, n16+j) for j < w, zero beyond
	for p := range k {
		copy(panel[p*16:p*16+w], b[p*bp+n16:p*bp+n])
	}
	var tile [4 * 16]float32
	for i := 0; i < m; i += 4 {
		rows := min(4, m-i)
		for r := range rows {
			copy(tile[r*16:r*16+w], c[(i+r)*ldc+n16:(i+r)*ldc+n])
		}
		for p0 := 0; p0 < k; p0 += kBlock {
			kc := min(kBlock, k-p0)
			if rows == 4 {
				kern4x16(kc, &a[i*ai+p0*ap], ai, ap, &panel[p0*16], 16, &tile[0], 16, alpha)
				continue
			}
			for r := range rows {
				kern1x16(kc, &a[(i+r)*ai+p0*ap], ap, &panel[p0*16], 16, &tile[r*16], alpha)
			}
		}
		for r := range rows {
			copy(c[(i+r)*ldc+n16:(i+r)*ldc+n], tile[r*16:r*16+w])
		}
	}
}

// scaleRows sets C = beta*C for the (m, n) matrix C with row stride ldc;
// beta = 0 clears C without reading it.
func scaleRows(c []float32, m, n, ldc int, beta float32) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packRows returns the (k, n) matrix B(p, j) = b[p*bp + j*bj] in row-major
// order.
func packRows(k, n int, b []float32, bp, bj int) []float32 {
	out := make([]float32, k*n)
	for p := range k {
		for j := range n {
			out[p*n+j] = b[p*bp+j*bj]
		}
	}
	return out
}

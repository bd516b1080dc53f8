package cpu

import (
	"math"
	"unsafe"
)

// tanhInPlace sets v[i] = tanh(v[i]): math.Tanh for float64, tanh32 (eight
// lanes at a time where the CPU has AVX2 and FMA) for float32.
func tanhInPlace[T float](v []T) {
	switch p := any(&v).(type) { // a pointer: no allocation per call
	case *[]float32:
		tanhSlice32(*p)
	case *[]float64:
		for i, x := range *p {
			(*p)[i] = math.Tanh(x)
		}
	}
}

// tanhCoeffs are the constants of tanh32: the clamp bound, then the
// coefficients of P and Q from the highest power of x² down. P/Q is the
// 12th convergent of Lambert's continued fraction
//
//	tanh(x) = x / (1 + x²/(3 + x²/(5 + x²/(7 + ...)))),
//
// normalised so that P(0) = Q(0) = 1.
var tanhCoeffs = [15]float32{
	9,
	1.0 / 7905853580625, 1.0 / 1930611375, 2.0 / 6194475, 4.0 / 60375, 3.0 / 575, 11.0 / 75, 1,
	1.0 / 86877511875, 8.0 / 526530375, 2.0 / 382375, 8.0 / 12075, 11.0 / 345, 12.0 / 25, 1,
}

// tanh32 is a float32 tanh within a relative error of 5e-7 (a few units in
// the last place): x is clamped to |x| <= 9, where float32 tanh reaches ±1
// to within one unit, then
//
//	tanh(x) ≈ x P(x²) / Q(x²)
//
// with the polynomials of degree 6 in tanhCoeffs, whose exact-arithmetic
// relative error on |x| <= 9 is below 4e-8. NaN stays NaN. The AVX2
// version (tanh_amd64.s) evaluates the same formula with fused multiply-adds.
func tanh32(x float32) float32 {
	c := &tanhCoeffs
	if x > c[0] {
		x = c[0]
	} else if x < -c[0] {
		x = -c[0]
	}
	x2 := x * x
	p := c[1]
	for _, a := range c[2:8] {
		p = p*x2 + a
	}
	q := c[8]
	for _, b := range c[9:15] {
		q = q*x2 + b
	}
	return x * p / q
}

// load copies src, converted to T, into *buf (grown as needed) and returns
// it. The copy, even for float32, gives every network's operands the same
// memory alignment wherever its slot sits in the batch.
func load[T float](src []float32, buf *[]T) []T {
	dst := grow(buf, len(src))
	for i, v := range src {
		dst[i] = T(v)
	}
	return dst
}

// grow returns (*buf)[:n], reallocating *buf (64-byte aligned) when it is
// too short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = alignedMake[T](n)
	}
	return (*buf)[:n]
}

// simdAlign is the byte alignment of every buffer the kernels read or write
// (a cache line, which covers the 32-byte AVX2 registers).
const simdAlign = 64

// alignedMake returns a zeroed slice of n elements whose first element is
// simdAlign-aligned. The vectorised kernels (ours and gonum's) split their
// work by address alignment, which changes the order of floating-point sums:
// with every operand equally aligned, a network's result does not depend on
// where its data sit, so it is the same in any ensemble.
func alignedMake[T any](n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	buf := make([]T, n+simdAlign/size)
	off := 0
	if n > 0 || len(buf) > 0 {
		if rem := int(uintptr(unsafe.Pointer(&buf[0])) % simdAlign); rem != 0 {
			off = (simdAlign - rem) / size
		}
	}
	return buf[off : off+n : off+n]
}

// fillRows sets every row of the (rows, len(v)) matrix m to v.
func fillRows[T float](m []T, v []T) {
	for r := 0; r+len(v) <= len(m); r += len(v) {
		copy(m[r:r+len(v)], v)
	}
}

package cpu

import "math"

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

// tanhCoeffs are the constants of tanh32: the clamp bound, the numerator
// coefficients a13, a11, ..., a1 and the denominator coefficients b6, b4,
// b2, b0 of the odd/even rational minimax approximation (Eigen's fast tanh).
var tanhCoeffs = [12]float32{
	7.90531110763549805,
	-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
	1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03,
	1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03,
}

// tanh32 is a float32 tanh within a relative error of 5e-7 (a few units in
// the last place):
// x clamped to |x| <= 7.9053 (beyond which tanh rounds to ±1), then
//
//	tanh(x) ≈ x (a1 + a3 x² + ... + a13 x¹²) / (b0 + b2 x² + b4 x⁴ + b6 x⁶).
//
// NaN stays NaN. The vector version (tanh_amd64.s) evaluates the same
// formula with fused multiply-adds.
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
	for _, b := range c[9:12] {
		q = q*x2 + b
	}
	return x * p / q
}

// load returns src as a []T: src itself when T is float32, otherwise src
// converted into *buf (grown as needed).
func load[T float](src []float32, buf *[]T) []T {
	if s, ok := any(&src).(*[]T); ok {
		return *s
	}
	dst := grow(buf, len(src))
	for i, v := range src {
		dst[i] = T(v)
	}
	return dst
}

// grow returns (*buf)[:n], reallocating *buf when it is too short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// fillRows sets every row of the (rows, len(v)) matrix m to v.
func fillRows[T float](m []T, v []T) {
	for r := 0; r+len(v) <= len(m); r += len(v) {
		copy(m[r:r+len(v)], v)
	}
}

package cpu

import "math"

// tanhInPlace sets v[i] = tanh(v[i]): math.Tanh for float64, tanh32 for float32.
func tanhInPlace[T float](v []T) {
	switch v := any(v).(type) {
	case []float32:
		for i, x := range v {
			v[i] = tanh32(x)
		}
	case []float64:
		for i, x := range v {
			v[i] = math.Tanh(x)
		}
	}
}

// tanh32 is a float32 tanh accurate to a few units in the last place: the
// odd/even rational minimax approximation x*P(x^2)/Q(x^2) of degrees 13/6 on
// |x| <= 7.9053 (beyond which tanh rounds to ±1 in float32), and x itself for
// |x| < 4e-4 where tanh(x) = x to float32 precision.
func tanh32(x float32) float32 {
	const clamp = 7.90531110763549805
	if x > clamp {
		x = clamp
	} else if x < -clamp {
		x = -clamp
	}
	if x < 4e-4 && x > -4e-4 {
		return x
	}
	x2 := x * x
	p := float32(-2.76076847742355e-16)
	p = p*x2 + 2.00018790482477e-13
	p = p*x2 - 8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	q := float32(1.19825839466702e-06)
	q = q*x2 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return x * p / q
}

// load returns src as a []T: src itself when T is float32, otherwise src
// converted into *buf (grown as needed).
func load[T float](src []float32, buf *[]T) []T {
	if s, ok := any(src).([]T); ok {
		return s
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

// addColumnSums adds alpha times the column sums of the (rows, len(dst))
// matrix m to dst: dst[j] += alpha * sum_r m[r, j].
func addColumnSums[T float](dst []T, alpha T, m []T) {
	n := len(dst)
	acc := make([]float64, n)
	for r := 0; r+n <= len(m); r += n {
		for j, v := range m[r : r+n] {
			acc[j] += float64(v)
		}
	}
	for j := range dst {
		dst[j] += alpha * T(acc[j])
	}
}

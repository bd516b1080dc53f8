//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

var haveAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// tanhTable holds each of tanhCoeffs broadcast to eight lanes, so the
// kernel reads its constants as 32-byte memory operands.
var tanhTable = func() (t [15][8]float32) {
	for i, c := range tanhCoeffs {
		for j := range t[i] {
			t[i][j] = c
		}
	}
	return t
}()

// tanhAVX2 sets x[i] = tanh32(x[i]) for i < n, n a multiple of 8, with c =
// &tanhTable; it needs AVX2 and FMA.
//
//go:noescape
func tanhAVX2(x *float32, n int, c *[15][8]float32)

// tanhSlice32 sets v[i] = tanh32(v[i]), eight lanes at a time with AVX2.
func tanhSlice32(v []float32) {
	n := 0
	if haveAVX2FMA {
		n = len(v) &^ 7
		if n > 0 {
			tanhAVX2(&v[0], n, &tanhTable)
		}
	}
	for i := n; i < len(v); i++ {
		v[i] = tanh32(v[i])
	}
}

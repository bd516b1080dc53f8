package gpu

import (
	"fmt"
	"math"

	"degen"
)

// The launch planning below is plain arithmetic on the sizes, shared by the
// CUDA build and its GPU-free tests.

// sharedFloats returns the dynamic shared memory, in floats, of rnn_forward
// and rnn_backward for chunks of bc trials (see rnn.cu).
func sharedFloats(d degen.Dims, rate bool, bc int) (fwd, bwd int) {
	hp, bp := (d.H+7)&^7, (bc+7)&^7
	padK := func(extra int) int { return (hp + extra + 3) &^ 3 }
	bufs := 2
	if rate {
		bufs = 3
	}
	kf, kb := padK(d.I+1), padK(d.O)
	fwd = kf*hp + bufs*bp*(kf+4) + d.O*d.H + d.O + 2*bp*d.O + 32
	bwd = kb*hp + bufs*bp*(kb+4)
	return fwd, bwd
}

// tileFor returns the register tile R of the sequence kernels (8: 8x8 per
// thread; 4: 4x4, for small H*B, where 8x8 tiles would leave fewer than
// four warps) and their block size: one thread per tile, at most 256, a
// multiple of 32.
func tileFor(h, bc int) (r, threads int) {
	hp, bp := (h+7)&^7, (bc+7)&^7
	r = 8
	if (hp/8)*(bp/8) < 128 {
		r = 4
	}
	tiles := (hp / r) * (bp / r)
	return r, min(max((tiles+31)/32*32, 32), 256)
}

// planChunk returns the number of trials per chunk so that both sequence
// kernels fit in limit bytes of shared memory, balanced over the chunks.
func planChunk(d degen.Dims, rate bool, limit int) (int, error) {
	fits := func(bc int) bool {
		f, b := sharedFloats(d, rate, bc)
		return 4*max(f, b) <= limit
	}
	if !fits(1) {
		f, _ := sharedFloats(d, rate, 1)
		return 0, fmt.Errorf("hidden size H=%d needs %d KiB of shared memory per block (W_hh is staged there); this GPU allows %d KiB, so the GPU backend supports H up to about %d",
			d.H, 4*f/1024, limit/1024, int(math.Sqrt(float64(limit/4)))-8)
	}
	best := 1
	for bc := d.B; bc >= 1; bc-- {
		if fits(bc) {
			best = bc
			break
		}
	}
	chunks := (d.B + best - 1) / best
	return (d.B + chunks - 1) / chunks, nil
}

// gradKernel names the weight-gradient kernel for the sizes, with its W_hh
// tile side and threads per block (see rnn.cu): four small-gradient
// accumulators per thread when I and O allow it, 128x128 tiles for H > 64.
func gradKernel(d degen.Dims) (name string, tile, threads int) {
	switch {
	case d.I <= 4 && d.O <= 4 && d.H > 64:
		return "rnn_grad_w4_t128", 128, 256
	case d.I <= 4 && d.O <= 4:
		return "rnn_grad_w4_t64", 64, 64
	}
	return "rnn_grad_w16", 64, 64
}

// perNetworkBytes is the device memory one network needs for T steps.
func perNetworkBytes(d degen.Dims, p int) int64 {
	f := 4*int64(p) + 8 + int64(d.T)*int64(d.B)*(2*int64(d.H)+2*int64(d.O)+int64(d.I)+2*int64(d.O))
	return 4 * f
}

package gpu

import (
	"fmt"
	"math"
	"strings"

	"degen"
)

// The launch planning below is plain arithmetic on the sizes, shared by the
// CUDA build and its GPU-free tests.

// GroupsEnv selects how many warp groups split each block of the CUDA-core
// sequence kernels (rnn.cu, padTrials): 1 (unset, the default) or 2
// (rnn_forward_r*_g2, rnn_backward_r*_g2), each group running its own half
// of the trials with its own barrier, so that one group's epilogue and
// barrier wait overlap the other's GEMM; auto: 2 where the kernels take 8x8
// tiles and an SM has shared memory for only one of their blocks (W1, both
// cells: nothing else hides a block's barriers), else 1. The tensor-core
// sequence kernels and the fused backward always run as one group.
const GroupsEnv = "DEGEN_GROUPS"

// chooseGroups returns the warp groups for the request (GroupsEnv's value)
// and the sizes.
func chooseGroups(request string, d degen.Dims, rate bool, limit int) (int, error) {
	switch request {
	case "", "1":
		return 1, nil
	case "2":
		return 2, nil
	case "auto":
		bc, err := planChunk(d, rate, limit, 1)
		if err != nil {
			return 0, err
		}
		f, b := sharedFloats(d, rate, bc, 1)
		if r, _ := tileFor(d.H, bc, 1); r == 8 && 2*4*max(f, b) > limit {
			return 2, nil
		}
		return 1, nil
	}
	return 0, fmt.Errorf("%s=%q: want 1, 2 or auto", GroupsEnv, request)
}

// padTrials is padTrials in rnn.cu: a chunk of bc trials padded to a
// multiple of 8 per warp group (groups 1 or 2).
func padTrials(bc, groups int) int {
	m := 8 * groups
	return (bc + m - 1) &^ (m - 1)
}

// sharedFloats returns the dynamic shared memory, in floats, of rnn_forward
// and rnn_backward with groups warp groups for chunks of bc trials (see
// rnn.cu).
func sharedFloats(d degen.Dims, rate bool, bc, groups int) (fwd, bwd int) {
	hp, bp := (d.H+7)&^7, padTrials(bc, groups)
	padK := func(extra int) int { return (hp + extra + 3) &^ 3 }
	bufs := 2
	if rate {
		bufs = 3
	}
	kf, kb := padK(d.I+1), padK(d.O)
	fwd = kf*hp + bufs*bp*(kf+4) + d.O*d.H + d.O + 4*bp*d.O + 32
	bwd = kb*hp + bufs*bp*(kb+4)
	return fwd, bwd
}

// tileFor returns the register tile R of the sequence kernels with groups
// warp groups (8: 8x8 per thread; 4: 4x4, for small H*B, where 8x8 tiles
// would leave fewer than four warps) and their block size: one thread per
// tile, at most 256, each group a multiple of 32 threads.
func tileFor(h, bc, groups int) (r, threads int) {
	hp, bp := (h+7)&^7, padTrials(bc, groups)
	r = 8
	if (hp/8)*(bp/8) < 128 {
		r = 4
	}
	groupTiles := (hp / r) * (bp / r) / groups
	return r, groups * min(max((groupTiles+31)/32*32, 32), 256/groups)
}

// readoutInTile mirrors rnn_forward's choice (rnn.cu, inTile): whether the
// readout runs in each step's epilogue from registers (readoutTile) or
// after a barrier from shared memory (readoutStep).
func readoutInTile(h, bc, groups int) bool {
	r, threads := tileFor(h, bc, groups)
	hp, bp := (h+7)&^7, padTrials(bc, groups)
	tilesC := hp / r
	groupTiles := (bp / groups / r) * tilesC
	return r == 8 && tilesC&(tilesC-1) == 0 && tilesC <= 32 && groupTiles%(threads/groups) == 0
}

// planChunk returns the number of trials per chunk so that both sequence
// kernels, with groups warp groups, fit in limit bytes of shared memory,
// balanced over the chunks.
func planChunk(d degen.Dims, rate bool, limit, groups int) (int, error) {
	fits := func(bc int) bool {
		f, b := sharedFloats(d, rate, bc, groups)
		return 4*max(f, b) <= limit
	}
	if !fits(1) {
		f, _ := sharedFloats(d, rate, 1, groups)
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
// tile side, threads per block and dynamic shared memory in floats: with
// wgmma (see chooseWgmma) rnn_grad_wgmma_t128 or _t64 on Hopper's
// warpgroup MMA (kernels.HopperPTX), with mma (see chooseMma) the
// tensor-core rnn_grad_mma_t128 or _t64, else four small-gradient
// accumulators per thread when I and O allow it, 128x128 tiles for H > 64,
// on the CUDA cores.
func gradKernel(d degen.Dims, mma, wgmma bool) (name string, tile, threads, shared int) {
	switch {
	case wgmma && d.H > 64:
		return "rnn_grad_wgmma_t128", 128, 256, gradWgmmaShared(128)
	case wgmma:
		return "rnn_grad_wgmma_t64", 64, 128, gradWgmmaShared(64)
	case mma && d.H > 64:
		return "rnn_grad_mma_t128", 128, 256, gradMmaShared(128)
	case mma:
		return "rnn_grad_mma_t64", 64, 256, gradMmaShared(64)
	case d.I <= 4 && d.O <= 4 && d.H > 64:
		return "rnn_grad_w4_t128", 128, 256, 0
	case d.I <= 4 && d.O <= 4:
		return "rnn_grad_w4_t64", 64, 64, 0
	}
	return "rnn_grad_w16", 64, 64, 0
}

// GM_STAGES, GM_ROWS and GM_PAD in rnn.cu.
const gmStages, gmRows, gmPad = 4, 32, 8

// gradMmaShared is rnn_grad_mma_t<tile>'s dynamic shared memory in floats:
// gmStages stages of gmRows rows of deltas and activations (padded rows)
// and of x and dy (4 each).
func gradMmaShared(tile int) int {
	return gmStages * (2*gmRows*(tile+gmPad) + 2*gmRows*4)
}

// gradMmaFits says whether rnn_grad_mma_* can run the sizes within limit
// bytes of shared memory (it keeps four x and dy accumulators per thread).
func gradMmaFits(d degen.Dims, limit int) bool {
	tile := 64
	if d.H > 64 {
		tile = 128
	}
	return d.I <= 4 && d.O <= 4 && 4*gradMmaShared(tile) <= limit
}

// GW_STAGES, GW_ROWS, GW_PAD and GW_SBO (bytes) in hopper.cu.
const gwStages, gwRows, gwPad, gwSbo = 4, 32, 8, 32/4*128 + 16

// gradWgmmaShared is rnn_grad_wgmma_t<tile>'s dynamic shared memory in
// floats: gwStages stages of gwRows rows of deltas (padded) and
// activations and of x and dy (4 each), then the big and small K-major B
// buffers, tile / 8 groups of gwSbo bytes each.
func gradWgmmaShared(tile int) int {
	return gwStages*(gwRows*(tile+gwPad)+gwRows*tile+2*gwRows*4) + 2*(tile/8)*(gwSbo/4)
}

// WgmmaEnv selects the kernels that run on Hopper's warpgroup MMA
// (kernels.HopperPTX; 3xTF32 like the mma.sync kernels, whose products
// Hopper runs at a fraction of wgmma's rate): unset or off (the default
// until they have been timed on a GPU); grad: the weight gradients
// (rnn_grad_wgmma_*, in place of the DEGEN_MMA weight-gradient kernel);
// fwd: the forward (rnn_forward_wgmma_*, in place of the DEGEN_MMA and
// DEGEN_GROUPS forward); bwd: the split backward (rnn_backward_wgmma_*,
// likewise); a comma-separated list of these; on: all three. Each is an
// error where its kernel cannot run (a GPU of compute capability other than
// 9.0, sizes it does not support, too little shared memory). auto: each
// where it runs. The fused backward (DEGEN_BACKWARD) replaces the backward
// and weight-gradient kernels.
const WgmmaEnv = "DEGEN_WGMMA"

// wgmmaPlan says which kernels run on the warpgroup MMA.
type wgmmaPlan struct{ grad, fwd, bwd bool }

// forwardWgmmaShared is rnn_forward_wgmma_h<hp>'s dynamic shared memory in
// floats (hopper.cu, forwardWgmma): the big and small parts of W and of A
// (hp and 64 rows of hp + 8 columns), W_out (hp x 4) and 32 for the block
// sum. The rate cell keeps h in registers.
func forwardWgmmaShared(hp int) int {
	return 2*hp*(hp+8) + 2*64*(hp+8) + 4*hp + 32
}

// wgmmaSequenceKernel names the warpgroup-MMA forward or backward (kind)
// for H (64 or 128 units padded) and the cell: rnn_<kind>_wgmma_h<hp>, with
// _rate for the rate cell.
func wgmmaSequenceKernel(kind string, d degen.Dims, rate bool) (name string, hp int) {
	hp = 64
	if d.H > 64 {
		hp = 128
	}
	name = fmt.Sprintf("rnn_%s_wgmma_h%d", kind, hp)
	if rate {
		name += "_rate"
	}
	return name, hp
}

// forwardWgmmaKernel names the warpgroup-MMA forward for the sizes and cell
// with its dynamic shared memory in floats, or an error saying why it
// cannot run them within limit bytes.
func forwardWgmmaKernel(d degen.Dims, rate bool, limit int) (name string, shared int, err error) {
	name, hp := wgmmaSequenceKernel("forward", d, rate)
	shared = forwardWgmmaShared(hp)
	switch {
	case d.H > 128 || d.I > 7 || d.O > 4:
		return "", 0, fmt.Errorf("rnn_forward_wgmma_* supports H <= 128, I <= 7 and O <= 4, got H=%d, I=%d, O=%d", d.H, d.I, d.O)
	case 4*shared > limit:
		return "", 0, fmt.Errorf("%s needs %d KiB of shared memory per block, this GPU allows %d KiB", name, (4*shared+1023)/1024, limit/1024)
	}
	return name, shared, nil
}

// backwardWgmmaShared is rnn_backward_wgmma_h<hp>'s dynamic shared memory
// in floats (hopper.cu, backwardWgmma): the big and small parts of W and of
// A (hp and 64 rows of hp columns), the states prefetch (64 x hp) and W_out
// (hp x 4). The rate cell keeps q in registers.
func backwardWgmmaShared(hp int) int {
	return 2*hp*hp + 2*64*hp + 64*hp + 4*hp
}

// backwardWgmmaKernel is forwardWgmmaKernel for the backward.
func backwardWgmmaKernel(d degen.Dims, rate bool, limit int) (name string, shared int, err error) {
	name, hp := wgmmaSequenceKernel("backward", d, rate)
	shared = backwardWgmmaShared(hp)
	switch {
	case d.H > 128 || d.O > 4:
		return "", 0, fmt.Errorf("rnn_backward_wgmma_* supports H <= 128 and O <= 4, got H=%d, O=%d", d.H, d.O)
	case 4*shared > limit:
		return "", 0, fmt.Errorf("%s needs %d KiB of shared memory per block, this GPU allows %d KiB", name, (4*shared+1023)/1024, limit/1024)
	}
	return name, shared, nil
}

// chooseWgmma returns which kernels run on the warpgroup MMA for the
// request (WgmmaEnv's value), the sizes, the GPU's compute capability and
// its shared memory per block (bytes).
func chooseWgmma(request string, d degen.Dims, rate bool, capability string, limit int) (wgmmaPlan, error) {
	tile := 64
	if d.H > 64 {
		tile = 128
	}
	var gradErr, fwdErr, bwdErr error
	switch {
	case capability != "9.0":
		gradErr = fmt.Errorf("the warpgroup MMA needs a GPU of compute capability 9.0 (H100, H200), this one has %s", capability)
		fwdErr, bwdErr = gradErr, gradErr
	case d.I > 4 || d.O > 4:
		gradErr = fmt.Errorf("rnn_grad_wgmma_* supports I, O <= 4, got I=%d, O=%d", d.I, d.O)
	case 4*gradWgmmaShared(tile) > limit:
		gradErr = fmt.Errorf("rnn_grad_wgmma_t%d needs %d KiB of shared memory per block, this GPU allows %d KiB", tile, gradWgmmaShared(tile)/256, limit/1024)
	}
	if fwdErr == nil {
		_, _, fwdErr = forwardWgmmaKernel(d, rate, limit)
		_, _, bwdErr = backwardWgmmaKernel(d, rate, limit)
	}
	switch request {
	case "", "off":
		return wgmmaPlan{}, nil
	case "auto":
		return wgmmaPlan{grad: gradErr == nil, fwd: fwdErr == nil, bwd: bwdErr == nil}, nil
	case "on":
		request = "grad,fwd,bwd"
	}
	var p wgmmaPlan
	for _, k := range strings.Split(request, ",") {
		var err error
		switch k {
		case "grad":
			p.grad, err = true, gradErr
		case "fwd":
			p.fwd, err = true, fwdErr
		case "bwd":
			p.bwd, err = true, bwdErr
		default:
			return wgmmaPlan{}, fmt.Errorf("%s=%q: want off, on, auto, or grad, fwd and bwd alone or comma-separated", WgmmaEnv, request)
		}
		if err != nil {
			return wgmmaPlan{}, fmt.Errorf("%s=%s: %w", WgmmaEnv, k, err)
		}
	}
	return p, nil
}

// perNetworkBytes is the device memory one network needs for T steps.
func perNetworkBytes(d degen.Dims, p int) int64 {
	f := 4*int64(p) + 8 + int64(d.T)*int64(d.B)*(2*int64(d.H)+2*int64(d.O)+int64(d.I)+2*int64(d.O))
	return 4 * f
}

// fusedTiles is FUSED_DT in rnn.cu: the most 4x4 tiles of dW_hh one thread
// of rnn_backward_fused accumulates.
const fusedTiles = 4

// fusedShared returns the dynamic shared memory, in floats, of
// rnn_backward_fused for chunks of bc trials, and whether the kernel can run
// these sizes within limit bytes: one recurrence tile per thread, a thread
// per unit for the input and output gradients (nt >= 2 Hp), at most
// fusedTiles dW_hh tiles per thread and I, O <= 4 (see rnn.cu).
func fusedShared(d degen.Dims, rate bool, bc, limit int) (floats int, ok bool) {
	hp, bp := (d.H+7)&^7, (bc+7)&^7
	r, nt := tileFor(d.H, bc, 1)
	_, bwd := sharedFloats(d, rate, bc, 1)
	floats = bwd + 4*bp
	ok = (hp/r)*(bp/r) <= nt && nt >= 2*hp && (hp/4)*(hp/4) <= fusedTiles*nt &&
		d.I <= 4 && d.O <= 4 && 4*floats <= limit
	return floats, ok
}

// Backward variants: "split" runs rnn_backward (deltas to memory) then a
// weight-gradient GEMM kernel; "fused" runs rnn_backward_fused, which
// accumulates every weight gradient on chip. BackwardEnv selects one for
// benchmarks and checks: split (the default until the fused kernel has been
// timed on a GPU), fused (an error where it cannot run) or auto (fused where
// it can run).
const BackwardEnv = "DEGEN_BACKWARD"

// chooseBackward returns whether to use rnn_backward_fused for the request
// (BackwardEnv's value) and the sizes.
func chooseBackward(request string, d degen.Dims, rate bool, bc, limit int) (fused bool, err error) {
	_, fits := fusedShared(d, rate, bc, limit)
	switch request {
	case "", "split":
		return false, nil
	case "auto":
		return fits, nil
	case "fused":
		if !fits {
			return false, fmt.Errorf("%s=fused: rnn_backward_fused does not support H=%d, B=%d, I=%d, O=%d (it needs nt >= 2*H threads, at most %d dW_hh tiles per thread, I, O <= 4); use split or auto",
				BackwardEnv, d.H, d.B, d.I, d.O, fusedTiles)
		}
		return true, nil
	}
	return false, fmt.Errorf("%s=%q: want split, fused or auto", BackwardEnv, request)
}

// mmaWarps is MMA_WARPS in rnn.cu: the tensor-core kernels' blocks are
// 4 x 2 warps.
const mmaWarps = 8

// mmaKernels returns the suffix mMTnNT of the tensor-core sequence kernels
// (rnn_forward_mma_*, rnn_backward_mma_*: 64 MT trials by 16 NT units per
// block) for chunks of bc trials, their dynamic shared memory in floats, and
// whether both can run these sizes within limit bytes (see forwardMma and
// backwardMma in rnn.cu).
func mmaKernels(d degen.Dims, rate bool, bc, limit int) (suffix string, fwd, bwd int, ok bool) {
	mt := (bc + 63) / 64
	nt := 2
	for nt < 8 && 16*nt < d.H {
		nt *= 2
	}
	if mt == 2 && nt == 2 {
		nt = 4 // no m2n2 kernels
	}
	if mt > 2 || 16*nt < d.H {
		return "", 0, 0, false
	}
	mp, np := 64*mt, 16*nt
	bufs := 2
	if rate {
		bufs = 3
	}
	kf := (np + d.I + 1 + 7) &^ 7
	kb := (np + d.O + 7) &^ 7
	weights := 1
	if nt <= 4 {
		weights = 2 // PRESPLIT in rnn.cu: the weights' TF32 big and small parts
	}
	fwd = weights*kf*(np+8) + bufs*mp*(kf+4) + d.O*d.H + d.O + 2*mp*d.O + 32
	bwd = weights*kb*(np+8) + bufs*mp*(kb+4)
	return fmt.Sprintf("m%dn%d", mt, nt), fwd, bwd, 4*max(fwd, bwd) <= limit
}

// MmaEnv selects where the per-step GEMMs of the sequence kernels and the
// weight-gradient GEMM run, in 3xTF32 on the tensor cores or in float32 on
// the CUDA cores. Unset: the weight gradients on the tensor cores where
// their kernel runs (I, O <= 4), the sequence kernels on the CUDA cores.
// off: everything on the CUDA cores. grad: the weight gradients on the
// tensor cores; seq: the forward and the split backward; on: all three
// (each an error where its kernels cannot run). auto: all three wherever
// they run. The fused backward (BackwardEnv) stays on the CUDA cores.
const MmaEnv = "DEGEN_MMA"

// mmaPlan says which kernels run on the tensor cores: seq is the suffix of
// the sequence kernels (rnn_forward_mma_*, rnn_backward_mma_*; "" for the
// CUDA-core ones), grad whether the weight gradients use rnn_grad_mma_*.
type mmaPlan struct {
	seq  string
	grad bool
}

// chooseMma returns the tensor-core plan for the request (MmaEnv's value)
// and the sizes.
func chooseMma(request string, d degen.Dims, rate bool, bc, limit int) (mmaPlan, error) {
	suffix, _, _, seqFits := mmaKernels(d, rate, bc, limit)
	gradFits := gradMmaFits(d, limit)
	seqErr := func() error {
		return fmt.Errorf("%s=%s: the tensor-core sequence kernels do not support H=%d with chunks of %d trials (they need H <= 128, chunks <= 128 and the shared memory); use off or auto",
			MmaEnv, request, d.H, bc)
	}
	gradErr := func() error {
		return fmt.Errorf("%s=%s: the tensor-core weight-gradient kernel does not support I=%d, O=%d (it needs I, O <= 4); use off or auto",
			MmaEnv, request, d.I, d.O)
	}
	switch request {
	case "":
		// The default: the weight gradients on the tensor cores wherever
		// their kernel runs (faster, and more accurate than the float32
		// kernel on the H200), the sequence kernels on the CUDA cores (their
		// tensor-core versions were no faster overall and less accurate
		// there; bench/RESULTS.md, fourth session).
		return mmaPlan{grad: gradFits}, nil
	case "off":
		return mmaPlan{}, nil
	case "auto":
		p := mmaPlan{grad: gradFits}
		if seqFits {
			p.seq = suffix
		}
		return p, nil
	case "grad":
		if !gradFits {
			return mmaPlan{}, gradErr()
		}
		return mmaPlan{grad: true}, nil
	case "seq":
		if !seqFits {
			return mmaPlan{}, seqErr()
		}
		return mmaPlan{seq: suffix}, nil
	case "on":
		if !seqFits {
			return mmaPlan{}, seqErr()
		}
		if !gradFits {
			return mmaPlan{}, gradErr()
		}
		return mmaPlan{seq: suffix, grad: true}, nil
	}
	return mmaPlan{}, fmt.Errorf("%s=%q: want off, on, auto, seq or grad", MmaEnv, request)
}

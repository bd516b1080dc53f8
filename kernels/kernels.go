package kernels

import "embed"

// PTX is the generated PTX of kernels.cu (compute_90 target, loaded and
// JIT-compiled by the driver at start-up).
//
//go:embed kernels.ptx
var PTX string

// HopperPTX is the generated PTX of hopper.cu, the kernels that use
// Hopper's warpgroup MMA (wgmma, PTX ISA 8.0, target sm_90a; see
// genptx.sh): a separate module, loaded only where it is used, which
// kernels/check-hopper.sh assembles with CUDA 12.4's ptxas.
//
//go:embed hopper.ptx
var HopperPTX string

// HopperSignatures lists HopperPTX's kernels as Signatures lists
// kernels.ptx's; a test checks it against the PTX.
var HopperSignatures = map[string][]Param{
	// out, iters (bench/gpu/peak)
	"probe_wgmma": {Ptr, I32},
	// A, B, D, fromRegs
	"wgmma_selftest": {Ptr, Ptr, Ptr, I32},
	// A, B1, B2, D2
	"wgmma_chain_selftest": {Ptr, Ptr, Ptr, Ptr},
	// the weight gradients on the warpgroup MMA (DEGEN_WGMMA=grad or on), rnn_grad_*'s parameters
	"rnn_grad_wgmma_t128": gradParams,
	"rnn_grad_wgmma_t64":  gradParams,
	// the forward on the warpgroup MMA (DEGEN_WGMMA=fwd or on), rnn_forward_*'s parameters
	"rnn_forward_wgmma_h128":      forwardParams,
	"rnn_forward_wgmma_h128_rate": forwardParams,
	"rnn_forward_wgmma_h64":       forwardParams,
	"rnn_forward_wgmma_h64_rate":  forwardParams,
	// the backward on the warpgroup MMA (DEGEN_WGMMA=bwd or on), rnn_backward_*'s parameters
	"rnn_backward_wgmma_h128":      backwardParams,
	"rnn_backward_wgmma_h128_rate": backwardParams,
	"rnn_backward_wgmma_h64":       backwardParams,
	"rnn_backward_wgmma_h64_rate":  backwardParams,
}

// Sources holds the CUDA C sources that kernels.ptx and the CPU emulator
// (cuda/emu.cc) are built from. Embedding them makes every build that
// imports this package depend on them: the go command does not track C
// files that cgo code includes from another directory, so without this an
// edited kernel could leave a stale emulator in the build cache.
//
//go:embed *.cu *.cuh *.h
var Sources embed.FS

// Param is the type of one kernel parameter as the launcher passes it.
type Param int

const (
	Ptr Param = iota // a device pointer (PTX .u64), possibly 0
	I32              // int32 (PTX .u32)
	F32              // float32 (PTX .f32)
)

// String returns the PTX type of p.
func (p Param) String() string {
	switch p {
	case Ptr:
		return ".u64"
	case I32:
		return ".u32"
	case F32:
		return ".f32"
	}
	return "?"
}

var (
	forwardParams = []Param{Ptr, Ptr, Ptr, Ptr, I32, Ptr, Ptr, Ptr, Ptr, Ptr,
		I32, I32, I32, I32, I32, I32, I32, I32, F32}
	backwardParams = []Param{Ptr, Ptr, Ptr, Ptr, Ptr,
		I32, I32, I32, I32, I32, I32, I32, I32, F32}
	fusedParams = []Param{Ptr, Ptr, Ptr, Ptr, I32, Ptr, Ptr,
		I32, I32, I32, I32, I32, I32, I32, I32, F32}
	gradParams = []Param{Ptr, Ptr, Ptr, I32, Ptr, Ptr, Ptr, I32, I32, I32, I32, I32, I32, I32}
	taskParams = []Param{Ptr, Ptr, I32, I32, I32, I32, I32, I32, Ptr, Ptr, Ptr}
)

// Signatures lists every kernel of kernels.cu with its parameter types, in order.
// It must match the `extern "C"` declarations in the .cu files; a test checks it
// against the committed PTX.
var Signatures = map[string][]Param{
	// params, x, y, mask, shared, states, yout, dy, loss, gamma,
	// T, B, I, H, O, P, Bc, rate, tau
	"rnn_forward_r8": forwardParams,
	"rnn_forward_r4": forwardParams,
	// two warp groups (DEGEN_GROUPS=2), same parameters
	"rnn_forward_r8_g2": forwardParams,
	"rnn_forward_r4_g2": forwardParams,
	// the tensor-core variants, same parameters (mMT nNT: trial and unit tiles per warp)
	"rnn_forward_mma_m1n2": forwardParams,
	"rnn_forward_mma_m1n4": forwardParams,
	"rnn_forward_mma_m1n8": forwardParams,
	"rnn_forward_mma_m2n4": forwardParams,
	"rnn_forward_mma_m2n8": forwardParams,
	// A, B, D
	"mma_selftest": {Ptr, Ptr, Ptr},
	// in, out, itersFma, itersMma, mmaWarps (bench/gpu/peak)
	"probe": {Ptr, Ptr, I32, I32, I32},
	// params, states, dy, delta, gamma, T, B, I, H, O, P, Bc, rate, tau
	"rnn_backward_r8":       backwardParams,
	"rnn_backward_r4":       backwardParams,
	"rnn_backward_r8_g2":    backwardParams,
	"rnn_backward_r4_g2":    backwardParams,
	"rnn_backward_mma_m1n2": backwardParams,
	"rnn_backward_mma_m1n4": backwardParams,
	"rnn_backward_mma_m1n8": backwardParams,
	"rnn_backward_mma_m2n4": backwardParams,
	"rnn_backward_mma_m2n8": backwardParams,
	// params, states, dy, x, shared, gamma, grad, T, B, I, H, O, P, Bc, rate, tau
	"rnn_backward_fused_r8": fusedParams,
	"rnn_backward_fused_r4": fusedParams,
	// delta, states, x, shared, dy, gamma, grad, T, B, I, H, O, P, rate
	"rnn_grad_w4_t128": gradParams,
	"rnn_grad_w4_t64":  gradParams,
	"rnn_grad_w16":     gradParams,
	// the tensor-core variants, same parameters (tile side)
	"rnn_grad_mma_t128": gradParams,
	"rnn_grad_mma_t64":  gradParams,
	// params, grad, m, v, steps, lr, l1, nuc, polar, active,
	// clip, update, H, I, O, P, beta1, beta2, eps
	"rnn_adam": {Ptr, Ptr, Ptr, Ptr, Ptr, Ptr, Ptr, Ptr, Ptr, Ptr,
		F32, I32, I32, I32, I32, I32, F32, F32, F32},
	// keys (uint64), knobs (float64), ood, N, B, T, I, O, x, y, mask (tasks.cu)
	"task_flipflop": taskParams,
	"task_sine":     taskParams,
	"task_delayed":  taskParams,
	"task_pathint":  taskParams,
}

// MaxInputs and MaxOutputs bound I and O: rnn_grad_w16 keeps I and O
// accumulators per thread in registers (rnn_grad_w4_* serve I, O <= 4).
const (
	MaxInputs  = 16
	MaxOutputs = 16
)

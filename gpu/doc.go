// Package gpu is the CUDA implementation of degen.Backend: the kernels of
// package kernels launched through package cuda on one NVIDIA GPU.
//
// It builds for real only with the cuda tag (`make cuda`, which makes the
// separate binary degen-cuda): gorgonia.org/cu exits the process at start-up
// when no GPU or driver is present, so the default build links an untagged
// stub whose New and Devices return ErrNoCUDA. With the cudaemu tag the same
// code runs on package cuda's CPU emulator of the kernels, for tests.
//
// One training step is four launches whatever S and T are:
//   - rnn_forward_r8/_r4 and rnn_backward_r8/_r4: one block per network for
//     the whole sequence, W_hh staged in shared memory, trials tiled through
//     registers (8x8 or, for small H*B, 4x4 per thread), one tile GEMM per
//     time step that also carries the input drive and biases (forward) or
//     the readout's gradient (backward);
//   - rnn_grad_mma_t128/_t64 (tensor cores), or rnn_grad_w4_t128, _w4_t64
//     or _w16 (CUDA cores): every weight gradient, dW_hh as a batched GEMM
//     over the saved states and deltas, the small ones alongside;
//   - rnn_adam: regularisers, clipping, Adam with per-network step counts and
//     the freeze mask.
//
// With DEGEN_BACKWARD=fused (or auto, where its limits allow: see
// fusedShared) rnn_backward_fused_r8/_r4 replaces the backward and
// weight-gradient launches: it accumulates every weight gradient on chip as
// it goes back through time, so no deltas go to memory (off by default:
// slower on the H200). By default the weight-gradient GEMM runs on the
// tensor cores in 3xTF32 (rnn_grad_mma_t128/_t64) wherever I, O <= 4;
// DEGEN_MMA (see MmaEnv) moves it back to the CUDA cores or moves the
// sequence kernels' per-step GEMMs onto the tensor cores too
// (rnn_forward_mma_*, rnn_backward_mma_*). bench/RESULTS.md has the H200
// timings and accuracy behind these defaults.
//
// DEGEN_GROUPS=2 or auto (see GroupsEnv) runs the CUDA-core sequence kernels as two
// warp groups per block (rnn_forward_r8_g2/_r4_g2, rnn_backward_r8_g2/_r4_g2),
// each with half of the trials and its own named barrier, the second
// starting a GEMM behind the first, so that one group's epilogue and barrier
// wait overlap the other's GEMM where one block fills an SM (W1). Not the
// default until a GPU has timed it.
//
// DEGEN_WGMMA (see WgmmaEnv) runs the weight gradients (grad), the forward
// (fwd), the backward (bwd) or all three (on, auto) on Hopper's warpgroup
// MMA instead (rnn_grad_wgmma_t128/_t64, rnn_forward_wgmma_h128/_h64,
// rnn_backward_wgmma_h128/_h64; kernels.HopperPTX, a second module), in
// 3xTF32. Not the default until a GPU has timed it.
//
// Launch planning (shared-memory chunks of trials, tile sizes, kernel
// choice) is in plan.go.
//
// How batches reach the GPU: Step, Gradients and Evaluate upload a batch
// made on the host (tasks.Generate). StepTask (degen.TaskStepper, which
// degen.Train uses for every training step) uploads only each slot's stream
// key (tasks.Stream.Key) and the task's knobs, and a task kernel
// (kernels/tasks.cu: task_flipflop, task_sine, task_delayed, task_pathint,
// one thread per trial) writes the trials that the task's Fill would make
// into the same device buffers before the step's four launches; TaskBatch
// downloads them, for checks. taskgen.go maps task names to kernels and
// knob orders. Flip-flop and delayed batches are bit for bit the host's;
// sine and pathint may differ in the last bit of a few float32 values
// (libdevice's sin and cos against Go's).
//
// The nuclear-norm gradient of W_hh is U V^T from W_hh = U Sigma V^T. It is
// computed on the host in float64 (gonum SVD) for the networks whose lambda
// is positive, only in steps where some lambda is positive, and uploaded:
// exact, and free when the regulariser is off, but a step with it on pays a
// download, S SVDs of H x H and an upload.
package gpu

// DeviceInfo describes one GPU as `degen devices` prints it.
type DeviceInfo struct {
	Ordinal          int    `json:"ordinal"`
	Name             string `json:"name"`
	TotalBytes       int64  `json:"total_bytes"`
	FreeBytes        int64  `json:"free_bytes"`
	Capability       string `json:"compute_capability"`
	Multiprocessors  int    `json:"multiprocessors"`
	SharedPerBlockKB int    `json:"shared_per_block_optin_kib"`
	MaxClockMHz      int    `json:"max_sm_clock_mhz"` // 0 on the emulator
	Driver           string `json:"driver"`
}

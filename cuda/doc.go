// Package cuda is degen's only importer of gorgonia.org/cu. It owns the
// driver context, module loading, device buffers and typed kernel launches,
// and wraps every driver error with what was being done (kernel name and
// launch shape for launches).
//
// The package builds only with the cuda tag (`make cuda`): gorgonia.org/cu's
// init() calls cuInit and exits the process when no GPU or driver is
// present, so the CUDA build is a separate binary, degen-cuda, and the
// default build (degen) never links it. Package driverinit runs cuInit
// first, so that a machine without a GPU gets degen's one-line message
// (checked by .ci/cuda-check.sh) instead of cu's.
//
// Threading: a CUDA context is bound to an OS thread. Context.Do locks the
// calling goroutine to its thread, makes the context current and runs f;
// every driver call of this package must run inside Do. Calls are the plain
// driver functions (Function.Launch, MemcpyHtoD, ...), not cu.Ctx's channel
// API, which costs 12-51 µs per call.
//
// The cudaemu build tag replaces the driver with a CPU emulator (emu.go,
// emu.cc): the same API, host memory for device memory, and every launch run
// on the CPU from the kernels' own sources, so the GPU backend is tested on
// machines without a GPU (`make test-emu`). It measures nothing about speed.
package cuda

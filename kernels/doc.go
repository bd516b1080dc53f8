// Package kernels owns degen's CUDA C sources and the PTX generated from
// them (by `make ptx`, committed, never edited by hand), with the parameter
// lists of their kernels:
//
//   - kernels.cu includes rnn.cu (the training step), tasks.cu (the task
//     batches generated on the device) and probe.cu (the card's arithmetic
//     ceilings, for bench/gpu/peak): kernels.ptx, Signatures.
//   - hopper.cu holds the kernels that use Hopper's warpgroup MMA (wgmma,
//     target sm_90a): hopper.ptx, a second module, HopperSignatures. The
//     CUDA 11.8 toolchain compiles it too, passing the inline wgmma PTX
//     through, and genptx.sh rewrites the .version and .target lines that 11.8
//     cannot write; check-hopper.sh assembles the result with CUDA 12.4's
//     ptxas.
//   - common.cuh is what both translation units share; compat.cuh wraps the
//     inline PTX.
//
// The package has no cgo and no build tag: it only embeds text, so CI can
// check the committed PTX against the signatures on a machine without a GPU.
// The cuda package checks every launch's Go arguments against them, so a
// launcher whose arguments drift from the kernel fails with an error instead
// of corrupting memory.
//
// compat.cuh and emu.h let a host C++ compiler build the same sources for
// the CPU emulator of the cuda package (`-tags cudaemu`), which runs the GPU
// backend's tests on machines without a GPU.
package kernels

// Package kernels owns degen's CUDA C sources (kernels.cu, which includes
// rnn.cu, the training step, and tasks.cu, the task batches generated on the
// device), the PTX generated from them (kernels.ptx, made by `make ptx`,
// committed, never edited by hand) and the parameter lists of its kernels
// (Signatures).
//
// The package has no cgo and no build tag: it only embeds text, so CI can
// check the committed PTX against Signatures on a machine without a GPU. The
// cuda package checks every launch's Go arguments against Signatures, so a
// launcher whose arguments drift from the kernel fails with an error instead
// of corrupting memory.
//
// compat.cuh and emu.h let a host C++ compiler build the same sources for
// the CPU emulator of the cuda package (`-tags cudaemu`), which runs the GPU
// backend's tests on machines without a GPU.
package kernels

//go:build cudaemu && !cuda

package main

// buildKind names this binary's build: the emulator build runs the GPU
// backend's kernels on the CPU (cuda/emu.cc), for tests; it is slow.
const buildKind = "cuda-emulator"

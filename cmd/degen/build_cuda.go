//go:build cuda

package main

// buildKind names this binary's build: the CUDA build needs an NVIDIA driver
// to start (gorgonia.org/cu initialises CUDA when the program loads).
const buildKind = "cuda"

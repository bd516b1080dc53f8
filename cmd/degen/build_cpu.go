//go:build !cuda && !cudaemu

package main

// buildKind names this binary's build: the CPU build runs anywhere.
const buildKind = "cpu"

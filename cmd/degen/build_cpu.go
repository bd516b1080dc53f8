//go:build !cuda

package main

// buildKind names this binary's build: the CPU build runs anywhere.
const buildKind = "cpu"

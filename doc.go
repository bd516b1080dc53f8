// Package degen trains ensembles of task-trained recurrent networks as one
// batched tensor and records everything needed to measure how degenerate
// their solutions are.
//
// The package owns the contracts every backend and command shares: the sizes
// of an ensemble (Dims), the flat parameter layout (Layout), the models
// (Model, InitParams), the Backend interface the CPU and GPU implement, the
// training loop (Train) and the run-directory files. It has no cgo and no
// CUDA.
//
// Shapes are written in one letter vocabulary: S networks, B trials, T time
// steps, I inputs, H hidden units, O outputs, P parameters of one network.
package degen

// Package tasks owns the tasks degen trains on and the data they generate:
// N-bit flip-flop ("flipflop"), sine-wave generation ("sine"), delayed
// discrimination ("delayed") and path integration ("pathint"), each with
// complexity knobs, an out-of-distribution (OOD) variant and a loss mask.
//
// Invariants:
//   - Every random value comes from Stream, a stateless counter-based
//     generator keyed by Key (seed, network, step) and the counters (trial,
//     time, channel, draw). Network k's trials therefore depend only on its
//     Key: never on its slot in the batch, the ensemble size, the batch size
//     B, or the core that generated them. The algorithm is simple enough to
//     port bit-exactly to CUDA (see Stream).
//   - Fill overwrites every element of its slot (X, Y and Mask), so batches
//     can be reused across steps.
//   - Knob values are validated by New; a Task made by New never produces
//     NaN or infinite values.
//
// Batch and Task (batch.go, task.go) are the contracts the backends and the
// training loop use; New, List, Generate and NewBatchFor (registry.go) are
// how commands reach the tasks.
package tasks

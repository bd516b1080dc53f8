// Package cputest is the conformance suite every degen.Backend runs: it
// builds the same ensemble on the backend under test and on the float64 CPU
// reference (cpu.NewFloat64), from the same parameters and batches, and
// compares outputs, hidden states, losses, gradients, and parameters and
// Adam moments after training steps, tensor by tensor, within
// atol*rms(want) + rtol*|want|.
//
// Every output slice handed to the backend sits in front of a NaN guard
// region and starts filled with NaN, so a backend that writes too little or
// too much fails.
package cputest

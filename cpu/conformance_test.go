package cpu_test

import (
	"testing"

	"degen"
	"degen/cpu"
	"degen/cpu/cputest"
)

// TestConformance runs the conformance suite on the float32 CPU backend
// against the float64 reference.
func TestConformance(t *testing.T) {
	cputest.Conformance(t, "cpu32", func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
		return cpu.New(d, m, gamma)
	}, cputest.Float32())
}

// TestResultIndependentOfSlot runs the suite's slot check on the float32
// CPU backend.
func TestResultIndependentOfSlot(t *testing.T) {
	cputest.SlotIndependence(t, func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
		return cpu.New(d, m, gamma)
	})
}

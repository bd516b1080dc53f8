//go:build !cuda && !cudaemu

package gpu

import (
	"errors"

	"degen"
	"degen/tasks"
)

// ErrNoCUDA is returned by every function of the stub build.
var ErrNoCUDA = errors.New("degen was built without CUDA support; build with `make cuda` and run degen-cuda")

// Backend is the stub of the CUDA backend; it cannot be made.
type Backend struct{}

// New returns ErrNoCUDA: this build has no GPU support.
func New(d degen.Dims, m degen.Model, gamma []float32) (*Backend, error) { return nil, ErrNoCUDA }

// Devices returns ErrNoCUDA: this build has no GPU support.
func Devices() ([]DeviceInfo, error) { return nil, ErrNoCUDA }

// Dims returns zero sizes.
func (g *Backend) Dims() degen.Dims { return degen.Dims{} }

// SetState returns ErrNoCUDA.
func (g *Backend) SetState(st *degen.TrainState) error { return ErrNoCUDA }

// State returns ErrNoCUDA.
func (g *Backend) State(st *degen.TrainState) error { return ErrNoCUDA }

// Step returns ErrNoCUDA.
func (g *Backend) Step(b *tasks.Batch, h *degen.Hyper, active []bool, loss []float32) error {
	return ErrNoCUDA
}

// Gradients returns ErrNoCUDA.
func (g *Backend) Gradients(b *tasks.Batch, h *degen.Hyper, grad []float32, loss []float32) error {
	return ErrNoCUDA
}

// Evaluate returns ErrNoCUDA.
func (g *Backend) Evaluate(b *tasks.Batch, out, states []float32, loss []float32) error {
	return ErrNoCUDA
}

// Close does nothing.
func (g *Backend) Close() error { return nil }

var _ degen.Backend = (*Backend)(nil)

// Profile returns ErrNoCUDA.
func (g *Backend) Profile(bt *tasks.Batch, h *degen.Hyper, reps int) (Timing, error) {
	return Timing{}, ErrNoCUDA
}

// StepTask returns ErrNoCUDA.
func (g *Backend) StepTask(task tasks.Task, keys []tasks.Key, h *degen.Hyper, active []bool, loss []float32) error {
	return ErrNoCUDA
}

var _ degen.TaskStepper = (*Backend)(nil)

// TaskBatch returns ErrNoCUDA.
func (g *Backend) TaskBatch(task tasks.Task, keys []tasks.Key, ood bool, dst *tasks.Batch) error {
	return ErrNoCUDA
}

// ProfileTask returns ErrNoCUDA.
func (g *Backend) ProfileTask(task tasks.Task, keys []tasks.Key, h *degen.Hyper, reps int) (TaskTiming, error) {
	return TaskTiming{}, ErrNoCUDA
}

// BackwardVariant returns "": this build has no GPU backend.
func (g *Backend) BackwardVariant() string { return "" }

// ForwardVariant returns "": this build has no GPU backend.
func (g *Backend) ForwardVariant() string { return "" }

// GradVariant returns "": this build has no GPU backend.
func (g *Backend) GradVariant() string { return "" }

// Describe returns "": this build has no GPU backend.
func (g *Backend) Describe() string { return "" }

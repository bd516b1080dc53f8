//go:build !cuda && !cudaemu

package gpu

import (
	"errors"
	"testing"

	"degen"
)

func TestStubSaysBuildWithCUDA(t *testing.T) {
	_, err := New(degen.Dims{S: 1, B: 1, T: 1, I: 1, H: 1, O: 1}, degen.Model{Cell: degen.Vanilla, H: 1}, []float32{1})
	if !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("New: got %v, want ErrNoCUDA", err)
	}
	if _, err := Devices(); !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("Devices: got %v, want ErrNoCUDA", err)
	}
	var g *Backend
	if err := g.StepTask(nil, nil, nil, nil, nil); !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("StepTask: got %v, want ErrNoCUDA", err)
	}
	if err := g.TaskBatch(nil, nil, false, nil); !errors.Is(err, ErrNoCUDA) {
		t.Fatalf("TaskBatch: got %v, want ErrNoCUDA", err)
	}
}

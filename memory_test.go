package degen

import (
	"errors"
	"testing"
)

// TestCheckMemory: the largest count that fits, none, and an unknown
// amount available (never refused).
func TestCheckMemory(t *testing.T) {
	need := func(s int) int64 { return 100*int64(s) + 7 }
	if err := CheckMemory("training", 10, 1007, need); err != nil {
		t.Errorf("an exact fit was refused: %v", err)
	}
	var m *MemoryError
	if err := CheckMemory("training", 50, 1050, need); !errors.As(err, &m) || m.MaxNetworks != 10 || m.Need != 5007 {
		t.Errorf("50 networks in 1050 bytes: %v, want at most 10 networks", err)
	}
	if err := CheckMemory("training", 50, 50, need); !errors.As(err, &m) || m.MaxNetworks != 0 {
		t.Errorf("50 networks in 50 bytes: %v, want not even one", err)
	}
	if err := CheckMemory("training", 50, 0, need); err != nil {
		t.Errorf("unknown memory refused: %v", err)
	}
	// The estimate grows with every size it counts.
	d := Dims{S: 10, B: 64, T: 100, I: 3, H: 128, O: 3}
	base := TrainBytes(d, 2)
	for _, bigger := range []Dims{{S: 20, B: 64, T: 100, I: 3, H: 128, O: 3}, {S: 10, B: 128, T: 100, I: 3, H: 128, O: 3},
		{S: 10, B: 64, T: 200, I: 3, H: 128, O: 3}, {S: 10, B: 64, T: 100, I: 3, H: 256, O: 3}} {
		if TrainBytes(bigger, 2) <= base {
			t.Errorf("TrainBytes(%+v) = %d, not above %d for %+v", bigger, TrainBytes(bigger, 2), base, d)
		}
	}
}

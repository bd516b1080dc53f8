//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"

	"degen/kernels"
)

// DeviceInfo describes one GPU.
type DeviceInfo struct {
	Ordinal       int    `json:"ordinal"`
	Name          string `json:"name"`
	TotalBytes    int64  `json:"total_bytes"`
	FreeBytes     int64  `json:"free_bytes"` // free when queried (0 if no context could be made)
	Major, Minor  int    `json:"-"`
	Capability    string `json:"compute_capability"`
	SMs           int    `json:"multiprocessors"`
	SharedOptinKB int    `json:"shared_per_block_optin_kib"`
	ClockMHz      int    `json:"max_sm_clock_mhz"` // the SMs' highest clock (0 on the emulator)
	Driver        string `json:"driver"`
}

// Shape is a launch configuration.
type Shape struct {
	Grid   [2]int // x, y
	Block  int
	Shared int // bytes of dynamic shared memory
}

// String formats the shape as it appears in error messages.
func (s Shape) String() string {
	return fmt.Sprintf("grid=[%d,%d] block=%d shared=%dB", s.Grid[0], s.Grid[1], s.Block, s.Shared)
}

// check returns an error when n elements do not fit in the buffer.
func (b *Buffer) check(n int, what string) error {
	if n > b.N {
		return fmt.Errorf("cuda: %s of %d elements into a buffer of %d", what, n, b.N)
	}
	return nil
}

// packArgs checks each launch argument against the kernel's parameter type
// and returns one 8-byte slot per argument, the layout cuLaunchKernel reads
// behind each kernelParams pointer: *Buffer (nil passes 0) for pointers,
// int32, float32.
func packArgs(name string, params []kernels.Param, sh Shape, args []any) ([]uint64, error) {
	if len(args) != len(params) {
		return nil, fmt.Errorf("cuda: launch %s %v: %d arguments, kernel takes %d", name, sh, len(args), len(params))
	}
	slots := make([]uint64, len(args))
	for i, a := range args {
		want := params[i]
		var got kernels.Param
		switch v := a.(type) {
		case *Buffer:
			got = kernels.Ptr
			if v != nil {
				slots[i] = v.address()
			}
		case int32:
			got, slots[i] = kernels.I32, uint64(uint32(v))
		case float32:
			got, slots[i] = kernels.F32, uint64(math.Float32bits(v))
		default:
			return nil, fmt.Errorf("cuda: launch %s %v: argument %d has Go type %T, kernel wants %v", name, sh, i, a, want)
		}
		if got != want {
			return nil, fmt.Errorf("cuda: launch %s %v: argument %d is %v, kernel wants %v", name, sh, i, got, want)
		}
	}
	return slots, nil
}

// checkWords returns an error unless n 64-bit words fit in the buffer (2n
// elements) at an 8-byte aligned address, as the kernels read them.
func (b *Buffer) checkWords(n int) error {
	if 2*n > b.N {
		return fmt.Errorf("cuda: upload of %d 64-bit words (%d elements) into a buffer of %d", n, 2*n, b.N)
	}
	if b.address()%8 != 0 {
		return fmt.Errorf("cuda: upload of 64-bit words to address %#x, not 8-byte aligned", b.address())
	}
	return nil
}

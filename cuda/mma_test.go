//go:build cuda || cudaemu

package cuda

import (
	"math/rand/v2"
	"testing"

	"degen/kernels"
)

// TestMmaSelftest runs mma_selftest, one mma.sync.m16n8k8 in TF32, on
// integer matrices (exact in TF32, exact products and sums) and requires
// the exact product. On a GPU this checks that the fragment layout the
// tensor-core kernels assume (kernels/compat.cuh) is the hardware's; on the
// emulator, that the emulator implements the same layout.
func TestMmaSelftest(t *testing.T) {
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]float32, 16*8), make([]float32, 8*8)
	for i := range a {
		a[i] = float32(rng.IntN(17) - 8)
	}
	for i := range b {
		b[i] = float32(rng.IntN(17) - 8)
	}
	d := make([]float32, 16*8)
	err = ctx.Do(func() error {
		mod, err := LoadModule(kernels.PTX)
		if err != nil {
			return err
		}
		defer mod.Unload()
		k, err := mod.Kernel("mma_selftest")
		if err != nil {
			return err
		}
		bufs := make([]*Buffer, 3)
		for i, n := range []int{len(a), len(b), len(d)} {
			if bufs[i], err = Alloc(n); err != nil {
				return err
			}
			defer bufs[i].Free()
		}
		if err := bufs[0].Upload(a); err != nil {
			return err
		}
		if err := bufs[1].Upload(b); err != nil {
			return err
		}
		if err := k.Launch(Shape{Grid: [2]int{1, 1}, Block: 32}, bufs[0], bufs[1], bufs[2]); err != nil {
			return err
		}
		if err := ctx.Synchronize("mma_selftest"); err != nil {
			return err
		}
		return bufs[2].Download(d)
	})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for m := range 16 {
		for n := range 8 {
			var want float32
			for k := range 8 {
				want += a[m*8+k] * b[k*8+n]
			}
			if d[m*8+n] != want {
				if bad++; bad <= 5 {
					t.Errorf("D[%d][%d] = %g, want %g", m, n, d[m*8+n], want)
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of 128 elements wrong: the fragment layout is not the hardware's", bad)
	}
}

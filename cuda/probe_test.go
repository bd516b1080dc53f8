//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"degen/kernels"
)

// TestProbe runs the probe kernel with tensor-core warps, CUDA-core warps
// and both in one block, and checks every thread's output: each is an exact
// count of the operations the kernel claims to run, so a probe that skips
// work (or whose compiler dropped some) would report a false peak and
// fails here.
func TestProbe(t *testing.T) {
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	configs := []ProbeConfig{
		{Blocks: 2, ItersFma: 3, MmaWarps: 0},
		{Blocks: 2, ItersMma: 2, MmaWarps: 8},
		{Blocks: 3, ItersFma: 5, ItersMma: 2, MmaWarps: 3},
	}
	err = ctx.Do(func() error {
		mod, err := LoadModule(kernels.PTX)
		if err != nil {
			return err
		}
		defer mod.Unload()
		for _, c := range configs {
			_, out, err := RunProbe(mod, c, 1)
			if err != nil {
				return err
			}
			bad := 0
			for i, got := range out {
				if want := ProbeWant(c, i%probeThreads); got != want {
					if bad++; bad <= 3 {
						t.Errorf("%+v: thread %d wrote %g, want %g", c, i, got, want)
					}
				}
			}
			if c.FmaFlops()+c.MmaFlops() <= 0 {
				t.Errorf("%+v: no FLOPs counted", c)
			}
		}
		if _, _, err := RunProbe(mod, ProbeConfig{Blocks: 1, MmaWarps: 9}, 1); err == nil {
			t.Error("RunProbe accepted 9 mma warps of 8")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWgmmaProbe runs probe_wgmma (kernels/hopper.cu) and checks every
// thread's count of products: on the emulator (cuda/emu.cc's model of
// wgmma) and on a Hopper GPU.
func TestWgmmaProbe(t *testing.T) {
	skipUnlessHopper(t)
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	err = ctx.Do(func() error {
		mod, err := LoadModule(kernels.HopperPTX)
		if err != nil {
			return err
		}
		defer mod.Unload()
		const blocks, iters = 2, 2
		_, out, err := RunWgmmaProbe(mod, blocks, iters, 1)
		if err != nil {
			return err
		}
		bad := 0
		for i, got := range out {
			if want := WgmmaProbeWant(iters); got != want {
				if bad++; bad <= 3 {
					t.Errorf("thread %d wrote %g, want %g", i, got, want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWgmmaSelftest multiplies integer matrices (exact in TF32, exact
// sums) with one wgmma.m64n128k8, A from shared memory and from registers,
// and requires the exact product: on a GPU this checks that the descriptor
// and fragment layouts of kernels/compat.cuh are the hardware's; on the
// emulator, that its model implements the same ones.
func TestWgmmaSelftest(t *testing.T) {
	skipUnlessHopper(t)
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := smallIntegers(rng, 64*8), smallIntegers(rng, 8*128)
	for _, fromRegs := range []int32{0, 1} {
		sh := Shape{Grid: [2]int{1, 1}, Block: 128, Shared: 4 * (64 + 128) * 8}
		d := launchOnce(t, kernels.HopperPTX, "wgmma_selftest", sh, [][]float32{a, b}, 64*128, fromRegs)
		what := fmt.Sprintf("A from registers %d: ", fromRegs)
		if bad := wrongProducts(t, what, a, b, d, 64, 128, 8); bad > 0 {
			t.Errorf("%s%d of 8192 elements wrong: the layouts of kernels/compat.cuh are not the hardware's", what, bad)
		}
	}
}

// TestWgmmaChain runs wgmma_chain_selftest: D2 = (A B1) B2 with the second
// product's A operand taken straight from the first's accumulators, K
// permuted within blocks of 8 (see hopper.cu). Integers keep it exact, so
// any element off means the register reuse a wgmma forward would rely on
// does not hold.
func TestWgmmaChain(t *testing.T) {
	skipUnlessHopper(t)
	rng := rand.New(rand.NewPCG(5, 6))
	a, b1, b2 := smallIntegers(rng, 64*8), smallIntegers(rng, 8*128), smallIntegers(rng, 128*64)
	sh := Shape{Grid: [2]int{1, 1}, Block: 128, Shared: 4 * ((64+128)*8 + 64*128)}
	d2 := launchOnce(t, kernels.HopperPTX, "wgmma_chain_selftest", sh, [][]float32{a, b1, b2}, 64*64)
	d1 := make([]float32, 64*128)
	for i := range 64 {
		for j := range 128 {
			for k := range 8 {
				d1[i*128+j] += a[i*8+k] * b1[k*128+j]
			}
		}
	}
	if bad := wrongProducts(t, "", d1, b2, d2, 64, 64, 128); bad > 0 {
		t.Errorf("%d of 4096 elements of (A B1) B2 wrong: the accumulators are not the next A fragment as hopper.cu permutes K", bad)
	}
}

// TestWgmmaRounding is TestMmaRounding through wgmma_selftest: on a GPU it
// checks that the warpgroup MMA adds as the emulator's model (tensorCoreSum,
// per 8 products) says, which TestWgmmaExact's bit-for-bit claim rests on.
func TestWgmmaRounding(t *testing.T) {
	skipUnlessHopper(t)
	a, b := roundingOperands(64, 128)
	for _, fromRegs := range []int32{0, 1} {
		sh := Shape{Grid: [2]int{1, 1}, Block: 128, Shared: 4 * (64 + 128) * 8}
		d := launchOnce(t, kernels.HopperPTX, "wgmma_selftest", sh, [][]float32{a, b}, 64*128, fromRegs)
		checkRounding(t, fmt.Sprintf("wgmma (A from registers %d)", fromRegs), d, 128)
	}
}

// skipUnlessHopper skips a wgmma test on a GPU of compute capability other
// than 9.0 (the emulator models wgmma, so it runs there).
func skipUnlessHopper(t *testing.T) {
	t.Helper()
	devs, err := Devices()
	if err != nil {
		t.Fatal(err)
	}
	if d := devs[0]; d.Driver != "emulator" && d.Major != 9 {
		t.Skipf("wgmma needs compute capability 9.0, this GPU has %s", d.Capability)
	}
}

//go:build cuda || cudaemu

package cuda

import (
	"strings"
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

// TestWgmmaProbe runs probe_wgmma (kernels/hopper.ptx) on a Hopper GPU and
// checks every thread's count of products; the emulator must refuse it with
// a message that says why.
func TestWgmmaProbe(t *testing.T) {
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	emulated := ctx.Info.Driver == "emulator"
	if !emulated && ctx.Info.Major != 9 {
		t.Skipf("probe_wgmma needs compute capability 9.0, this GPU has %s", ctx.Info.Capability)
	}
	err = ctx.Do(func() error {
		mod, err := LoadModule(kernels.HopperPTX)
		if emulated {
			if err == nil || !strings.Contains(err.Error(), "Hopper-only") {
				t.Errorf("emulator: loading kernels.HopperPTX gave error %v, want one that says it is Hopper-only", err)
			}
			return nil
		}
		if err != nil {
			return err
		}
		defer mod.Unload()
		const blocks, iters = 3, 2
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

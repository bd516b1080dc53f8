//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"slices"
)

// PROBE_THREADS, PROBE_CHAINS and PROBE_UNROLL in kernels/probe.cu, and
// PROBE_WG_UNROLL in kernels/hopper.cu.
const probeThreads, probeChains, probeUnroll, probeWgUnroll = 256, 8, 16, 16

// ProbeConfig is one launch of the probe kernel (kernels/probe.cu): Blocks
// blocks of 8 warps, warps 0 .. MmaWarps-1 of each running ItersMma rounds
// of mma.sync TF32 products on the tensor cores, the others ItersFma rounds
// of float32 FMAs on the CUDA cores.
type ProbeConfig struct {
	Blocks             int
	ItersFma, ItersMma int
	MmaWarps           int
}

// FmaFlops is the float32 FLOPs (two per FMA) the launch's FMA warps run.
func (c ProbeConfig) FmaFlops() float64 {
	return float64(c.Blocks) * float64(8-c.MmaWarps) * 32 * probeChains * probeUnroll * float64(c.ItersFma) * 2
}

// MmaFlops is the TF32 FLOPs the launch's mma warps run: 2 x 16 x 8 x 8 per
// mma.sync.m16n8k8.
func (c ProbeConfig) MmaFlops() float64 {
	return float64(c.Blocks) * float64(c.MmaWarps) * probeChains * probeUnroll * float64(c.ItersMma) * 2 * 16 * 8 * 8
}

// probeIn is the probe's input {m, k, c0, v}: FMA chains c = c m + k from
// c0 + chain, mma operands all v. With these every result is an exact
// count of operations (ProbeWant).
var probeIn = []float32{1, 1, 3, 1}

// ProbeWant returns what probe writes for thread t of a block under c: an
// FMA thread the sum over its chains of c0 + chain + rounds, an mma lane
// the sum of its 4 x PROBE_CHAINS accumulators, each 8 (= k x v x v) per
// round.
func ProbeWant(c ProbeConfig, t int) float32 {
	if t/32 < c.MmaWarps {
		return float32(4 * probeChains * 8 * probeUnroll * c.ItersMma)
	}
	var sum float32
	for ch := range probeChains {
		sum += probeIn[2] + float32(ch) + float32(probeUnroll*c.ItersFma)
	}
	return sum
}

// RunProbe launches probe under c reps times (inside Do, on a module that
// has it) and returns the median milliseconds of one launch and the output
// of the last: Blocks x 256 floats, one per thread.
func RunProbe(mod *Module, c ProbeConfig, reps int) (ms float64, out []float32, err error) {
	if c.Blocks < 1 || c.MmaWarps < 0 || c.MmaWarps > 8 || c.ItersFma < 0 || c.ItersMma < 0 || reps < 1 {
		return 0, nil, fmt.Errorf("cuda: probe config %+v with %d reps: want blocks, reps >= 1, iterations >= 0, 0 <= mma warps <= 8", c, reps)
	}
	in, err := Alloc(len(probeIn))
	if err != nil {
		return 0, nil, err
	}
	defer in.Free()
	if err := in.Upload(probeIn); err != nil {
		return 0, nil, err
	}
	return timeProbe(mod, "probe", c.Blocks, 0, reps, func(out *Buffer) []any {
		return []any{in, out, int32(c.ItersFma), int32(c.ItersMma), int32(c.MmaWarps)}
	})
}

// timeProbe times kernel name of mod over blocks blocks of probeThreads
// threads with shared bytes of dynamic shared memory (TimeLaunch), with
// the arguments args makes around an output buffer of one float per thread,
// and returns the median milliseconds and that output after the last launch.
func timeProbe(mod *Module, name string, blocks, shared, reps int, args func(out *Buffer) []any) (ms float64, out []float32, err error) {
	k, err := mod.Kernel(name)
	if err != nil {
		return 0, nil, err
	}
	n := blocks * probeThreads
	dev, err := Alloc(n)
	if err != nil {
		return 0, nil, err
	}
	defer dev.Free()
	sh := Shape{Grid: [2]int{blocks, 1}, Block: probeThreads, Shared: shared}
	if ms, err = TimeLaunch(k, sh, reps, args(dev)...); err != nil {
		return 0, nil, err
	}
	out = make([]float32, n)
	if err := dev.Download(out); err != nil {
		return 0, nil, err
	}
	return ms, out, nil
}

// WgmmaProbeFlops is the TF32 FLOPs of probe_wgmma (kernels/hopper.cu)
// over blocks blocks of two warpgroups: probeWgUnroll x iters wgmma
// m64n128k8 per warpgroup, 2 x 64 x 128 x 8 FLOPs each.
func WgmmaProbeFlops(blocks, iters int) float64 {
	return float64(blocks) * 2 * probeWgUnroll * float64(iters) * 2 * 64 * 128 * 8
}

// WgmmaProbeWant is what every thread of probe_wgmma writes: its 64
// accumulators, each K = 8 per product of all-ones matrices.
func WgmmaProbeWant(iters int) float32 { return float32(64 * 8 * probeWgUnroll * iters) }

// RunWgmmaProbe launches probe_wgmma (blocks of 256 threads) reps times
// (inside Do, on a module of kernels.HopperPTX) and returns the median
// milliseconds of one launch and the output of the last.
func RunWgmmaProbe(mod *Module, blocks, iters, reps int) (ms float64, out []float32, err error) {
	if blocks < 1 || iters < 0 || reps < 1 {
		return 0, nil, fmt.Errorf("cuda: wgmma probe of %d blocks, %d iterations, %d reps: want blocks, reps >= 1, iterations >= 0", blocks, iters, reps)
	}
	// 4 x 1536 bytes: the A and B tiles (hopper.cu).
	return timeProbe(mod, "probe_wgmma", blocks, 4*1536, reps, func(out *Buffer) []any { return []any{out, int32(iters)} })
}

// TimeLaunch launches k reps times (inside Do) and returns the median
// milliseconds of one launch, each timed alone with events.
func TimeLaunch(k *Kernel, sh Shape, reps int, args ...any) (float64, error) {
	if reps < 1 {
		return 0, fmt.Errorf("cuda: timing %s over %d launches: want at least 1", k.Name, reps)
	}
	timer, err := NewTimer()
	if err != nil {
		return 0, err
	}
	defer timer.Close()
	times := make([]float64, reps)
	for r := range reps {
		if err := timer.Start(); err != nil {
			return 0, err
		}
		if err := k.Launch(sh, args...); err != nil {
			return 0, err
		}
		if times[r], err = timer.Stop(); err != nil {
			return 0, err
		}
	}
	slices.Sort(times)
	return times[reps/2], nil
}

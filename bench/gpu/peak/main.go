//go:build cuda || cudaemu

// Command peak measures the card's arithmetic ceilings with the probe kernel
// (kernels/probe.cu) and prints a table: float32 FMAs on the CUDA cores,
// mma.sync TF32 products on the tensor cores, each with four blocks of 8
// warps per SM and with one (the occupancy of W1's kernels), and both at
// once in one block of 4 + 4 warps, against each half alone. It bounds
// what rnn.cu can reach: a 3xTF32 product costs three TF32 ones, so the
// tensor cores beat the CUDA cores on float32-accurate GEMMs only if their
// TF32 rate is more than three times the FMA rate. Last, the same TF32
// products through Hopper's warpgroup MMA (wgmma, kernels.HopperPTX), which
// kernels.ptx's CUDA 11.8 toolchain cannot emit (kernels/genptx.sh).
//
//	go build -tags cuda ./bench/gpu/peak
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"degen/cuda"
	"degen/kernels"
)

type row struct {
	Name      string           `json:"name"`
	Config    cuda.ProbeConfig `json:"config"`
	Ms        float64          `json:"ms"`
	FmaTflops float64          `json:"fma_tflops"` // float32, 2 per FMA
	MmaTflops float64          `json:"mma_tflops"` // TF32, 2x16x8x8 per mma.sync.m16n8k8
	// Per SM and clock at the card's highest clock (so a lower bound when
	// the card runs slower): FMAs, and mma.sync.m16n8k8 instructions (or
	// their FLOPs' worth of wgmma).
	FmaPerClock float64 `json:"fma_per_sm_clock"`
	MmaPerClock float64 `json:"mma_per_sm_clock"`
}

func main() {
	scale := flag.Float64("scale", 1, "multiplies every iteration count (1: launches of about 5 to 30 ms on an H100; 0.001 for the CPU emulator)")
	reps := flag.Int("reps", 5, "timed launches per configuration (the median is reported), after one warm-up launch")
	jsonPath := flag.String("json", "", "also write the rows as JSON to this file")
	flag.Parse()
	if err := run(*scale, *reps, *jsonPath); err != nil {
		fmt.Fprintln(os.Stderr, "peak:", err)
		os.Exit(1)
	}
}

func run(scale float64, reps int, jsonPath string) error {
	ctx, err := cuda.Open(0)
	if err != nil {
		return err
	}
	defer ctx.Close()
	info := ctx.Info
	fmt.Printf("device: %s, %d SMs, highest SM clock %d MHz, %s\n", info.Name, info.SMs, info.ClockMHz, info.Driver)
	iters := func(n int) int { return max(1, int(float64(n)*scale)) }
	var rows []row
	err = ctx.Do(func() error {
		mod, err := cuda.LoadModule(kernels.PTX)
		if err != nil {
			return err
		}
		defer mod.Unload()
		measure := func(name string, c cuda.ProbeConfig) (row, error) {
			if _, _, err := cuda.RunProbe(mod, c, 1); err != nil { // warm-up: clocks, module load
				return row{}, err
			}
			ms, out, err := cuda.RunProbe(mod, c, reps)
			if err != nil {
				return row{}, err
			}
			for i, got := range out {
				if want := cuda.ProbeWant(c, i%256); got != want {
					return row{}, fmt.Errorf("%s: thread %d wrote %g, want %g: the probe did not run the work it counts", name, i, got, want)
				}
			}
			r := row{Name: name, Config: c, Ms: ms}
			sec := ms / 1e3
			r.FmaTflops = c.FmaFlops() / sec / 1e12
			r.MmaTflops = c.MmaFlops() / sec / 1e12
			if info.ClockMHz > 0 && info.SMs > 0 {
				clocks := sec * float64(info.ClockMHz) * 1e6 * float64(info.SMs)
				r.FmaPerClock = c.FmaFlops() / 2 / clocks
				r.MmaPerClock = c.MmaFlops() / (2 * 16 * 8 * 8) / clocks
			}
			rows = append(rows, r)
			return r, nil
		}
		sm := info.SMs
		fma, mma := iters(20000), iters(5000)
		for _, c := range []struct {
			name string
			c    cuda.ProbeConfig
		}{
			{"fma 32 warps/SM", cuda.ProbeConfig{Blocks: 4 * sm, ItersFma: fma}},
			{"mma 32 warps/SM", cuda.ProbeConfig{Blocks: 4 * sm, ItersMma: mma, MmaWarps: 8}},
			{"fma 8 warps/SM", cuda.ProbeConfig{Blocks: sm, ItersFma: fma}},
			{"mma 8 warps/SM", cuda.ProbeConfig{Blocks: sm, ItersMma: mma, MmaWarps: 8}},
		} {
			if _, err := measure(c.name, c.c); err != nil {
				return err
			}
		}
		// Both pipes at once: 4 mma warps and 4 FMA warps per block, one
		// block per SM, the iterations set so that each half alone takes
		// about as long; if the mixed launch takes about as long as either
		// half, the pipes add up.
		m, err := measure("mma 4 warps/SM alone", cuda.ProbeConfig{Blocks: sm, ItersMma: mma, MmaWarps: 4})
		if err != nil {
			return err
		}
		f, err := measure("fma 4 warps/SM alone", cuda.ProbeConfig{Blocks: sm, ItersFma: fma, MmaWarps: 4})
		if err != nil {
			return err
		}
		fma = max(1, int(float64(fma)*m.Ms/f.Ms))
		if _, err := measure("fma 4 warps/SM, rescaled", cuda.ProbeConfig{Blocks: sm, ItersFma: fma, MmaWarps: 4}); err != nil {
			return err
		}
		_, err = measure("mma 4 + fma 4 warps/SM", cuda.ProbeConfig{Blocks: sm, ItersFma: fma, ItersMma: mma, MmaWarps: 4})
		return err
	})
	if err != nil {
		return err
	}
	// Hopper's warpgroup MMA, which needs a newer toolchain than
	// kernels.ptx's: how much faster the tensor cores run TF32 products
	// there than through mma.sync.
	err = ctx.Do(func() error {
		mod, err := cuda.LoadModule(kernels.HopperPTX)
		if err != nil {
			return err
		}
		defer mod.Unload()
		for _, c := range []struct {
			name   string
			blocks int
		}{{"wgmma 8 warps/SM", info.SMs}, {"wgmma 32 warps/SM", 4 * info.SMs}} {
			n := iters(2000)
			if _, _, err := cuda.RunWgmmaProbe(mod, c.blocks, n, 1); err != nil {
				return err
			}
			ms, out, err := cuda.RunWgmmaProbe(mod, c.blocks, n, reps)
			if err != nil {
				return err
			}
			for i, got := range out {
				if want := cuda.WgmmaProbeWant(n); got != want {
					return fmt.Errorf("%s: thread %d wrote %g, want %g: the probe did not run the work it counts", c.name, i, got, want)
				}
			}
			flops := cuda.WgmmaProbeFlops(c.blocks, n)
			r := row{Name: c.name, Ms: ms, MmaTflops: flops / (ms / 1e3) / 1e12}
			if info.ClockMHz > 0 {
				// in units of mma.sync.m16n8k8 (2048 FLOPs), to compare
				r.MmaPerClock = flops / 2048 / (ms / 1e3 * float64(info.ClockMHz) * 1e6 * float64(info.SMs))
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		fmt.Println("wgmma: skipped:", err)
	}
	fmt.Printf("%-26s %9s %10s %10s %11s %11s %12s\n", "probe", "ms", "FMA TF/s", "TF32 TF/s", "FMA/SM/clk", "mma/SM/clk", "3xTF32 TF/s")
	for _, r := range rows {
		fmt.Printf("%-26s %9.3f %10.1f %10.1f %11.1f %11.3f %12.1f\n", r.Name, r.Ms, r.FmaTflops, r.MmaTflops, r.FmaPerClock, r.MmaPerClock, r.MmaTflops/3)
	}
	if jsonPath != "" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

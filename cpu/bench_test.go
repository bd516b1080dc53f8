package cpu

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"degen"
)

// benchmarkStep times one float32 training Step of a vanilla ensemble of
// size d on per-network trials, all networks active, with a nuclear-norm
// penalty of weight nuclear (0: off).
func benchmarkStep(b *testing.B, d degen.Dims, nuclear float32) {
	m := vanilla(d.H)
	be, err := New(d, m, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := be.SetState(initState(m, d, 1)); err != nil {
		b.Fatal(err)
	}
	bt := randomBatch(rand.New(rand.NewPCG(1, 1)), d.S, d.B, d.T, d.I, d.O, 1)
	hp := &degen.Hyper{LR: make([]float32, d.S), Nuclear: make([]float32, d.S)}
	active, loss := make([]bool, d.S), make([]float32, d.S)
	for s := range d.S {
		hp.LR[s], hp.Nuclear[s], active[s] = 1e-3, nuclear, true
	}
	flops := 3 * 2 * float64(d.S*d.B*d.T*d.H*(d.H+d.I+d.O))
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if err := be.Step(bt, hp, active, loss); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// CPU time per step, all threads: unlike wall time it barely moves when
	// other processes compete for the cores.
	b.ReportMetric((processCPU()-cpu0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

// C1 and C2 are the sizes timed against PyTorch (bench/cpu_vs_torch.sh).
func BenchmarkStepC1_S32_B64_T100_H64(b *testing.B) { benchmarkStep(b, c1, 0) }
func BenchmarkStepC2_S8_B32_T50_H128(b *testing.B)  { benchmarkStep(b, c2, 0) }

// The nuclear-norm variants add one thin SVD of W_hh per network and step.
func BenchmarkStepNuclearC1_S32_B64_T100_H64(b *testing.B) { benchmarkStep(b, c1, 1e-3) }
func BenchmarkStepNuclearC2_S8_B32_T50_H128(b *testing.B)  { benchmarkStep(b, c2, 1e-3) }

var (
	c1 = degen.Dims{S: 32, B: 64, T: 100, I: 3, H: 64, O: 3}
	c2 = degen.Dims{S: 8, B: 32, T: 50, I: 3, H: 128, O: 3}
)

// processCPU returns the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

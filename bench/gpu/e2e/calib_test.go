package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"degen"
)

func TestSignTest(t *testing.T) {
	// 60 of 100 positive: z = (10 - 0.5) / 5 = 1.9, two-sided p = 0.0574.
	logs := make([]float64, 100)
	for i := range logs {
		logs[i] = -1
		if i < 60 {
			logs[i] = 1
		}
	}
	pos, n, p := signTest(logs)
	if pos != 60 || n != 100 || math.Abs(p-0.0574) > 1e-3 {
		t.Errorf("60 of 100: pos %d n %d p %.4f, want 60 100 0.0574", pos, n, p)
	}
	if _, n, p := signTest([]float64{0, 0}); n != 0 || p != 1 {
		t.Errorf("all zero: n %d p %g, want 0 and 1", n, p)
	}
}

func TestRankSumGreater(t *testing.T) {
	// x = {4, 5, 6} against y = {1, 2, 3}: U = 9, mean 4.5, sd sqrt(9*7/12).
	z, p := rankSumGreater([]float64{4, 5, 6}, []float64{1, 2, 3})
	if want := 4.5 / math.Sqrt(63.0/12); math.Abs(z-want) > 1e-12 || p > 0.03 {
		t.Errorf("separated: z %g p %g, want z %g and p < 0.03", z, p, want)
	}
	// Ties share their mean rank: identical samples give z = 0.
	if z, p := rankSumGreater([]float64{1, 1, 2}, []float64{1, 1, 2}); z != 0 || math.Abs(p-0.5) > 1e-12 {
		t.Errorf("identical: z %g p %g, want 0 and 0.5", z, p)
	}
	// Same distribution: no false alarm; twice the spread: detected.
	rng := rand.New(rand.NewPCG(1, 2))
	draw := func(n int, scale float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Abs(rng.NormFloat64()) * scale
		}
		return v
	}
	if _, p := rankSumGreater(draw(224, 0.7), draw(32, 0.7)); p < 0.001 {
		t.Errorf("same spread: p %g, a false alarm", p)
	}
	if _, p := rankSumGreater(draw(224, 2.1), draw(32, 0.7)); p >= 0.001 {
		t.Errorf("three times the spread: p %g, not detected", p)
	}
}

// TestCompareCurveCalibrated runs compare -curve -calib on synthetic runs:
// 200 networks whose float32 CPU test loss after their convergence step is
// perturbed by rounding-like noise (|log| about 0.3) on the "GPU" and, for
// the first 40, on the float64 "calibration". Noise like the calibration's
// passes although some networks miss the fixed per-network tolerance; a GPU
// 30% worse on every network fails the sign test, and one with three times
// the spread fails the rank-sum test.
func TestCompareCurveCalibrated(t *testing.T) {
	const n, nCal, epochs, spe = 200, 40, 20, 50
	rng := rand.New(rand.NewPCG(3, 4))
	cpu := Curve{Threshold: 1e-3, StepsPerEpoch: spe}
	cal := Curve{Threshold: 1e-3, StepsPerEpoch: spe}
	steps := make([]int, n)
	for i := range n {
		steps[i] = spe * (5 + rng.IntN(epochs-5))
		cn := CurveNetwork{Index: i}
		kn := CurveNetwork{Index: i}
		for range epochs {
			l := 1e-3 * math.Exp(rng.NormFloat64())
			cn.TestLoss = append(cn.TestLoss, degen.JSONFloat(l))
			kn.TestLoss = append(kn.TestLoss, degen.JSONFloat(l*math.Exp(0.3*rng.NormFloat64())))
		}
		cpu.Networks = append(cpu.Networks, cn)
		if i < nCal {
			cal.Networks = append(cal.Networks, kn)
		}
	}
	dir := t.TempDir()
	write := func(name string, v any) string {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cpuPath, calPath := write("cpu.json", cpu), write("cal.json", cal)
	gpuRun := func(scale, spread float64) string {
		s := Summary{Backend: "gpu", Threshold: 1e-3}
		for i := range n {
			cl := float64(cpu.Networks[i].TestLoss[steps[i]/spe-1])
			gl := scale * cl * math.Exp(spread*rng.NormFloat64())
			s.Networks = append(s.Networks, TestLoss{Index: i, Status: degen.Converged, Steps: steps[i], TestLoss: degen.JSONFloat(gl)})
		}
		s.Converged = n
		gdir := filepath.Join(dir, fmt.Sprintf("gpu-%g-%g", scale, spread))
		if err := os.MkdirAll(gdir, 0o755); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(s)
		if err := os.WriteFile(filepath.Join(gdir, "testloss.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return gdir
	}
	like := gpuRun(1, 0.3)
	if err := compareCurve(like, cpuPath, "", 0.5); err == nil {
		t.Error("rounding-like noise passed the fixed per-network tolerance; the test needs misses there")
	}
	if err := compareCurve(like, cpuPath, calPath, 0.5); err != nil {
		t.Errorf("rounding-like noise, calibrated: %v", err)
	}
	if err := compareCurve(gpuRun(1.3, 0.3), cpuPath, calPath, 0.5); err == nil || !strings.Contains(err.Error(), "sign p") {
		t.Errorf("30%% worse everywhere: %v, want a failed sign test", err)
	}
	if err := compareCurve(gpuRun(1, 0.9), cpuPath, calPath, 0.5); err == nil {
		t.Error("three times the spread passed")
	}
}

package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"degen"
)

// runDSA runs `degen analyze dsa ARGS` in-process and returns the exit code
// and stdout.
func runDSA(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runCapture(t, append([]string{"analyze", "dsa"}, args...)...)
}

// writeTrajectories writes an (N, K, T, n) float32 array "x" of random
// tanh-network states (and, when bad is set, one NaN) to dir/traj.npz.
func writeTrajectories(t *testing.T, dir string, N, K, T, n int, bad bool) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	data := make([]float32, N*K*T*n)
	for s := 0; s < N; s++ {
		w := make([]float64, n*n)
		for i := range w {
			w[i] = rng.NormFloat64() * 1.2 / math.Sqrt(float64(n))
		}
		for k := 0; k < K; k++ {
			h := make([]float64, n)
			for tt := 0; tt < T; tt++ {
				nh := make([]float64, n)
				for i := range nh {
					a := 0.5 * rng.NormFloat64()
					for j := range h {
						a += w[i*n+j] * h[j]
					}
					nh[i] = math.Tanh(a)
					data[((s*K+k)*T+tt)*n+i] = float32(nh[i])
				}
				h = nh
			}
		}
	}
	if bad {
		data[len(data)/2] = float32(math.NaN())
	}
	path := filepath.Join(dir, "traj.npz")
	if err := degen.WriteNPZ(path, degen.NamedArray{Name: "x", Shape: []int{N, K, T, n}, Data: data},
		degen.NamedArray{Name: "flat", Shape: []int{N, K * T * n}, Data: make([]float64, N*K*T*n)}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAnalyzeDSA(t *testing.T) {
	dir := t.TempDir()
	in := writeTrajectories(t, dir, 4, 5, 30, 6, false)
	out := filepath.Join(dir, "dsa.npz")
	code, stdout := runDSA(t, "--input", in, "--array", "x", "--delays", "3", "--rank", "8", "--score", "euclidean",
		"--output", out, "--null", "2", "--json", "-q")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var sum dsaSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if sum.Networks != 4 || sum.Pairs.Count != 6 || sum.Null == nil || sum.Null.Count != 8 || !(sum.Pairs.Mean > 0) {
		t.Errorf("summary %+v", sum)
	}
	d, err := degen.ReadNPZArray(out, "distance")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Shape, []int{4, 4}) {
		t.Fatalf("distance shape %v, want (4, 4)", d.Shape)
	}
	var mean float64
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if d.Data[i*4+j] != d.Data[j*4+i] || (i == j && d.Data[i*4+j] != 0) {
				t.Errorf("distance not symmetric with zero diagonal at (%d,%d)", i, j)
			}
			if j > i {
				mean += d.Data[i*4+j] / 6
			}
		}
	}
	if math.Abs(mean-sum.Pairs.Mean) > 1e-12 {
		t.Errorf("file mean %g, printed mean %g", mean, sum.Pairs.Mean)
	}
	if nl, err := degen.ReadNPZArray(out, "null"); err != nil || !slices.Equal(nl.Shape, []int{4, 2}) {
		t.Errorf("null: %v %v, want shape (4, 2)", nl, err)
	}
	if nw, err := degen.ReadNPZArray(out, "networks"); err != nil || !slices.Equal(nw.Data, []float64{0, 1, 2, 3}) {
		t.Errorf("networks: %v %v", nw, err)
	}
}

func TestAnalyzeDSABadInput(t *testing.T) {
	dir := t.TempDir()
	good := writeTrajectories(t, dir, 3, 4, 20, 5, false)
	badDir := filepath.Join(dir, "bad")
	os.Mkdir(badDir, 0o755)
	bad := writeTrajectories(t, badDir, 3, 4, 20, 5, true)
	one := filepath.Join(dir, "one.npz")
	if err := degen.WriteNPZ(one, degen.NamedArray{Name: "x", Shape: []int{1, 4, 20, 5}, Data: make([]float64, 400)}); err != nil {
		t.Fatal(err)
	}
	constant := filepath.Join(dir, "constant.npz") // finite, well shaped, and no dynamics at all
	if err := degen.WriteNPZ(constant, degen.NamedArray{Name: "x", Shape: []int{3, 4, 20, 5}, Data: make([]float64, 1200)}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.npz")
	base := func(in, array, delays, rank string) []string {
		return []string{"--input", in, "--array", array, "--delays", delays, "--rank", rank, "--output", out, "-q"}
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"wrong rank of array", base(good, "flat", "2", "4"), 2},
		{"missing array", base(good, "nope", "2", "4"), 2},
		{"missing file", base(filepath.Join(dir, "none.npz"), "x", "2", "4"), 2},
		{"NaN", base(bad, "x", "2", "4"), 2},
		{"rank above embedding", base(good, "x", "2", "11"), 2},
		{"delays longer than trials", base(good, "x", "20", "4"), 2},
		{"one network", base(one, "x", "2", "4"), 2},
		{"constant data", base(constant, "x", "2", "4"), 2},
		{"bad score", append(base(good, "x", "2", "4"), "--score", "cosine"), 2},
		{"missing flag", []string{"--input", good, "--array", "x", "--output", out}, 2},
	} {
		if code, _ := runDSA(t, tc.args...); code != tc.code {
			t.Errorf("%s: exit %d, want %d", tc.name, code, tc.code)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a failed run wrote %s", out)
	}
}

package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"degen"
	"degen/analysis"
)

// convergedRun trains and evaluates a tiny run and marks all its networks
// converged (they cannot converge in two epochs), so analysis has data.
func convergedRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if code, _ := runCapture(t, append([]string{"train", "--out", dir, "--lr", "1e-3,1e-2"}, tiny...)...); code != 0 {
		t.Fatalf("train exited %d", code)
	}
	if code, _ := runCapture(t, "eval", dir, "-q"); code != 0 {
		t.Fatalf("eval exited %d", code)
	}
	markConverged(t, dir)
	return dir
}

func TestAnalyzeRun(t *testing.T) {
	dir := convergedRun(t)
	code, out := runCapture(t, "analyze", dir, "--delays", "2", "--rank", "4", "--null", "1", "--json", "-q")
	if code != 0 {
		t.Fatalf("analyze exited %d:\n%s", code, out)
	}
	var sum degeneracySummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("analyze --json: %v\n%s", err, out)
	}
	if sum.Converged != 4 || sum.Networks != 4 || len(sum.Measures) != len(analyzeMeasures) || sum.DSANull == nil {
		t.Fatalf("summary %+v: want 4 of 4 networks, %d measures and a DSA null", sum, len(analyzeMeasures))
	}
	for _, m := range sum.Measures {
		if m.Count != 6 || !(m.Mean > 0) || math.IsNaN(m.StdErr) {
			t.Errorf("measure %s: %+v, want 6 pairs and a positive mean", m.Measure, m)
		}
	}
	if !(sum.Behaviour.SigmaOOD > 0) || sum.Behaviour.N != 4 {
		t.Errorf("behaviour %+v", sum.Behaviour)
	}
	// distances.npz: one symmetric (4, 4) matrix per measure with a zero
	// diagonal, and the network indices.
	npz := filepath.Join(dir, degen.DistancesFile)
	idx, err := degen.ReadNPZArray(npz, "networks")
	if err != nil || !slices.Equal(idx.Data, []float64{0, 1, 2, 3}) {
		t.Errorf("networks: %v %v", idx, err)
	}
	for _, m := range analyzeMeasures {
		a, err := degen.ReadNPZArray(npz, m.name)
		if err != nil || !slices.Equal(a.Shape, []int{4, 4}) {
			t.Fatalf("%s: %v %v", m.name, a, err)
		}
		for i := 0; i < 4; i++ {
			if a.Data[i*4+i] != 0 {
				t.Errorf("%s: diagonal %d = %v", m.name, i, a.Data[i*4+i])
			}
			for j := 0; j < 4; j++ {
				if a.Data[i*4+j] != a.Data[j*4+i] {
					t.Errorf("%s: not symmetric at (%d, %d)", m.name, i, j)
				}
			}
		}
	}
	f, err := os.Open(filepath.Join(dir, degen.DegeneracyCSV))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	// The run sweeps two learning rates: pooled rows, then each condition's.
	if len(sum.Conditions) != 2 || sum.Conditions[0].Converged != 2 || sum.Conditions[0].Measures[0].Count != 1 {
		t.Errorf("conditions: %+v, want two conditions of two networks (one pair each)", sum.Conditions)
	}
	if err != nil || len(rows) != 1+len(analyzeMeasures)+3+2*(len(analyzeMeasures)+2) || rows[0][1] != "measure" || rows[1][0] != "all" {
		t.Errorf("degeneracy.csv: %v rows %v", err, rows)
	}
	for _, m := range analyzeMeasures {
		for _, kind := range []string{"heatmap", "mds"} {
			for _, ext := range []string{".png", ".svg"} {
				if st, err := os.Stat(filepath.Join(dir, degen.FiguresDir, m.name+"_"+kind+ext)); err != nil || st.Size() == 0 {
					t.Errorf("figure %s_%s%s: %v", m.name, kind, ext, err)
				}
			}
		}
	}
	// Plain output, skipping the slow levels.
	code, out = runCapture(t, "analyze", dir, "--skip", "dsa", "--skip", "representation", "--no-figures", "-q")
	if code != 0 || !strings.Contains(out, "permutation") || strings.Contains(out, "svcca") {
		t.Errorf("analyze --skip exited %d:\n%s", code, out)
	}
	// Tied and normalised permutation distances: the tied objective adds
	// non-negative terms, normalising divides by H^2 = 36.
	before, _ := degen.ReadNPZArray(npz, "permutation")
	code, out = runCapture(t, "analyze", dir, "--skip", "dsa", "--skip", "representation", "--skip", "behaviour", "--no-figures", "--tie-io", "--normalize", "-q")
	if code != 0 {
		t.Fatalf("analyze --tie-io --normalize exited %d:\n%s", code, out)
	}
	after, _ := degen.ReadNPZArray(npz, "permutation")
	for k := range before.Data {
		if after.Data[k] < before.Data[k]/36-1e-12 {
			t.Errorf("tied, normalised distance %v below the untied one / 36 = %v", after.Data[k], before.Data[k]/36)
		}
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	dir := convergedRun(t)
	tmp := t.TempDir()
	// A run with one converged network.
	lonely := filepath.Join(tmp, "lonely")
	os.CopyFS(lonely, os.DirFS(dir))
	info, _ := degen.ReadRunInfo(lonely)
	for i := 1; i < len(info.Networks); i++ {
		info.Networks[i].Converged = false
	}
	degen.WriteRunInfo(lonely, info)
	// A run whose network 3 diverged: NaN in its weights and states, left
	// out of the analysis, which must still succeed on the other three.
	diverged := filepath.Join(tmp, "diverged")
	os.CopyFS(diverged, os.DirFS(dir))
	info, _ = degen.ReadRunInfo(diverged)
	info.Networks[3].Converged, info.Networks[3].Diverged = false, true
	degen.WriteRunInfo(diverged, info)
	for _, f := range []struct{ file, array string }{{degen.StatesFile, "states"}, {degen.WeightsFile, "W_hh"}} {
		poisonNPZ(t, filepath.Join(diverged, f.file), f.array, func(a *degen.Array) {
			a.Data[len(a.Data)-1] = math.NaN() // the last network's last value
		})
	}
	if code, out := runCapture(t, "analyze", diverged, "--delays", "2", "--rank", "4", "--json", "-q"); code != 0 || !strings.Contains(out, `"converged": 3`) {
		t.Errorf("diverged network: exit %d:\n%s", code, out)
	}
	// A run not yet evaluated.
	noEval := filepath.Join(tmp, "noeval")
	os.CopyFS(noEval, os.DirFS(dir))
	os.Remove(filepath.Join(noEval, degen.StatesFile))
	// A run whose states hold a NaN in a converged network.
	nan := filepath.Join(tmp, "nan")
	os.CopyFS(nan, os.DirFS(dir))
	poisonNPZ(t, filepath.Join(nan, degen.StatesFile), "states", func(a *degen.Array) { a.Data[17] = math.NaN() })
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no dir", []string{"analyze"}, 2, "RUN_DIR"},
		{"missing dir", []string{"analyze", filepath.Join(tmp, "nothing")}, 2, "not a directory"},
		{"one converged", []string{"analyze", lonely}, 2, "at least two converged"},
		{"not evaluated", []string{"analyze", noEval}, 2, "degen eval"},
		{"NaN states", []string{"analyze", nan, "--skip", "behaviour"}, 2, "NaN"},
		{"rank too large", []string{"analyze", dir, "--delays", "2", "--rank", "13"}, 2, "rank"},
		{"delays too long", []string{"analyze", dir, "--delays", "12", "--rank", "2"}, 2, "delays"},
		{"unknown skip", []string{"analyze", dir, "--skip", "weights"}, 2, "skip"},
		{"svcca dims", []string{"analyze", dir, "--svcca-dims", "7"}, 2, "svcca-dims"},
		{"svcca variance", []string{"analyze", dir, "--svcca-variance", "1.5"}, 2, "svcca-variance"},
		{"svcca spectrum", []string{"analyze", dir, "--svcca-spectrum", "squares"}, 2, "svcca-spectrum"},
		{"negative tabu", []string{"analyze", dir, "--perm-tabu", "-1"}, 2, "perm-tabu"},
	}
	for _, c := range cases {
		stderr := captureStderr(t, func() {
			code, _ := runCapture(t, append(c.args, "-q")...)
			if code != c.code {
				t.Errorf("%s: exit %d, want %d", c.name, code, c.code)
			}
		})
		if !strings.Contains(stderr, c.msg) {
			t.Errorf("%s: error %q does not mention %q", c.name, stderr, c.msg)
		}
	}
}

// poisonNPZ rewrites the NPZ file at path with change applied to array name.
func poisonNPZ(t *testing.T, path, name string, change func(a *degen.Array)) {
	t.Helper()
	keys, err := degen.NPZKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	var arrays []degen.NamedArray
	for _, k := range keys {
		a, err := degen.ReadNPZArray(path, k)
		if err != nil {
			t.Fatal(err)
		}
		if k == name {
			change(a)
		}
		arrays = append(arrays, degen.NamedArray{Name: k, Shape: a.Shape, Data: a.Data})
	}
	if err := degen.WriteNPZ(path, arrays...); err != nil {
		t.Fatal(err)
	}
	vouchEval(t, filepath.Dir(path))
}

// vouchEval rewrites the digests in dir's eval.json (when it has one) to
// match its weights.npz and states.npz, as if an evaluation had written
// them: tests that plant bad values then reach the checks they test rather
// than the staleness check.
func vouchEval(t *testing.T, dir string) {
	t.Helper()
	r, err := degen.ReadEvalReport(dir)
	if err != nil {
		return
	}
	if r.WeightsSHA256, err = degen.FileDigest(filepath.Join(dir, degen.WeightsFile)); err != nil {
		t.Fatal(err)
	}
	if r.StatesSHA256, err = degen.FileDigest(filepath.Join(dir, degen.StatesFile)); err != nil {
		t.Fatal(err)
	}
	if err := degen.WriteEvalReport(dir, r); err != nil {
		t.Fatal(err)
	}
}

// captureStderr returns what f writes to os.Stderr.
func captureStderr(t *testing.T, f func()) string { return capture(t, &os.Stderr, f) }

func TestAnalyzePermdist(t *testing.T) {
	tmp := t.TempDir()
	in := filepath.Join(tmp, "w.npz")
	const h = 5
	a := make([]float64, h*h)
	for k := range a {
		a[k] = math.Sin(float64(3*k + 1))
	}
	p := []int{2, 0, 4, 1, 3}
	b := make([]float64, h*h) // b[p i, p j] = a[i, j]
	for i := 0; i < h; i++ {
		for j := 0; j < h; j++ {
			b[p[i]*h+p[j]] = a[i*h+j]
		}
	}
	stack := append(append(append([]float64{}, a...), b...), a...)
	stack[2*h*h] += 1 // third network differs
	bad := []float64{1, 2, math.NaN(), 4}
	if err := degen.WriteNPZ(in,
		degen.NamedArray{Name: "A", Shape: []int{h, h}, Data: a},
		degen.NamedArray{Name: "B", Shape: []int{h, h}, Data: b},
		degen.NamedArray{Name: "S", Shape: []int{3, h, h}, Data: stack},
		degen.NamedArray{Name: "bad", Shape: []int{2, 2}, Data: bad},
		degen.NamedArray{Name: "rect", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, 6}},
		degen.NamedArray{Name: "C", Shape: []int{4, 4}, Data: a[:16]},
	); err != nil {
		t.Fatal(err)
	}
	code, out := runCapture(t, "analyze", "permdist", "--input", in, "--a", "A", "--b", "B", "--json")
	var pair permdistPair
	if code != 0 || json.Unmarshal([]byte(out), &pair) != nil {
		t.Fatalf("permdist pair exited %d:\n%s", code, out)
	}
	if pair.Distance > 1e-12 || !slices.Equal(pair.Permutation, p) {
		t.Errorf("permdist pair: %+v, want distance 0 and permutation %v", pair, p)
	}
	if pair.Runs != analysis.DefaultPermRuns(5) || pair.RunsAtBest < 1 || pair.RunsAtBest > pair.Runs {
		t.Errorf("permdist pair: %d of %d runs at the best, want 1 to %d of %d", pair.RunsAtBest, pair.Runs, analysis.DefaultPermRuns(5), analysis.DefaultPermRuns(5))
	}
	outNPZ := filepath.Join(tmp, "d.npz")
	code, out = runCapture(t, "analyze", "permdist", "--input", in, "--a", "S", "--output", outNPZ, "--json", "-q")
	if code != 0 {
		t.Fatalf("permdist stack exited %d:\n%s", code, out)
	}
	d, err := degen.ReadNPZArray(outNPZ, "distance")
	if err != nil || !slices.Equal(d.Shape, []int{3, 3}) || d.Data[1] > 1e-12 || !(d.Data[2] > 0.5) || d.Data[2] != d.Data[6] {
		t.Errorf("permdist stack: %v %v", d, err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"NaN", []string{"--a", "bad", "--b", "bad"}},
		{"not square", []string{"--a", "rect", "--b", "rect"}},
		{"missing array", []string{"--a", "nope", "--b", "A"}},
		{"stack without output", []string{"--a", "S"}},
		{"pair as stack", []string{"--a", "A", "--output", outNPZ}},
		{"size mismatch", []string{"--a", "A", "--b", "C"}},
		{"tie without names", []string{"--a", "A", "--b", "B", "--tie-io"}},
	} {
		if code, _ := runCapture(t, append([]string{"analyze", "permdist", "--input", in, "-q"}, c.args...)...); code != 2 {
			t.Errorf("%s: exit %d, want 2", c.name, code)
		}
	}
}

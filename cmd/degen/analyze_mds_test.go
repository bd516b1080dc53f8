package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"degen"
)

// TestAnalyzeMDS embeds the distances of a planar configuration and checks
// that the 2D coordinates reproduce every distance; bad matrices exit 2.
func TestAnalyzeMDS(t *testing.T) {
	dir := t.TempDir()
	pts := [][2]float64{{0, 0}, {3, 0}, {0, 4}, {-1, -2}, {2.5, 1.5}}
	n := len(pts)
	dist := make([]float64, n*n)
	for i := range pts {
		for j := range pts {
			dist[i*n+j] = math.Hypot(pts[i][0]-pts[j][0], pts[i][1]-pts[j][1])
		}
	}
	in := filepath.Join(dir, "d.npz")
	if err := degen.WriteNPZ(in, degen.NamedArray{Name: "distance", Shape: []int{n, n}, Data: dist}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "mds.npz")
	code, stdout := runCapture(t, "analyze", "mds", "--input", in, "--output", out, "--figure", filepath.Join(dir, "fig"), "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var sum mdsSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.N != n {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	coords, err := degen.ReadNPZArray(out, "coords")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			got := math.Hypot(coords.Data[2*i]-coords.Data[2*j], coords.Data[2*i+1]-coords.Data[2*j+1])
			if math.Abs(got-dist[i*n+j]) > 1e-9 {
				t.Errorf("embedded distance (%d,%d) = %g, want %g", i, j, got, dist[i*n+j])
			}
		}
	}
	for _, f := range []string{"fig.png", "fig.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("figure %s missing", f)
		}
	}

	bad := map[string][]float64{
		"asymmetric": {0, 1, 2, 0},
		"diagonal":   {1, 1, 1, 0},
		"negative":   {0, -1, -1, 0},
		"nan":        {0, math.NaN(), math.NaN(), 0},
	}
	for name, data := range bad {
		p := filepath.Join(dir, name+".npz")
		if err := degen.WriteNPZ(p, degen.NamedArray{Name: "distance", Shape: []int{2, 2}, Data: data}); err != nil {
			t.Fatal(err)
		}
		if code, _ := runCapture(t, "analyze", "mds", "--input", p, "--output", filepath.Join(dir, "x.npz")); code != 2 {
			t.Errorf("%s matrix: exit %d, want 2", name, code)
		}
	}
	if code, _ := runCapture(t, "analyze", "mds", "--input", in, "--output", out, "--dims", "9"); code != 2 {
		t.Errorf("--dims larger than N: exit %d, want 2", code)
	}
}

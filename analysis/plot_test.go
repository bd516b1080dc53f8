package analysis

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestFigures(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	dir := t.TempDir()
	for _, n := range []int{2, 9, 70} {
		pts := randomDense(n, 3, rng)
		d := euclidean(pts)
		labels := make([]int, n)
		groups := make([]string, n)
		for i := range labels {
			labels[i] = 3 * i
			groups[i] = []string{"a", "b"}[i%2]
		}
		hm, err := HeatmapFigure(d, "distances", labels)
		if err != nil {
			t.Fatal(err)
		}
		xy, err := MDS(d, 2)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := MDSFigure(xy, "mds", labels, groups)
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]Figure{"heat": hm, "mds": sc} {
			base := filepath.Join(dir, name)
			if err := SaveFigure(f, base); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(base + ".png")
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("n=%d %s: PNG does not decode: %v", n, name, err)
			}
			if want := int(f.Width.Points() / 72 * 150); img.Bounds().Dx() != want {
				t.Errorf("n=%d %s: PNG is %d px wide, want %d", n, name, img.Bounds().Dx(), want)
			}
			svg, err := os.ReadFile(base + ".svg")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("</svg>")) {
				t.Errorf("n=%d %s: SVG is not a complete svg document", n, name)
			}
		}
	}
	// A constant matrix still draws (the colour bar needs max > min).
	if _, err := HeatmapFigure(mat.NewSymDense(3, nil), "zeros", nil); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".png" && filepath.Ext(e.Name()) != ".svg" {
			t.Errorf("stray file %s left behind", e.Name())
		}
	}
}

func TestFigureErrors(t *testing.T) {
	d := mat.NewSymDense(3, nil)
	d.SetSym(0, 2, math.Inf(1))
	if _, err := HeatmapFigure(d, "inf", nil); err == nil {
		t.Error("Inf entry: want an error")
	}
	if _, err := HeatmapFigure(mat.NewSymDense(3, nil), "labels", []int{1, 2}); err == nil {
		t.Error("label count: want an error")
	}
	if _, err := MDSFigure(mat.NewDense(3, 1, nil), "dims", nil, nil); err == nil {
		t.Error("one column: want an error")
	}
	if _, err := MDSFigure(mat.NewDense(3, 2, nil), "groups", nil, []string{"a"}); err == nil {
		t.Error("group count: want an error")
	}
	if _, err := MDSFigure(mat.NewDense(2, 2, []float64{0, 1, math.NaN(), 2}), "nan", nil, nil); err == nil {
		t.Error("NaN coordinate: want an error")
	}
}

package analysis

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"

	"degen"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is a drawing of a fixed size that SaveFigure writes as PNG and SVG.
type Figure struct {
	Width, Height vg.Length
	Draw          func(c draw.Canvas)
}

// SaveFigure writes f to base+".png" (150 dpi) and base+".svg", each
// atomically (a temporary file renamed into place).
func SaveFigure(f Figure, base string) error {
	png := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(150))}
	f.Draw(draw.New(png))
	svg := vgsvg.New(f.Width, f.Height)
	f.Draw(draw.New(svg))
	for _, out := range []struct {
		path string
		w    io.WriterTo
	}{{base + ".png", png}, {base + ".svg", svg}} {
		if err := degen.WriteAtomic(out.path, func(file *os.File) error {
			_, err := out.w.WriteTo(file)
			return err
		}); err != nil {
			return fmt.Errorf("save figure: %w", err)
		}
	}
	return nil
}

// matrixGrid is a plotter.GridXYZ over a symmetric (N, N) matrix drawn
// with row 0 at the top: cell (c, r), centred at (c, r), is d[N-1-r, c].
type matrixGrid struct{ d mat.Symmetric }

func (g matrixGrid) Dims() (c, r int)   { n := g.d.SymmetricDim(); return n, n }
func (g matrixGrid) Z(c, r int) float64 { return g.d.At(g.d.SymmetricDim()-1-r, c) }
func (g matrixGrid) X(c int) float64    { return float64(c) }
func (g matrixGrid) Y(r int) float64    { return float64(r) }

// indexTicks labels at most about ten evenly spaced cells with their
// network indices (flip: the axis runs from the last row at 0 to the
// first at N-1); up to 60 cells every cell also gets a minor tick.
type indexTicks struct {
	labels []int
	flip   bool
}

func (t indexTicks) Ticks(lo, hi float64) []plot.Tick {
	n := len(t.labels)
	step := max(1, int(math.Ceil(float64(n)/10)))
	var ticks []plot.Tick
	for k := 0; k < n; k++ {
		pos := k
		if t.flip {
			pos = n - 1 - k
		}
		if k%step == 0 {
			ticks = append(ticks, plot.Tick{Value: float64(pos), Label: strconv.Itoa(t.labels[k])})
		} else if n <= 60 {
			ticks = append(ticks, plot.Tick{Value: float64(pos)})
		}
	}
	return ticks
}

// HeatmapFigure draws the (N, N) distance matrix d as a heat map (row 0 at
// the top) with a colour bar. labels (N) name the rows and columns (network
// indices); nil labels them 0..N-1.
func HeatmapFigure(d mat.Symmetric, title string, labels []int) (Figure, error) {
	n := d.SymmetricDim()
	if labels == nil {
		labels = make([]int, n)
		for i := range labels {
			labels[i] = i
		}
	}
	if len(labels) != n || n < 1 {
		return Figure{}, fmt.Errorf("heatmap %q: %d labels for a %d x %d matrix", title, len(labels), n, n)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := d.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Figure{}, fmt.Errorf("heatmap %q: entry (%d, %d) is %v", title, i, j, v)
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi <= lo {
		hi = lo + 1
	}
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(lo)
	cm.SetMax(hi)

	p := plot.New()
	p.Title.Text = title
	hm := plotter.NewHeatMap(matrixGrid{d}, cm.Palette(255))
	hm.Min, hm.Max = lo, hi
	// Beyond 64 networks, one image instead of N^2 rectangles keeps the SVG
	// small and quick to draw.
	hm.Rasterized = n > 64
	p.Add(hm)
	p.X.Label.Text = "network"
	p.Y.Label.Text = "network"
	p.X.Tick.Marker = indexTicks{labels: labels}
	p.Y.Tick.Marker = indexTicks{labels: labels, flip: true}
	p.X.Padding, p.Y.Padding = 0, 0

	bar := plot.New()
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.HideX()
	bar.Y.Padding = 0
	bar.Title.Text = " "

	const w, h = 6 * vg.Inch, 5 * vg.Inch
	return Figure{Width: w, Height: h, Draw: func(c draw.Canvas) {
		split := c.Max.X - c.Min.X - 1.1*vg.Inch
		p.Draw(draw.Crop(c, 0, -(c.Max.X - c.Min.X - split), 0, 0))
		bar.Draw(draw.Crop(c, split+0.2*vg.Inch, 0, 0.45*vg.Inch, 0))
	}}, nil
}

// MDSFigure draws a 2D embedding coords (N, 2) as a scatter, one colour
// and glyph per group (groups (N) may be nil for one group), labelling
// points with their network indices when N <= 60.
func MDSFigure(coords *mat.Dense, title string, labels []int, groups []string) (Figure, error) {
	n, k := coords.Dims()
	if k < 2 {
		return Figure{}, fmt.Errorf("mds figure %q: coordinates have %d columns, want 2", title, k)
	}
	if labels != nil && len(labels) != n || groups != nil && len(groups) != n {
		return Figure{}, fmt.Errorf("mds figure %q: %d points but %d labels and %d groups", title, n, len(labels), len(groups))
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "MDS 1"
	p.Y.Label.Text = "MDS 2"
	p.Add(plotter.NewGrid())
	byGroup := map[string][]int{}
	for i := 0; i < n; i++ {
		g := ""
		if groups != nil {
			g = groups[i]
		}
		byGroup[g] = append(byGroup[g], i)
	}
	names := make([]string, 0, len(byGroup))
	for g := range byGroup {
		names = append(names, g)
	}
	sort.Strings(names)
	for gi, g := range names {
		pts := make(plotter.XYs, len(byGroup[g]))
		for k, i := range byGroup[g] {
			pts[k] = plotter.XY{X: coords.At(i, 0), Y: coords.At(i, 1)}
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return Figure{}, fmt.Errorf("mds figure %q: %w", title, err)
		}
		s.GlyphStyle.Color = plotutil.Color(gi)
		s.GlyphStyle.Shape = plotutil.Shape(gi)
		s.GlyphStyle.Radius = vg.Points(3)
		p.Add(s)
		if g != "" {
			p.Legend.Add(g, s)
		}
	}
	if n <= 60 {
		xyl := plotter.XYLabels{XYs: make(plotter.XYs, n), Labels: make([]string, n)}
		for i := 0; i < n; i++ {
			xyl.XYs[i] = plotter.XY{X: coords.At(i, 0), Y: coords.At(i, 1)}
			xyl.Labels[i] = strconv.Itoa(i)
			if labels != nil {
				xyl.Labels[i] = strconv.Itoa(labels[i])
			}
		}
		l, err := plotter.NewLabels(xyl)
		if err != nil {
			return Figure{}, fmt.Errorf("mds figure %q: %w", title, err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(7)
		}
		l.Offset = vg.Point{X: vg.Points(4), Y: vg.Points(2)}
		p.Add(l)
	}
	// Equal spans on both axes of a square figure: MDS distances read true.
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := 0; i < n; i++ {
		x, y := coords.At(i, 0), coords.At(i, 1)
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			return Figure{}, fmt.Errorf("mds figure %q: point %d is (%v, %v)", title, i, x, y)
		}
		xlo, xhi, ylo, yhi = min(xlo, x), max(xhi, x), min(ylo, y), max(yhi, y)
	}
	half := 0.55 * max(xhi-xlo, yhi-ylo, 1e-12)
	p.X.Min, p.X.Max = (xlo+xhi)/2-half, (xlo+xhi)/2+half
	p.Y.Min, p.Y.Max = (ylo+yhi)/2-half, (ylo+yhi)/2+half
	p.Legend.Top = true
	return Figure{Width: 5 * vg.Inch, Height: 5 * vg.Inch, Draw: p.Draw}, nil
}

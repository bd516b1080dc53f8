//go:build cuda || cudaemu

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"

	"degen/kernels"
)

// TestMmaSelftest runs mma_selftest, one mma.sync.m16n8k8 in TF32, on
// integer matrices (exact in TF32, exact products and sums) and requires
// the exact product. On a GPU this checks that the fragment layout the
// tensor-core kernels assume (kernels/compat.cuh) is the hardware's; on the
// emulator, that the emulator implements the same layout.
func TestMmaSelftest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := smallIntegers(rng, 16*8), smallIntegers(rng, 8*8)
	d := runMmaSelftest(t, a, b)
	if bad := wrongProducts(t, "", a, b, d, 16, 8, 8); bad > 0 {
		t.Errorf("%d of 128 elements wrong: the fragment layout is not the hardware's", bad)
	}
}

// smallIntegers returns n integers in [-8, 8] as float32: exact in TF32,
// and so are their products and the sums of eight of them.
func smallIntegers(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.IntN(17) - 8)
	}
	return v
}

// wrongProducts counts the elements of d (m x n) that differ from A B (A
// m x k, B k x n, all row-major), reporting the first five with what.
func wrongProducts(t *testing.T, what string, a, b, d []float32, m, n, k int) int {
	t.Helper()
	bad := 0
	for i := range m {
		for j := range n {
			var want float32
			for l := range k {
				want += a[i*k+l] * b[l*n+j]
			}
			if d[i*n+j] != want {
				if bad++; bad <= 5 {
					t.Errorf("%sD[%d][%d] = %g, want %g", what, i, j, d[i*n+j], want)
				}
			}
		}
	}
	return bad
}

// runMmaSelftest returns D = A B (A 16x8, B 8x8, row-major, TF32 values)
// from one mma_selftest launch.
func runMmaSelftest(t *testing.T, a, b []float32) []float32 {
	t.Helper()
	return launchOnce(t, kernels.PTX, "mma_selftest", Shape{Grid: [2]int{1, 1}, Block: 32}, [][]float32{a, b}, 16*8)
}

// launchOnce launches kernel name of the module ptx once, on a fresh context,
// with shape sh and the arguments: a buffer holding each input, an output
// buffer of n floats, then extra; it returns the output.
func launchOnce(t *testing.T, ptx, name string, sh Shape, inputs [][]float32, n int, extra ...any) []float32 {
	t.Helper()
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	out := make([]float32, n)
	err = ctx.Do(func() error {
		mod, err := LoadModule(ptx)
		if err != nil {
			return err
		}
		defer mod.Unload()
		k, err := mod.Kernel(name)
		if err != nil {
			return err
		}
		var args []any
		for _, in := range append(inputs, out) {
			buf, err := Alloc(len(in))
			if err != nil {
				return err
			}
			defer buf.Free()
			if err := buf.Upload(in); err != nil {
				return err
			}
			args = append(args, buf)
		}
		if err := k.Launch(sh, append(args, extra...)...); err != nil {
			return err
		}
		if err := ctx.Synchronize(name); err != nil {
			return err
		}
		return args[len(inputs)].(*Buffer).Download(out)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMmaRounding checks how one mma.sync adds its products, on sums
// whose float32 round-to-nearest, exact-then-truncated and
// aligned-and-truncated results differ (B's column 0 is 1, 1.5, 1.5, 1):
//
//	row 0:  1 + 1.5*2^-24            nearest 1+2^-23, truncated 1
//	row 1: -1 - 1.5*2^-24            nearest -(1+2^-23), truncated -1
//	row 2:  1 + 1.5*2^-24 + 1.5*2^-24  exact 1+1.5*2^-23: truncated after
//	                                  the sum 1+2^-23, each addend truncated
//	                                  at 2^-23 first: 1
//	rows 3-15: 1 + 2^-k, k = 23 down to 11: exact if the sum keeps k bits
//	                                  below the largest addend's leading bit
//
// The emulator (cuda/emu.cc, tensorCoreSum) models the tensor cores as
// the published measurements describe them: each addend truncated at
// float32's precision of the largest (23 bits below its leading bit), the
// sum rounded toward zero, so 1, -1, 1 and every 1 + 2^-k exact. On a GPU
// this checks that model: a card that adds otherwise fails here, and the
// emulator must follow it. Rows 3-15 say how many bits a card keeps;
// DEGEN_EMU_TC_BITS makes the emulator keep as many, to see what the
// kernels' accuracy loses with it (bench/RESULTS.md, eighth session).
func TestMmaRounding(t *testing.T) {
	a, b := roundingOperands(16, 8)
	checkRounding(t, "mma.sync", runMmaSelftest(t, a, b), 8)
}

// roundingRows is the number of rows of D that TestMmaRounding's sums
// fill: three for the rounding direction, then 1 + 2^-k for k = 23 .. 11.
const roundingRows = 16

// roundingOperands returns A (m x 8) and B (8 x n), row-major, holding
// TestMmaRounding's sums in rows 0-15 of D's column 0 (zero elsewhere).
func roundingOperands(m, n int) (a, b []float32) {
	a, b = make([]float32, m*8), make([]float32, 8*n)
	const tiny = 1.0 / (1 << 24)
	b[0*n], b[1*n], b[2*n], b[3*n] = 1, 1.5, 1.5, 1
	a[0*8+0], a[0*8+1] = 1, tiny
	a[1*8+0], a[1*8+1] = -1, -tiny
	a[2*8+0], a[2*8+1], a[2*8+2] = 1, tiny, tiny
	for r := 3; r < roundingRows; r++ {
		a[r*8+0], a[r*8+3] = 1, float32(math.Ldexp(1, -bitsOfRow(r)))
	}
	return a, b
}

// bitsOfRow is the k of row r's sum 1 + 2^-k (rows 3-15).
func bitsOfRow(r int) int { return 23 - (r - 3) }

// checkRounding checks rows 0-15 of column 0 of d (row stride n) against
// the truncating model (see TestMmaRounding); what names the instruction.
func checkRounding(t *testing.T, what string, d []float32, n int) {
	t.Helper()
	one := float32(1)
	up := math.Nextafter32(1, 2)
	want := []float32{one, -one, one}
	names := []string{"1 + 1.5*2^-24", "-1 - 1.5*2^-24", "1 + 2*1.5*2^-24"}
	for r, w := range want {
		got := d[r*n]
		if got != w {
			how := "neither truncation nor round to nearest"
			switch {
			case got == up || got == -up:
				how = "rounded away from zero (to nearest, or truncated only after an exact sum)"
			}
			t.Errorf("%s row %d (%s): %.9g, want %.9g (addends truncated, sum toward zero): %s; update tensorCoreSum in cuda/emu.cc to this card", what, r, names[r], got, w, how)
		}
	}
	kept := keptBits(d, n)
	t.Logf("%s: rows 0-2 %v; 1 + 2^-k exact for k <= %d (of 11 .. 23)", what, column(d, n, 0, 3), kept)
	switch kept {
	case 23:
	case -1:
		t.Errorf("%s: the sums 1 + 2^-k, k = 23 .. 11, fit no count of kept bits: %v", what, column(d, n, 3, roundingRows))
	default:
		t.Errorf("%s keeps %d bits below the largest addend's leading bit (1 + 2^-k exact for k <= %d), the emulator's model 23: "+
			"run the emulator with DEGEN_EMU_TC_BITS=%d to see what the kernels lose (bench/RESULTS.md, eighth session)", what, kept, kept, kept)
	}
}

// column returns rows from .. to-1 of column 0 of d (row stride n).
func column(d []float32, n, from, to int) []float32 {
	var c []float32
	for r := from; r < to; r++ {
		c = append(c, d[r*n])
	}
	return c
}

// keptBits returns the largest k for which row 3-15's 1 + 2^-k came out
// exact, checking that every smaller k did too (10 if none did; -1 if the
// rows do not fit one count of bits).
func keptBits(d []float32, n int) int {
	kept := 10
	for r := roundingRows - 1; r >= 3; r-- {
		k := bitsOfRow(r)
		if float64(d[r*n]) != 1+math.Ldexp(1, -k) {
			break
		}
		kept = k
	}
	for r := 3; r < roundingRows; r++ {
		if k := bitsOfRow(r); k > kept && float64(d[r*n]) != 1 {
			return -1 // a larger k survived where a smaller did not
		}
	}
	return kept
}

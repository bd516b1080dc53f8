//go:build cuda || cudaemu

package cuda

import (
	"math"
	"strings"
	"testing"

	"degen/kernels"
)

// TestLaunchErrors checks that argument mistakes are caught before the
// driver sees them and that a bad launch shape comes back naming the kernel
// and the shape.
func TestLaunchErrors(t *testing.T) {
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	err = ctx.Do(func() error {
		mod, err := LoadModule(kernels.PTX)
		if err != nil {
			return err
		}
		defer mod.Unload()
		k, err := mod.Kernel("rnn_grad_w4_t64")
		if err != nil {
			return err
		}
		buf, err := Alloc(16)
		if err != nil {
			return err
		}
		defer buf.Free()
		sh := Shape{Grid: [2]int{1, 1}, Block: 256}
		for _, c := range []struct {
			name string
			sh   Shape
			args []any
			want string
		}{
			{"too few arguments", sh, []any{buf}, "1 arguments, kernel takes 14"},
			{"int for int32", sh, []any{buf, buf, buf, 1, buf, buf, buf, int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), int32(0)}, "Go type int"},
			{"float32 for int32", sh, []any{buf, buf, buf, float32(1), buf, buf, buf, int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), int32(0)}, "argument 3 is .f32"},
			{"block too large", Shape{Grid: [2]int{1, 1}, Block: 4096}, []any{buf, buf, buf, int32(0), buf, buf, buf, int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), int32(0)}, "launch rnn_grad_w4_t64 grid=[1,1] block=4096"},
		} {
			err := k.Launch(c.sh, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUploadUint64 checks that 64-bit words land as the kernels read them:
// two 4-byte elements each, low half first (both builds are little-endian),
// and that too small or misaligned buffers are refused.
func TestUploadUint64(t *testing.T) {
	ctx, err := Open(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.Close()
	err = ctx.Do(func() error {
		buf, err := Alloc(6)
		if err != nil {
			return err
		}
		defer buf.Free()
		words := []uint64{0x0123456789abcdef, math.Float64bits(-2.5), ^uint64(0)}
		if err := buf.UploadUint64(words); err != nil {
			return err
		}
		got := make([]int32, 6)
		if err := buf.DownloadInt32(got); err != nil {
			return err
		}
		for i, w := range words {
			if uint32(got[2*i]) != uint32(w) || uint32(got[2*i+1]) != uint32(w>>32) {
				t.Errorf("word %d: elements %#x %#x, want %#x %#x", i, uint32(got[2*i]), uint32(got[2*i+1]), uint32(w), uint32(w>>32))
			}
		}
		if err := buf.UploadUint64(make([]uint64, 4)); err == nil || !strings.Contains(err.Error(), "buffer of 6") {
			t.Errorf("4 words into 6 elements: %v, want an error", err)
		}
		odd, err := buf.View(1, 4)
		if err != nil {
			return err
		}
		if err := odd.UploadUint64(words[:1]); err == nil || !strings.Contains(err.Error(), "aligned") {
			t.Errorf("upload to a view at an odd offset: %v, want an alignment error", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package degen

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNPZRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	f32 := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	f64 := []float64{0.5, -1.5, 2.25}
	i32 := []int32{3, 1, 4, 1, 5}
	err := WriteNPZ(path,
		NamedArray{"cube", []int{2, 3, 2}, f32},
		NamedArray{"vec", []int{3}, f64},
		NamedArray{"idx", []int{5}, i32},
	)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ReadNPZArray(path, "cube")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, []int{2, 3, 2}) {
		t.Fatalf("shape %v", a.Shape)
	}
	for i, v := range f32 {
		if a.Data[i] != float64(v) {
			t.Fatalf("cube[%d] = %g, want %g", i, a.Data[i], v)
		}
	}
	v, err := ReadNPZArray(path, "vec")
	if err != nil || !slices.Equal(v.Data, f64) {
		t.Fatalf("vec %v %v", v, err)
	}
	idx, err := ReadNPZArray(path, "idx")
	if err != nil || idx.Data[4] != 5 {
		t.Fatalf("idx %v %v", idx, err)
	}
	if _, err := ReadNPZArray(path, "missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("want an error naming the missing array, got %v", err)
	}
}

func TestNPZLargeArrays(t *testing.T) {
	// Arrays beyond one 32 KB deflate block read back exactly (npyio's
	// element-wise reads used to shift after a short read).
	path := filepath.Join(t.TempDir(), "big.npz")
	f32 := make([]float32, 50000)
	f64 := make([]float64, 30000)
	for i := range f32 {
		f32[i] = float32(i) * 0.5
	}
	for i := range f64 {
		f64[i] = float64(i) * 0.25
	}
	if err := WriteNPZ(path, NamedArray{"a", []int{len(f32)}, f32}, NamedArray{"b", []int{100, 300}, f64}); err != nil {
		t.Fatal(err)
	}
	a, err := ReadNPZArray(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range a.Data {
		if v != float64(f32[i]) {
			t.Fatalf("float32 element %d = %v, want %v", i, v, f32[i])
		}
	}
	b, err := ReadNPZArray(path, "b")
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range b.Data {
		if v != f64[i] {
			t.Fatalf("float64 element %d = %v, want %v", i, v, f64[i])
		}
	}
}

func TestNPZErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.npz")
	if err := WriteNPZ(path, NamedArray{"x", []int{2, 2}, []float32{1, 2, 3}}); err == nil {
		t.Fatal("want a shape error")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a failed write left a file behind")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := os.WriteFile(path, []byte("not a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadNPZArray(path, "x"); err == nil {
		t.Fatal("want an error for a corrupted file")
	}
}

func FuzzReadNPZ(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "good.npz")
	if err := WriteNPZ(good, NamedArray{"x", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}}); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		a, err := readNPZArray(z, "fuzz.npz", "x")
		if err == nil && len(a.Data) != a.Size() {
			t.Fatalf("read %d elements for shape %v", len(a.Data), a.Shape)
		}
	})
}

// numpyPython returns a Python with numpy, or skips the test.
func numpyPython(t *testing.T) string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py
		}
	}
	t.Skip("no python3 with numpy (Debian: apt-get install python3-numpy)")
	return ""
}

// TestNPZNumpyInterop checks that numpy loads what degen writes and that
// degen reads what numpy writes (savez and savez_compressed).
func TestNPZNumpyInterop(t *testing.T) {
	py := numpyPython(t)
	dir := t.TempDir()
	ours := filepath.Join(dir, "ours.npz")
	data := make([]float32, 2*3*4)
	for i := range data {
		data[i] = float32(i) / 8
	}
	if err := WriteNPZ(ours, NamedArray{"W_hh", []int{2, 3, 4}, data}, NamedArray{"networks", []int{2}, []int32{5, 9}}); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "theirs.npz")
	compressed := filepath.Join(dir, "theirs_c.npz")
	script := `
import sys, numpy as np
a = np.load(sys.argv[1])
w = a["W_hh"]
assert w.shape == (2, 3, 4) and w.dtype == np.float32, (w.shape, w.dtype)
assert np.array_equal(w.ravel(), np.arange(24, dtype=np.float32) / 8)
assert list(a["networks"]) == [5, 9] and a["networks"].dtype == np.int32
x = np.arange(30, dtype=np.float64).reshape(5, 6) * 0.25
np.savez(sys.argv[2], x=x, n=np.array([1, 2, 3], dtype=np.int64), f=np.asfortranarray(x))
np.savez_compressed(sys.argv[3], x=x)
`
	if out, err := exec.Command(py, "-c", script, ours, theirs, compressed).CombinedOutput(); err != nil {
		t.Fatalf("numpy could not load degen's file: %v\n%s", err, out)
	}
	for _, path := range []string{theirs, compressed} {
		x, err := ReadNPZArray(path, "x")
		if err != nil || !slices.Equal(x.Shape, []int{5, 6}) || x.Data[29] != 29*0.25 {
			t.Fatalf("%s: %v %v", path, x, err)
		}
	}
	if n, err := ReadNPZArray(theirs, "n"); err != nil || n.Data[2] != 3 {
		t.Fatalf("int64 array: %v %v", n, err)
	}
	if _, err := ReadNPZArray(theirs, "f"); err == nil || !strings.Contains(err.Error(), "Fortran") {
		t.Fatalf("a Fortran-order array must be refused with a clear error, got %v", err)
	}
}

// TestNPZHeaderTooLarge: a .npy header longer than numpy's own limit
// (max_header_size, 10,000 bytes) is refused before npyio reads it. A
// fuzzed file whose zip directory lied about the entry's compressed size got
// past the size check with a 4 GB header length, and npyio then spent
// seconds scanning a buffer of that size.
// rawNPZ returns an NPZ holding x.npy with the given header text, padded
// to hlen bytes, followed by data.
func rawNPZ(t *testing.T, header string, hlen int, data []byte) *zip.Reader {
	t.Helper()
	var npy bytes.Buffer
	npy.WriteString("\x93NUMPY\x02\x00")
	npy.Write([]byte{byte(hlen), byte(hlen >> 8), 0, 0})
	npy.WriteString(header + strings.Repeat(" ", hlen-len(header)-1) + "\n")
	npy.Write(data)
	var file bytes.Buffer
	zw := zip.NewWriter(&file)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "x.npy", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(npy.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(file.Bytes()), int64(file.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestNPZHeaderTooLarge(t *testing.T) {
	z := rawNPZ(t, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 20000, []byte{0, 0, 128, 63})
	if _, err := readNPZArray(z, "big.npz", "x"); err == nil || !strings.Contains(err.Error(), "header of 20000 bytes") {
		t.Fatalf("a 20,000-byte header: %v, want it refused as larger than numpy allows", err)
	}
}

// TestNPZHeaderStrict: headers numpy writes are read, malformed ones (an
// unclosed shape tuple was read as shape [5]) are refused.
func TestNPZHeaderStrict(t *testing.T) {
	data := make([]byte, 8*25)
	for _, c := range []struct {
		header string
		shape  []int
	}{
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (5, 5), }", []int{5, 5}},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (25,), }", []int{25}},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (), }", nil},
	} {
		a, err := readNPZArray(rawNPZ(t, c.header, 118, data), "ok.npz", "x")
		if err != nil || !slices.Equal(a.Shape, c.shape) {
			t.Errorf("%s: shape %v, %v; want %v", c.header, a, err, c.shape)
		}
	}
	for _, header := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (5, 5 }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (5, x), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (5, 5), ",
	} {
		if _, err := readNPZArray(rawNPZ(t, header, 118, data), "bad.npz", "x"); err == nil || !strings.Contains(err.Error(), "malformed header") {
			t.Errorf("%s: %v, want a malformed header", header, err)
		}
	}
}

package degen

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/sbinet/npyio/npy"
	"github.com/sbinet/npyio/npz"
)

// Array is a dense row-major array read from an NPZ file, converted to float64.
type Array struct {
	Name  string
	Shape []int
	Data  []float64
}

// Size is the number of elements implied by the shape.
func (a *Array) Size() int { return shapeSize(a.Shape) }

// NamedArray is one array to write: Data is a flat row-major []float64,
// []float32, []int32 or []int64 whose length matches Shape.
type NamedArray struct {
	Name  string
	Shape []int
	Data  any
}

// ReadNPZArray reads the array name from the NPZ file at path. Float and
// integer arrays of any width are converted to float64.
//
// npyio parses the .npy header; the data are then read in bulk and checked
// against the entry's size first, so a corrupted or truncated file is an
// error, never a crash or an unbounded allocation.
func ReadNPZArray(path, name string) (*Array, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer z.Close()
	return readNPZArray(&z.Reader, path, name)
}

// readNPZArray reads array name from the opened archive z (path names it in
// errors).
func readNPZArray(z *zip.Reader, path, name string) (*Array, error) {
	var names []string
	for _, f := range z.File {
		key := strings.TrimSuffix(f.Name, ".npy")
		names = append(names, key)
		if key == name {
			a, err := readNPY(f, name)
			if err != nil {
				return nil, fmt.Errorf("%s: array %q: %w", path, name, err)
			}
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s: no array %q (it has %v)", path, name, names)
}

// NPZKeys lists the array names in the NPZ file at path.
func NPZKeys(path string) ([]string, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, strings.TrimSuffix(f.Name, ".npy"))
	}
	return names, nil
}

// readNPY reads one .npy entry of an NPZ archive.
func readNPY(f *zip.File, name string) (out *Array, err error) {
	// npyio panics on some malformed headers (found by FuzzReadNPZ).
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("corrupted header (%v)", p)
		}
	}()
	// Deflate expands at most about 1032:1, so a larger claimed size is a
	// corrupted directory entry.
	size := min(int64(f.UncompressedSize64), 1100*int64(f.CompressedSize64)+4096)
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	rd := bufio.NewReaderSize(rc, 1<<16)
	// npyio trusts the header length (up to 4 GiB): check it fits first.
	prefix, err := rd.Peek(12)
	if err != nil || string(prefix[1:6]) != "NUMPY" {
		return nil, fmt.Errorf("not a .npy array")
	}
	headerLen, prefixLen := int64(-1), int64(0)
	switch prefix[6] {
	case 1:
		prefixLen = 10
		headerLen = prefixLen + int64(binary.LittleEndian.Uint16(prefix[8:10]))
	case 2, 3:
		prefixLen = 12
		headerLen = prefixLen + int64(binary.LittleEndian.Uint32(prefix[8:12]))
	}
	if headerLen < 0 || headerLen > size {
		return nil, fmt.Errorf("corrupted header")
	}
	// The zip directory's sizes can lie, so size alone does not bound the
	// header; numpy itself refuses headers over maxNPYHeader bytes.
	if headerLen-prefixLen > maxNPYHeader {
		return nil, fmt.Errorf("corrupted header: a header of %d bytes (numpy reads at most %d by default)", headerLen-prefixLen, maxNPYHeader)
	}
	raw, err := rd.Peek(int(headerLen))
	if err != nil {
		return nil, fmt.Errorf("truncated header")
	}
	strictShape, err := parseNPYShape(string(raw[prefixLen:]))
	if err != nil {
		return nil, err
	}
	nr, err := npy.NewReader(rd)
	if err != nil {
		return nil, err
	}
	hdr := nr.Header
	if !slices.Equal(strictShape, hdr.Descr.Shape) {
		return nil, fmt.Errorf("malformed header: shape %v, read as %v", strictShape, hdr.Descr.Shape)
	}
	if hdr.Descr.Fortran {
		return nil, fmt.Errorf("stored in Fortran order; save it with numpy.ascontiguousarray")
	}
	dtype := hdr.Descr.Type
	var order binary.ByteOrder = binary.LittleEndian
	if strings.HasPrefix(dtype, ">") {
		order = binary.BigEndian
	}
	var width int
	var decode func(b []byte) float64
	switch strings.TrimLeft(dtype, "<>|=") {
	case "f4":
		width, decode = 4, func(b []byte) float64 { return float64(math.Float32frombits(order.Uint32(b))) }
	case "f8":
		width, decode = 8, func(b []byte) float64 { return math.Float64frombits(order.Uint64(b)) }
	case "i4":
		width, decode = 4, func(b []byte) float64 { return float64(int32(order.Uint32(b))) }
	case "i8":
		width, decode = 8, func(b []byte) float64 { return float64(int64(order.Uint64(b))) }
	case "b1", "u1":
		width, decode = 1, func(b []byte) float64 { return float64(b[0]) }
	default:
		return nil, fmt.Errorf("unsupported dtype %s (want float32, float64, int32, int64 or bool)", dtype)
	}
	shape := append([]int(nil), hdr.Descr.Shape...)
	n, ok := checkedSize(shape, maxElements)
	if !ok || int64(n)*int64(width) > size-headerLen {
		return nil, fmt.Errorf("impossible shape %v for its %d bytes (corrupted file?)", shape, size-headerLen)
	}
	// The sizes in a zip directory can lie: grow the data as they arrive,
	// so a corrupted entry fails after reading what it has, not after
	// allocating what it claims.
	out = &Array{Name: name, Shape: shape, Data: make([]float64, 0, min(n, 1<<20))}
	buf := make([]byte, 1<<16-(1<<16)%width)
	for len(out.Data) < n {
		chunk := buf[:min(len(buf), (n-len(out.Data))*width)]
		if _, err := io.ReadFull(rd, chunk); err != nil {
			return nil, fmt.Errorf("truncated after %d of %d elements", len(out.Data), n)
		}
		for k := 0; k < len(chunk); k += width {
			out.Data = append(out.Data, decode(chunk[k:k+width]))
		}
	}
	return out, nil
}

// WriteNPZ writes the arrays to an NPZ file at path, atomically: the data go
// to a temporary file in the same directory that is renamed over path only
// once complete.
func WriteNPZ(path string, arrays ...NamedArray) error {
	return WriteAtomic(path, func(f *os.File) error {
		w := npz.NewWriter(f)
		for _, a := range arrays {
			v, err := nested(a)
			if err != nil {
				return err
			}
			// numpy.savez's convention: one NAME.npy entry per array.
			if err := w.Write(a.Name+".npy", v); err != nil {
				return err
			}
		}
		return w.Close()
	})
}

// nested returns a pointer to a view of the flat data as a fixed-size
// multi-dimensional Go array ([d0][d1]...T), the form from which npyio writes
// an N-dimensional array with its shape.
func nested(a NamedArray) (any, error) {
	rv := reflect.ValueOf(a.Data)
	if rv.Kind() != reflect.Slice {
		return nil, fmt.Errorf("npz: array %q: data must be a slice, got %T", a.Name, a.Data)
	}
	if len(a.Shape) == 0 || rv.Len() != shapeSize(a.Shape) {
		return nil, fmt.Errorf("npz: array %q: %d elements do not fill shape %v", a.Name, rv.Len(), a.Shape)
	}
	if rv.Len() == 0 {
		return a.Data, nil
	}
	t := rv.Type().Elem()
	for i := len(a.Shape) - 1; i >= 0; i-- {
		t = reflect.ArrayOf(a.Shape[i], t)
	}
	return reflect.NewAt(t, rv.Index(0).Addr().UnsafePointer()).Interface(), nil
}

// maxNPYHeader is numpy's default max_header_size (numpy.lib.format): numpy
// refuses longer .npy headers unless its caller raises the limit.
const maxNPYHeader = 10000

// parseNPYShape reads the shape of an .npy header, a Python dict literal
// such as {'descr': '<f4', 'fortran_order': False, 'shape': (5, 5), },
// strictly: one pair of braces, balanced parentheses, and a shape tuple of
// non-negative integers. (npyio alone read "(5, 5 }" as shape [5].)
func parseNPYShape(header string) ([]int, error) {
	h := strings.TrimSpace(header)
	bad := func(why string) ([]int, error) { return nil, fmt.Errorf("malformed header %.80q: %s", h, why) }
	if !strings.HasPrefix(h, "{") || !strings.HasSuffix(h, "}") || strings.Count(h, "{") != 1 || strings.Count(h, "}") != 1 {
		return bad("not one dict")
	}
	if strings.Count(h, "(") != 1 || strings.Count(h, ")") != 1 {
		return bad("the shape tuple is not closed")
	}
	_, rest, ok := strings.Cut(h, "'shape':")
	if !ok {
		return bad("no shape")
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "(") {
		return bad("the shape is not a tuple")
	}
	inner, _, ok := strings.Cut(rest[1:], ")")
	if !ok {
		return bad("the shape tuple is not closed")
	}
	var shape []int
	parts := strings.Split(inner, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" && i == len(parts)-1 && i > 0 {
			break // the trailing comma of (5,) or (5, 5,)
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			if p == "" && len(parts) == 1 {
				break // () is a scalar's shape
			}
			return bad(fmt.Sprintf("shape entry %q", p))
		}
		shape = append(shape, n)
	}
	return shape, nil
}

// maxElements bounds the arrays degen reads (2^34 elements, 64 GiB of
// float32), so a corrupted header cannot make it allocate without limit.
const maxElements = 1 << 34

// checkedSize returns the number of elements of shape, and false if a
// dimension is negative or the product exceeds limit.
func checkedSize(shape []int, limit int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > limit/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// WriteAtomic creates path through a temporary file in the same directory:
// write fills it, and it is synced and renamed over path only if write and
// the close succeed, so a reader never sees a half-written file.
func WriteAtomic(path string, write func(f *os.File) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close() // a no-op error once closed
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	return nil
}

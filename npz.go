package degen

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"

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

// fullReader turns every Read into io.ReadFull, so a reader that reads a few
// bytes at a time never sees a short read in the middle of an element.
type fullReader struct{ r io.Reader }

func (f fullReader) Read(p []byte) (int, error) { return io.ReadFull(f.r, p) }

// NamedArray is one array to write: Data is a flat row-major []float64,
// []float32, []int32 or []int64 whose length matches Shape.
type NamedArray struct {
	Name  string
	Shape []int
	Data  any
}

// ReadNPZArray reads the array name from the NPZ file at path. Float and
// integer arrays of any width are converted to float64.
func ReadNPZArray(path, name string) (*Array, error) {
	r, err := npz.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	return readNPZArray(r, path, name)
}

// NPZKeys lists the array names in the NPZ file at path.
func NPZKeys(path string) ([]string, error) {
	r, err := npz.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	return append([]string(nil), r.Keys()...), nil
}

func readNPZArray(r *npz.Reader, path, name string) (out *Array, err error) {
	// npyio panics on some malformed headers (found by FuzzReadNPZ): a
	// corrupted file must be an error, never a crash.
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%s: array %q is corrupted (%v)", path, name, p)
		}
	}()
	dataBytes := entrySize(path, name)
	if dataBytes < 0 {
		if !slices.Contains(r.Keys(), name) {
			return nil, fmt.Errorf("%s: no array %q (it has %v)", path, name, r.Keys())
		}
		return nil, fmt.Errorf("%s: array %q is corrupted (bad .npy header)", path, name)
	}
	hdr := r.Header(name)
	if hdr == nil {
		return nil, fmt.Errorf("%s: no array %q (it has %v)", path, name, r.Keys())
	}
	if hdr.Descr.Fortran {
		return nil, fmt.Errorf("%s: array %q is stored in Fortran order; save it with numpy.ascontiguousarray", path, name)
	}
	shape := append([]int(nil), hdr.Descr.Shape...)
	n, ok := checkedSize(shape, maxElements)
	if npy.TypeFrom(hdr.Descr.Type) == nil {
		return nil, fmt.Errorf("%s: array %q has unsupported dtype %q", path, name, hdr.Descr.Type)
	}
	if ok {
		// The entry must hold the data its header promises; npyio would
		// otherwise loop over missing elements of a truncated entry.
		ok = int64(n)*int64(npy.TypeFrom(hdr.Descr.Type).Size()) <= dataBytes
	}
	if !ok {
		return nil, fmt.Errorf("%s: array %q has an impossible shape %v (corrupted file?)", path, name, shape)
	}
	out = &Array{Name: name, Shape: shape, Data: make([]float64, n)}
	readInto := func(ptr any, convert func(i int)) error {
		// npyio v0.6.0 reads arrays element by element with single Read
		// calls, which a deflate stream may answer short (every ~32 KB):
		// the data would shift. fullReader makes every read complete.
		rc, err := r.Open(name)
		if err != nil {
			return fmt.Errorf("%s: array %q: %w", path, name, err)
		}
		defer rc.Close()
		nr, err := npy.NewReader(fullReader{bufio.NewReaderSize(rc, 1<<16)})
		if err == nil {
			err = nr.Read(ptr)
		}
		if err != nil {
			return fmt.Errorf("%s: array %q: %w", path, name, err)
		}
		if reflect.ValueOf(ptr).Elem().Len() != n {
			return fmt.Errorf("%s: array %q is truncated", path, name)
		}
		for i := 0; i < n; i++ {
			convert(i)
		}
		return nil
	}
	switch npy.TypeFrom(hdr.Descr.Type) {
	case reflect.TypeOf(float32(0)):
		v := make([]float32, n)
		err = readInto(&v, func(i int) { out.Data[i] = float64(v[i]) })
	case reflect.TypeOf(float64(0)):
		v := make([]float64, n)
		err = readInto(&v, func(i int) { out.Data[i] = v[i] })
	case reflect.TypeOf(int32(0)):
		v := make([]int32, n)
		err = readInto(&v, func(i int) { out.Data[i] = float64(v[i]) })
	case reflect.TypeOf(int64(0)):
		v := make([]int64, n)
		err = readInto(&v, func(i int) { out.Data[i] = float64(v[i]) })
	case reflect.TypeOf(false):
		v := make([]bool, n)
		err = readInto(&v, func(i int) {
			if v[i] {
				out.Data[i] = 1
			}
		})
	default:
		return nil, fmt.Errorf("%s: array %q has unsupported dtype %s (want float32, float64, int32, int64 or bool)", path, name, hdr.Descr.Type)
	}
	if err != nil {
		return nil, err
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
			if err := w.Write(a.Name, v); err != nil {
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

// entrySize checks the fixed prefix of the .npy entry holding name (magic,
// version, header length) against the entry's size and returns that size,
// or -1 when the entry is missing or its header cannot fit. npyio trusts the
// header length (up to 4 GiB), so a corrupted one must be caught first.
func entrySize(path, name string) int64 {
	z, err := zip.OpenReader(path)
	if err != nil {
		return -1
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != name+".npy" && f.Name != name {
			continue
		}
		// Deflate expands at most about 1032:1, so a larger claimed size is
		// a corrupted header, whatever it says.
		size := min(int64(f.UncompressedSize64), 1100*int64(f.CompressedSize64)+4096)
		rc, err := f.Open()
		if err != nil {
			return -1
		}
		defer rc.Close()
		var prefix [12]byte
		if _, err := io.ReadFull(rc, prefix[:]); err != nil || string(prefix[1:6]) != "NUMPY" {
			return -1
		}
		var headerLen int64
		switch prefix[6] {
		case 1:
			headerLen = 10 + int64(binary.LittleEndian.Uint16(prefix[8:10]))
		case 2, 3:
			headerLen = 12 + int64(binary.LittleEndian.Uint32(prefix[8:12]))
		default:
			return -1
		}
		if headerLen > size {
			return -1
		}
		return size - headerLen
	}
	return -1
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
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

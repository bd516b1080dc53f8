//go:build cuda

package cuda

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>

static CUresult degenFuncSetMaxDynamicShared(void* fn, int bytes) {
	return cuFuncSetAttribute((CUfunction)fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
}

static CUresult degenDeviceAttr(int* v, int attr, int dev) {
	return cuDeviceGetAttribute(v, (CUdevice_attribute)attr, (CUdevice)dev);
}

static const char* degenErrorName(CUresult r) {
	const char* s = 0;
	if (cuGetErrorName(r, &s) != CUDA_SUCCESS || s == 0) return "unknown CUDA error";
	return s;
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	_ "degen/cuda/driverinit" // must initialise before gorgonia.org/cu: see its doc
	"degen/kernels"

	"gorgonia.org/cu"
)

// driverString formats cuDriverGetVersion's 1000*major + 10*minor.
func driverString() string {
	v := cu.Version()
	if v < 0 {
		return "unknown"
	}
	return fmt.Sprintf("CUDA %d.%d", v/1000, (v%1000)/10)
}

func attr(dev cu.Device, a C.int) (int, error) {
	var v C.int
	if r := C.degenDeviceAttr(&v, a, C.int(dev)); r != C.CUDA_SUCCESS {
		return 0, fmt.Errorf("cuDeviceGetAttribute(%d): %s", int(a), C.GoString(C.degenErrorName(r)))
	}
	return int(v), nil
}

// Devices lists the GPUs the driver sees.
func Devices() ([]DeviceInfo, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	var out []DeviceInfo
	for i := 0; i < n; i++ {
		dev, err := cu.GetDevice(i)
		if err != nil {
			return nil, fmt.Errorf("cuda: device %d: %w", i, err)
		}
		info := DeviceInfo{Ordinal: i, Driver: driverString()}
		if info.Name, err = dev.Name(); err != nil {
			return nil, fmt.Errorf("cuda: device %d name: %w", i, err)
		}
		if info.TotalBytes, err = dev.TotalMem(); err != nil {
			return nil, fmt.Errorf("cuda: device %d memory: %w", i, err)
		}
		if info.Major, err = attr(dev, C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR); err != nil {
			return nil, fmt.Errorf("cuda: device %d: %w", i, err)
		}
		if info.Minor, err = attr(dev, C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR); err != nil {
			return nil, fmt.Errorf("cuda: device %d: %w", i, err)
		}
		info.Capability = fmt.Sprintf("%d.%d", info.Major, info.Minor)
		if info.SMs, err = attr(dev, C.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT); err != nil {
			return nil, fmt.Errorf("cuda: device %d: %w", i, err)
		}
		optin, err := attr(dev, C.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN)
		if err != nil {
			return nil, fmt.Errorf("cuda: device %d: %w", i, err)
		}
		info.SharedOptinKB = optin / 1024
		khz, err := attr(dev, C.CU_DEVICE_ATTRIBUTE_CLOCK_RATE)
		if err != nil {
			return nil, fmt.Errorf("cuda: device %d: %w", i, err)
		}
		info.ClockMHz = khz / 1000
		if ctx, err := Open(i); err == nil {
			_ = ctx.Do(func() error {
				free, _, err := cu.MemInfo()
				info.FreeBytes = free
				return err
			})
			ctx.Close()
		}
		out = append(out, info)
	}
	return out, nil
}

// Context is the primary context of one device.
type Context struct {
	Device      cu.Device
	Info        DeviceInfo
	SharedOptin int // bytes of shared memory a block may opt in to
	ctx         cu.CUContext
	closed      bool
}

// Open retains the primary context of device ordinal.
func Open(ordinal int) (*Context, error) {
	n, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("cuda: counting devices: %w", err)
	}
	if n == 0 {
		return nil, fmt.Errorf("cuda: the driver sees no GPU")
	}
	if ordinal < 0 || ordinal >= n {
		return nil, fmt.Errorf("cuda: device %d does not exist (%d devices)", ordinal, n)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	c := &Context{Device: dev}
	if c.ctx, err = dev.RetainPrimaryCtx(); err != nil {
		return nil, fmt.Errorf("cuda: retaining the primary context of device %d: %w", ordinal, err)
	}
	c.Info.Ordinal = ordinal
	c.Info.Name, _ = dev.Name()
	c.Info.TotalBytes, _ = dev.TotalMem()
	c.Info.Driver = driverString()
	if c.SharedOptin, err = attr(dev, C.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN); err != nil {
		c.Close()
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	c.Info.SharedOptinKB = c.SharedOptin / 1024
	if c.Info.SMs, err = attr(dev, C.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT); err != nil {
		c.Close()
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	if c.Info.Major, err = attr(dev, C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR); err == nil {
		c.Info.Minor, err = attr(dev, C.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("cuda: device %d: %w", ordinal, err)
	}
	c.Info.Capability = fmt.Sprintf("%d.%d", c.Info.Major, c.Info.Minor)
	return c, nil
}

// Do runs f with the context current on the calling goroutine's OS thread,
// locked for the duration.
func (c *Context) Do(f func() error) error {
	if c.closed {
		return fmt.Errorf("cuda: context of device %d is closed", c.Info.Ordinal)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cu.SetCurrentContext(c.ctx); err != nil {
		return fmt.Errorf("cuda: making the context of device %d current: %w", c.Info.Ordinal, err)
	}
	return f()
}

// MemInfo returns the free and total device memory in bytes (inside Do).
func (c *Context) MemInfo() (free, total int64, err error) {
	free, total, err = cu.MemInfo()
	if err != nil {
		return 0, 0, fmt.Errorf("cuda: querying device memory: %w", err)
	}
	return free, total, nil
}

// Synchronize waits for all work of the context (inside Do); what names
// the work for the error message, e.g. the launches since the last sync.
func (c *Context) Synchronize(what string) error {
	if err := cu.Synchronize(); err != nil {
		return fmt.Errorf("cuda: error in %s: %w", what, err)
	}
	return nil
}

// Close releases the primary context. Buffers must be freed first.
func (c *Context) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.Device.ReleasePrimaryCtx(); err != nil {
		return fmt.Errorf("cuda: releasing the context of device %d: %w", c.Info.Ordinal, err)
	}
	return nil
}

// Module is a loaded PTX module.
type Module struct {
	mod cu.Module
}

// LoadModule JIT-compiles and loads PTX text (inside Do).
func LoadModule(ptx string) (*Module, error) {
	m, err := cu.LoadData(ptx)
	if err != nil {
		return nil, fmt.Errorf("cuda: loading PTX module: %w", err)
	}
	return &Module{mod: m}, nil
}

// Unload unloads the module (inside Do).
func (m *Module) Unload() error {
	if err := m.mod.Unload(); err != nil {
		return fmt.Errorf("cuda: unloading module: %w", err)
	}
	return nil
}

// Kernel is one function of a module with its parameter list.
type Kernel struct {
	Name   string
	fn     cu.Function
	params []kernels.Param
}

// Kernel looks up name in the module; its parameter list comes from
// kernels.Signatures or kernels.HopperSignatures (inside Do).
func (m *Module) Kernel(name string) (*Kernel, error) {
	sig, ok := kernels.Signatures[name]
	if !ok {
		sig, ok = kernels.HopperSignatures[name]
	}
	if !ok {
		return nil, fmt.Errorf("cuda: kernel %s has no entry in kernels.Signatures", name)
	}
	fn, err := m.mod.Function(name)
	if err != nil {
		return nil, fmt.Errorf("cuda: kernel %s not in module: %w", name, err)
	}
	return &Kernel{Name: name, fn: fn, params: sig}, nil
}

// SetMaxDynamicShared allows the kernel up to bytes of dynamic shared memory
// (cuFuncSetAttribute, which gorgonia.org/cu v0.9.6 does not wrap; inside Do).
func (k *Kernel) SetMaxDynamicShared(bytes int) error {
	// cu.Function holds one field, the CUfunction handle.
	h := *(*unsafe.Pointer)(unsafe.Pointer(&k.fn))
	if r := C.degenFuncSetMaxDynamicShared(h, C.int(bytes)); r != C.CUDA_SUCCESS {
		return fmt.Errorf("cuda: kernel %s: allowing %d bytes of shared memory: %s", k.Name, bytes, C.GoString(C.degenErrorName(r)))
	}
	return nil
}

// Launch enqueues the kernel on the default stream (inside Do). Each argument
// must match the kernel's parameter type exactly (see packArgs).
func (k *Kernel) Launch(sh Shape, args ...any) error {
	slots, err := packArgs(k.Name, k.params, sh, args)
	if err != nil {
		return err
	}
	// Function.Launch reads 8 bytes behind every parameter pointer.
	ptrs := make([]unsafe.Pointer, len(slots))
	for i := range slots {
		ptrs[i] = unsafe.Pointer(&slots[i])
	}
	if sh.Grid[1] == 0 {
		sh.Grid[1] = 1
	}
	if err := k.fn.Launch(sh.Grid[0], sh.Grid[1], 1, sh.Block, 1, 1, sh.Shared, cu.NoStream, ptrs); err != nil {
		return fmt.Errorf("cuda: launch %s %v: %w", k.Name, sh, err)
	}
	return nil
}

// Buffer is device memory holding N elements of 4 bytes (float32 or int32).
type Buffer struct {
	Ptr cu.DevicePtr
	N   int
}

func (b *Buffer) address() uint64 { return uint64(b.Ptr) }

// Alloc allocates n 4-byte elements (inside Do).
func Alloc(n int) (*Buffer, error) {
	if n <= 0 {
		n = 1
	}
	p, err := cu.MemAlloc(int64(n) * 4)
	if err != nil {
		return nil, fmt.Errorf("cuda: allocating %d bytes: %w", int64(n)*4, err)
	}
	return &Buffer{Ptr: p, N: n}, nil
}

// Free releases the buffer (inside Do); a nil buffer is a no-op.
func (b *Buffer) Free() error {
	if b == nil || b.Ptr == 0 {
		return nil
	}
	err := cu.MemFree(b.Ptr)
	b.Ptr = 0
	if err != nil {
		return fmt.Errorf("cuda: freeing device memory: %w", err)
	}
	return nil
}

// Upload copies src to the start of the buffer (inside Do).
func (b *Buffer) Upload(src []float32) error {
	if len(src) == 0 {
		return nil
	}
	if err := b.check(len(src), "upload"); err != nil {
		return err
	}
	if err := cu.MemcpyHtoD(b.Ptr, unsafe.Pointer(&src[0]), int64(len(src))*4); err != nil {
		return fmt.Errorf("cuda: uploading %d floats: %w", len(src), err)
	}
	return nil
}

// UploadInt32 copies src to the start of the buffer (inside Do).
func (b *Buffer) UploadInt32(src []int32) error {
	if len(src) == 0 {
		return nil
	}
	if err := b.check(len(src), "upload"); err != nil {
		return err
	}
	if err := cu.MemcpyHtoD(b.Ptr, unsafe.Pointer(&src[0]), int64(len(src))*4); err != nil {
		return fmt.Errorf("cuda: uploading %d ints: %w", len(src), err)
	}
	return nil
}

// UploadUint64 copies src to the start of the buffer as 64-bit words (for
// the kernels' unsigned long long and double arrays: math.Float64bits for
// doubles), two 4-byte elements per word, so the buffer needs 2*len(src)
// elements and an 8-byte aligned start (Alloc's buffers, views at even
// offsets) (inside Do).
func (b *Buffer) UploadUint64(src []uint64) error {
	if len(src) == 0 {
		return nil
	}
	if err := b.checkWords(len(src)); err != nil {
		return err
	}
	if err := cu.MemcpyHtoD(b.Ptr, unsafe.Pointer(&src[0]), int64(len(src))*8); err != nil {
		return fmt.Errorf("cuda: uploading %d 64-bit words: %w", len(src), err)
	}
	return nil
}

// Download copies the first len(dst) elements into dst (inside Do).
func (b *Buffer) Download(dst []float32) error {
	if len(dst) == 0 {
		return nil
	}
	if err := b.check(len(dst), "download"); err != nil {
		return err
	}
	if err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), b.Ptr, int64(len(dst))*4); err != nil {
		return fmt.Errorf("cuda: downloading %d floats: %w", len(dst), err)
	}
	return nil
}

// DownloadInt32 copies the first len(dst) elements into dst (inside Do).
func (b *Buffer) DownloadInt32(dst []int32) error {
	if len(dst) == 0 {
		return nil
	}
	if err := b.check(len(dst), "download"); err != nil {
		return err
	}
	if err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), b.Ptr, int64(len(dst))*4); err != nil {
		return fmt.Errorf("cuda: downloading %d ints: %w", len(dst), err)
	}
	return nil
}

// Zero sets the first n elements to 0 (inside Do).
func (b *Buffer) Zero(n int) error {
	if err := b.check(n, "zero"); err != nil {
		return err
	}
	if err := cu.MemsetD32(b.Ptr, 0, int64(n)); err != nil {
		return fmt.Errorf("cuda: zeroing %d elements: %w", n, err)
	}
	return nil
}

// Timer measures device time between two points on the default stream.
type Timer struct {
	start, stop cu.Event
}

// NewTimer creates the two events (inside Do).
func NewTimer() (*Timer, error) {
	a, err := cu.MakeEvent(cu.DefaultEvent)
	if err != nil {
		return nil, fmt.Errorf("cuda: creating event: %w", err)
	}
	b, err := cu.MakeEvent(cu.DefaultEvent)
	if err != nil {
		cu.DestroyEvent(&a)
		return nil, fmt.Errorf("cuda: creating event: %w", err)
	}
	return &Timer{start: a, stop: b}, nil
}

// Start records the start event (inside Do).
func (t *Timer) Start() error { return t.start.Record(cu.NoStream) }

// Stop records the stop event, waits for it and returns the elapsed
// milliseconds (inside Do).
func (t *Timer) Stop() (float64, error) {
	if err := t.stop.Record(cu.NoStream); err != nil {
		return 0, fmt.Errorf("cuda: recording event: %w", err)
	}
	if err := t.stop.Synchronize(); err != nil {
		return 0, fmt.Errorf("cuda: waiting for event: %w", err)
	}
	ms, err := t.start.Elapsed(t.stop)
	if err != nil {
		return 0, fmt.Errorf("cuda: reading event time: %w", err)
	}
	return ms, nil
}

// Close destroys the events (inside Do).
func (t *Timer) Close() {
	cu.DestroyEvent(&t.start)
	cu.DestroyEvent(&t.stop)
}

// View returns the elements [i, i+n) of b as a buffer that shares b's
// memory; it must not be freed.
func (b *Buffer) View(i, n int) (*Buffer, error) {
	if i < 0 || n < 0 || i+n > b.N {
		return nil, fmt.Errorf("cuda: view [%d, %d) of a buffer of %d", i, i+n, b.N)
	}
	return &Buffer{Ptr: b.Ptr + cu.DevicePtr(4*i), N: n}, nil
}

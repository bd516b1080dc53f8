//go:build cudaemu && !cuda

package cuda

/*
#cgo CXXFLAGS: -std=c++17 -O2 -fno-strict-aliasing -I${SRCDIR}/../kernels
#include <stdlib.h>
const char* emuKernelSignature(const char* name);
const char* emuLaunch(const char* name, int gx, int gy, int block, int sharedBytes, void** args);
*/
import "C"

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"degen/kernels"
)

// This file is the CPU emulator build of the package (`-tags cudaemu`): the
// same API as cuda.go, with device memory in host memory and every launch
// run on the CPU by cuda/emu.cc from the same kernel sources nvcc compiles.
// It exists so that the GPU backend (package gpu), its kernels and their
// launch code are tested on machines without a GPU, CI's included; it says
// nothing about speed.

// The emulated device: an H100's limits that the launch code reads.
const (
	emuName        = "CPU emulator of the CUDA kernels (cudaemu)"
	emuMemory      = 8 << 30 // bytes the emulated device offers
	emuSharedOptin = 232448  // bytes of shared memory a block may opt in to (H100)
	emuSharedLimit = 48 << 10
	emuSMs         = 132
)

var (
	emuMu   sync.Mutex // one launch at a time: the emulator's state is global
	emuUsed int64      // bytes allocated
)

// FaultEnv names the environment variable that injects a GPU fault for
// tests: "KERNEL:N" makes the Nth launch of KERNEL (counted from Open) fault
// as a kernel that reads an illegal address does on a GPU: the launch itself
// returns, the next Synchronize reports CUDA_ERROR_ILLEGAL_ADDRESS, and the
// context stays unusable (every later call fails), as after a sticky error.
const FaultEnv = "DEGEN_EMU_FAULT"

// emuFault is the injected fault and the sticky error once it has happened.
var emuFault struct {
	kernel   string
	at, seen int
	sticky   string
}

// parseFault reads FaultEnv (at Open).
func parseFault() error {
	emuFault.kernel, emuFault.at, emuFault.seen, emuFault.sticky = "", 0, 0, ""
	v := os.Getenv(FaultEnv)
	if v == "" {
		return nil
	}
	name, n, ok := strings.Cut(v, ":")
	at, err := strconv.Atoi(n)
	if !ok || err != nil || at < 1 {
		return fmt.Errorf("cuda: %s=%q: want KERNEL:N with N >= 1", FaultEnv, v)
	}
	emuFault.kernel, emuFault.at = name, at
	return nil
}

// stickyErr returns the error every call returns after a fault, or nil.
func stickyErr(what string) error {
	if emuFault.sticky == "" {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s", what, emuFault.sticky)
}

// Devices lists the one emulated device.
func Devices() ([]DeviceInfo, error) {
	emuMu.Lock()
	free := emuMemory - emuUsed
	emuMu.Unlock()
	return []DeviceInfo{emuInfo(free)}, nil
}

func emuInfo(free int64) DeviceInfo {
	return DeviceInfo{Name: emuName, TotalBytes: emuMemory, FreeBytes: free, Major: 9, Capability: "9.0",
		SMs: emuSMs, SharedOptinKB: emuSharedOptin / 1024, Driver: "emulator"}
}

// Context is the emulated device's context.
type Context struct {
	Info        DeviceInfo
	SharedOptin int
	closed      bool
}

// Open returns the context of the emulated device (ordinal 0).
func Open(ordinal int) (*Context, error) {
	if ordinal != 0 {
		return nil, fmt.Errorf("cuda: device %d does not exist (1 devices)", ordinal)
	}
	if err := parseFault(); err != nil {
		return nil, err
	}
	return &Context{Info: emuInfo(0), SharedOptin: emuSharedOptin}, nil
}

// Do runs f.
func (c *Context) Do(f func() error) error {
	if c.closed {
		return fmt.Errorf("cuda: context of device %d is closed", c.Info.Ordinal)
	}
	return f()
}

// MemInfo returns the emulated device's free and total memory.
func (c *Context) MemInfo() (free, total int64, err error) {
	emuMu.Lock()
	defer emuMu.Unlock()
	return emuMemory - emuUsed, emuMemory, nil
}

// Synchronize reports an injected fault (FaultEnv); emulated launches
// otherwise finish before they return.
func (c *Context) Synchronize(what string) error {
	if emuFault.sticky != "" {
		return fmt.Errorf("cuda: error in %s: %s", what, emuFault.sticky)
	}
	return nil
}

// Close closes the context.
func (c *Context) Close() error {
	c.closed = true
	return nil
}

// Module stands for the PTX module; the emulator runs its compiled-in kernels.
type Module struct {
	hopper bool // kernels.HopperPTX: its kernels are HopperSignatures'
}

// LoadModule accepts the embedded PTX, kernels.PTX or kernels.HopperPTX
// (the emulator was compiled from the same sources).
func LoadModule(ptx string) (*Module, error) {
	if ptx == kernels.HopperPTX {
		return &Module{hopper: true}, nil
	}
	if ptx != kernels.PTX {
		return nil, fmt.Errorf("cuda: the emulator runs only the embedded kernels")
	}
	return &Module{}, nil
}

// Unload does nothing.
func (m *Module) Unload() error { return nil }

// Kernel is one emulated kernel with its parameter list.
type Kernel struct {
	Name      string
	params    []kernels.Param
	maxShared int
}

// Kernel looks name up in kernels.Signatures and in the emulator.
func (m *Module) Kernel(name string) (*Kernel, error) {
	sigs := kernels.Signatures
	if m.hopper {
		sigs = kernels.HopperSignatures
	}
	sig, ok := sigs[name]
	if !ok {
		return nil, fmt.Errorf("cuda: kernel %s not in module: it has no entry in the module's signatures (kernels.Signatures, or kernels.HopperSignatures for kernels.HopperPTX)", name)
	}
	if EmuSignature(name) == "" {
		return nil, fmt.Errorf("cuda: kernel %s not in module: the emulator does not list it (cuda/emu_launch.h)", name)
	}
	return &Kernel{Name: name, params: sig, maxShared: emuSharedLimit}, nil
}

// EmuSignature returns the emulator's parameter letters of kernel name (P
// pointer, I int, F float), read from the kernel's C++ declaration, or "".
func EmuSignature(name string) string {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	s := C.emuKernelSignature(cs)
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// SetMaxDynamicShared allows the kernel up to bytes of dynamic shared memory,
// within the opt-in limit, as the driver does.
func (k *Kernel) SetMaxDynamicShared(bytes int) error {
	if bytes < 0 || bytes > emuSharedOptin {
		return fmt.Errorf("cuda: kernel %s: allowing %d bytes of shared memory: CUDA_ERROR_INVALID_VALUE", k.Name, bytes)
	}
	k.maxShared = max(bytes, emuSharedLimit)
	return nil
}

// Launch runs the kernel on the CPU; it returns when the kernel is done.
// Arguments are checked as by the CUDA build (packArgs); a launch that asks
// for more shared memory than allowed fails as it does on a GPU.
func (k *Kernel) Launch(sh Shape, args ...any) error {
	slots, err := packArgs(k.Name, k.params, sh, args)
	if err != nil {
		return err
	}
	if sh.Grid[1] == 0 {
		sh.Grid[1] = 1
	}
	if err := stickyErr(fmt.Sprintf("launch %s %v", k.Name, sh)); err != nil {
		return err
	}
	if k.Name == emuFault.kernel {
		if emuFault.seen++; emuFault.seen == emuFault.at {
			emuFault.sticky = fmt.Sprintf("CUDA_ERROR_ILLEGAL_ADDRESS (injected by %s=%s:%d)", FaultEnv, emuFault.kernel, emuFault.at)
			return nil
		}
	}
	if sh.Shared > k.maxShared {
		return fmt.Errorf("cuda: launch %s %v: %d bytes of shared memory, the kernel is allowed %d: CUDA_ERROR_INVALID_VALUE", k.Name, sh, sh.Shared, k.maxShared)
	}
	n := max(len(slots), 1)
	cslots := (*[1 << 20]uint64)(C.malloc(C.size_t(8 * n)))[:n:n]
	ptrs := (*[1 << 20]unsafe.Pointer)(C.malloc(C.size_t(8 * n)))[:n:n]
	defer C.free(unsafe.Pointer(&cslots[0]))
	defer C.free(unsafe.Pointer(&ptrs[0]))
	for i := range slots {
		cslots[i] = slots[i]
		ptrs[i] = unsafe.Pointer(&cslots[i])
	}
	name := C.CString(k.Name)
	defer C.free(unsafe.Pointer(name))
	emuMu.Lock()
	msg := C.emuLaunch(name, C.int(sh.Grid[0]), C.int(sh.Grid[1]), C.int(sh.Block), C.int(sh.Shared), &ptrs[0])
	emuMu.Unlock()
	if msg != nil {
		return fmt.Errorf("cuda: launch %s %v: %s", k.Name, sh, C.GoString(msg))
	}
	return nil
}

// Buffer is emulated device memory (host memory from C) holding N elements
// of 4 bytes.
type Buffer struct {
	ptr  unsafe.Pointer
	N    int
	view bool
}

func (b *Buffer) address() uint64 { return uint64(uintptr(b.ptr)) }

// floats returns the buffer's first n elements as a Go slice over C memory.
func (b *Buffer) floats(n int) []float32 { return unsafe.Slice((*float32)(b.ptr), n) }

// Alloc allocates n 4-byte elements, filled with NaN bits (device memory is
// not zeroed either).
func Alloc(n int) (*Buffer, error) {
	if n <= 0 {
		n = 1
	}
	bytes := int64(n) * 4
	emuMu.Lock()
	defer emuMu.Unlock()
	if emuUsed+bytes > emuMemory {
		return nil, fmt.Errorf("cuda: allocating %d bytes: CUDA_ERROR_OUT_OF_MEMORY", bytes)
	}
	// Exactly the bytes asked for (no rounding up), so that `go test -asan`
	// reports a kernel that reads or writes one element past a buffer.
	var p unsafe.Pointer
	if C.posix_memalign(&p, 256, C.size_t(bytes)) != 0 {
		return nil, fmt.Errorf("cuda: allocating %d bytes: host out of memory", bytes)
	}
	emuUsed += bytes
	b := &Buffer{ptr: p, N: n}
	nan := float32(math.NaN())
	f := b.floats(n)
	for i := range f {
		f[i] = nan
	}
	return b, nil
}

// Free releases the buffer; a nil buffer is a no-op.
func (b *Buffer) Free() error {
	if b == nil || b.ptr == nil || b.view {
		return nil
	}
	emuMu.Lock()
	emuUsed -= int64(b.N) * 4
	emuMu.Unlock()
	C.free(b.ptr)
	b.ptr = nil
	return nil
}

// Upload copies src to the start of the buffer.
func (b *Buffer) Upload(src []float32) error {
	if err := stickyErr(fmt.Sprintf("uploading %d floats", len(src))); err != nil {
		return err
	}
	if err := b.check(len(src), "upload"); err != nil {
		return err
	}
	copy(b.floats(len(src)), src)
	return nil
}

// UploadInt32 copies src to the start of the buffer.
func (b *Buffer) UploadInt32(src []int32) error {
	if err := stickyErr(fmt.Sprintf("uploading %d ints", len(src))); err != nil {
		return err
	}
	if err := b.check(len(src), "upload"); err != nil {
		return err
	}
	copy(unsafe.Slice((*int32)(b.ptr), len(src)), src)
	return nil
}

// UploadUint64 copies src to the start of the buffer as 64-bit words, two
// 4-byte elements per word (see the CUDA build).
func (b *Buffer) UploadUint64(src []uint64) error {
	if err := stickyErr(fmt.Sprintf("uploading %d words", len(src))); err != nil {
		return err
	}
	if err := b.checkWords(len(src)); err != nil {
		return err
	}
	copy(unsafe.Slice((*uint64)(b.ptr), len(src)), src)
	return nil
}

// Download copies the first len(dst) elements into dst.
func (b *Buffer) Download(dst []float32) error {
	if err := stickyErr(fmt.Sprintf("downloading %d floats", len(dst))); err != nil {
		return err
	}
	if err := b.check(len(dst), "download"); err != nil {
		return err
	}
	copy(dst, b.floats(len(dst)))
	return nil
}

// DownloadInt32 copies the first len(dst) elements into dst.
func (b *Buffer) DownloadInt32(dst []int32) error {
	if err := stickyErr(fmt.Sprintf("downloading %d ints", len(dst))); err != nil {
		return err
	}
	if err := b.check(len(dst), "download"); err != nil {
		return err
	}
	copy(dst, unsafe.Slice((*int32)(b.ptr), len(dst)))
	return nil
}

// Zero sets the first n elements to 0.
func (b *Buffer) Zero(n int) error {
	if err := b.check(n, "zero"); err != nil {
		return err
	}
	clear(b.floats(n))
	return nil
}

// View returns the elements [i, i+n) of b as a buffer that shares b's
// memory; it must not be freed (Free ignores it).
func (b *Buffer) View(i, n int) (*Buffer, error) {
	if i < 0 || n < 0 || i+n > b.N {
		return nil, fmt.Errorf("cuda: view [%d, %d) of a buffer of %d", i, i+n, b.N)
	}
	return &Buffer{ptr: unsafe.Add(b.ptr, 4*i), N: n, view: true}, nil
}

// Timer measures host time (emulated launches are synchronous).
type Timer struct {
	start time.Time
}

// NewTimer returns a timer.
func NewTimer() (*Timer, error) { return &Timer{}, nil }

// Start records the start.
func (t *Timer) Start() error {
	t.start = time.Now()
	return nil
}

// Stop returns the milliseconds since Start.
func (t *Timer) Stop() (float64, error) {
	return float64(time.Since(t.start).Microseconds()) / 1000, nil
}

// Close does nothing.
func (t *Timer) Close() {}

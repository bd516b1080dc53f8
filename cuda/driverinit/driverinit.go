//go:build cuda

// Package driverinit initialises the CUDA driver before gorgonia.org/cu does.
//
// cu's package init exits the process with its own message when cuInit
// fails (no GPU, no driver). Go initialises packages that do not depend on
// each other in import-path order, so this package, imported by package cuda
// beside cu, runs first ("degen/..." sorts before "gorgonia.org/...") and
// turns that failure into one clear line and exit status 1. cuInit may be
// called any number of times.
package driverinit

/*
#cgo LDFLAGS: -lcuda
#include <cuda.h>

static const char* degenInitErrorName(CUresult r) {
	const char* s = 0;
	if (cuGetErrorName(r, &s) != CUDA_SUCCESS || s == 0) return "unknown CUDA error";
	return s;
}
*/
import "C"

import (
	"fmt"
	"os"
)

func init() {
	if r := C.cuInit(0); r != C.CUDA_SUCCESS {
		fmt.Fprintf(os.Stderr, "degen: no usable NVIDIA GPU or driver (cuInit: %s); degen-cuda needs one: on this machine use the CPU build, degen\n",
			C.GoString(C.degenInitErrorName(r)))
		os.Exit(1)
	}
}

//go:build cudaemu && !cuda

package cuda

import (
	"strings"
	"testing"

	"degen/kernels"
)

// TestEmuSignatures checks that the emulator lists every kernel of
// kernels.Signatures, with the parameter types of its C++ declaration, and
// no other: a second check of Signatures, against the source instead of the
// PTX.
func TestEmuSignatures(t *testing.T) {
	letter := map[kernels.Param]byte{kernels.Ptr: 'P', kernels.I32: 'I', kernels.F32: 'F'}
	for _, sigs := range []map[string][]kernels.Param{kernels.Signatures, kernels.HopperSignatures} {
		for name, sig := range sigs {
			var want strings.Builder
			for _, p := range sig {
				want.WriteByte(letter[p])
			}
			if got := EmuSignature(name); got != want.String() {
				t.Errorf("kernel %s: emulator signature %q, kernels.Signatures %q", name, got, want.String())
			}
		}
	}
	if got := EmuSignature("no_such_kernel"); got != "" {
		t.Errorf("unknown kernel: signature %q, want none", got)
	}
}

// TestEmuSharedLimit checks that a launch over the kernel's shared-memory
// allowance fails, as on a GPU, until SetMaxDynamicShared raises it.
func TestEmuSharedLimit(t *testing.T) {
	mod, err := LoadModule(kernels.PTX)
	if err != nil {
		t.Fatal(err)
	}
	k, err := mod.Kernel("rnn_adam")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetMaxDynamicShared(emuSharedOptin + 1); err == nil {
		t.Error("SetMaxDynamicShared above the opt-in limit: no error")
	}
	buf, err := Alloc(16)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Free()
	args := []any{buf, buf, buf, buf, buf, buf, buf, buf, (*Buffer)(nil), (*Buffer)(nil),
		float32(0), int32(0), int32(1), int32(1), int32(1), int32(4), float32(0.9), float32(0.999), float32(1e-8)}
	err = k.Launch(Shape{Grid: [2]int{1, 1}, Block: 32, Shared: 64 << 10}, args...)
	if err == nil || !strings.Contains(err.Error(), "shared memory") {
		t.Errorf("64 KiB of shared memory without SetMaxDynamicShared: %v, want an error", err)
	}
}

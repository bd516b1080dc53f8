package kernels

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSignaturesMatchPTX checks every kernel's name and parameter types in
// the committed PTX against Signatures, which the cuda package checks every
// launch's Go arguments against.
func TestSignaturesMatchPTX(t *testing.T) {
	entries, err := ParsePTX(PTX)
	if err != nil {
		t.Fatal(err)
	}
	for name, sig := range Signatures {
		got, ok := entries[name]
		if !ok {
			t.Errorf("kernel %s is in Signatures but not in kernels.ptx", name)
			continue
		}
		want := make([]string, len(sig))
		for i, p := range sig {
			want[i] = p.String()
		}
		if !slices.Equal(got, want) {
			t.Errorf("kernel %s: PTX parameters %v, Signatures %v", name, got, want)
		}
	}
	for name := range entries {
		if _, ok := Signatures[name]; !ok {
			t.Errorf("kernel %s is in kernels.ptx but not in Signatures", name)
		}
	}
}

// TestHopperSignaturesMatchPTX checks HopperSignatures against hopper.ptx
// both ways, and that no kernel name is in both
// modules (cuda.Module.Kernel looks names up in both lists).
func TestHopperSignaturesMatchPTX(t *testing.T) {
	entries, err := ParsePTX(HopperPTX)
	if err != nil {
		t.Fatal(err)
	}
	for name, sig := range HopperSignatures {
		want := make([]string, len(sig))
		for i, p := range sig {
			want[i] = p.String()
		}
		if got, ok := entries[name]; !ok {
			t.Errorf("kernel %s is in HopperSignatures but not in hopper.ptx", name)
		} else if !slices.Equal(got, want) {
			t.Errorf("kernel %s: PTX parameters %v, HopperSignatures %v", name, got, want)
		}
		if _, ok := Signatures[name]; ok {
			t.Errorf("kernel %s is in both Signatures and HopperSignatures", name)
		}
	}
	for name := range entries {
		if _, ok := HopperSignatures[name]; !ok {
			t.Errorf("kernel %s is in hopper.ptx but not in HopperSignatures", name)
		}
	}
	if !strings.Contains(HopperPTX, "\n.target sm_90a\n") || !strings.Contains(HopperPTX, "\n.version 8.0\n") {
		t.Error("hopper.ptx does not say .version 8.0 and .target sm_90a (genptx.sh rewrites them)")
	}
}

// TestPTXHeader checks that the committed PTX says it is generated.
func TestPTXHeader(t *testing.T) {
	first, _, _ := strings.Cut(PTX, "\n")
	if !strings.Contains(first, "DO NOT EDIT") {
		t.Errorf("kernels.ptx first line %q lacks the DO NOT EDIT note", first)
	}
}

// TestParsePTX checks the parser on a hand-written snippet, including a
// mismatch that TestSignaturesMatchPTX must catch.
func TestParsePTX(t *testing.T) {
	const src = `
.visible .entry k_one(
	.param .u64 k_one_param_0,
	.param .u32 k_one_param_1,
	.param .f32 k_one_param_2
)
{ ret; }
.visible .entry k_two(
	.param .u64 k_two_param_0
)
{ ret; }
`
	got, err := ParsePTX(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want []string
	}{
		{"k_one", []string{".u64", ".u32", ".f32"}},
		{"k_two", []string{".u64"}},
	} {
		if !slices.Equal(got[c.name], c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got[c.name], c.want)
		}
	}
	if len(got) != 2 {
		t.Errorf("got %d entries, want 2", len(got))
	}
	if _, err := ParsePTX("no kernels here"); err == nil {
		t.Error("ParsePTX without .entry: want an error")
	}
}

// TestSignaturesInSources checks that every kernel of Signatures is declared
// `extern "C" __global__` in the embedded sources.
func TestSignaturesInSources(t *testing.T) {
	var all strings.Builder
	files, err := fs.Glob(Sources, "*.cu")
	if err != nil || len(files) == 0 {
		t.Fatalf("no .cu sources embedded: %v", err)
	}
	for _, f := range files {
		b, err := fs.ReadFile(Sources, f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	// Launch bounds written out or through a macro (R4_BOUNDS in rnn.cu).
	decl := regexp.MustCompile(`extern "C" __global__ void(?: __launch_bounds__\([^)]*\)| [A-Z][A-Z0-9_]*)?\s+([A-Za-z_][A-Za-z0-9_]*)\(`)
	declared := map[string]bool{}
	for _, m := range decl.FindAllStringSubmatch(all.String(), -1) {
		declared[m[1]] = true
	}
	for _, sigs := range []map[string][]Param{Signatures, HopperSignatures} {
		for name := range sigs {
			if !declared[name] {
				t.Errorf("kernel %s is in Signatures or HopperSignatures but not declared extern \"C\" __global__ in the sources", name)
			}
		}
	}
	for name := range declared {
		_, ok := Signatures[name]
		_, hopper := HopperSignatures[name]
		if !ok && !hopper {
			t.Errorf("kernel %s is declared in the sources but not in Signatures or HopperSignatures", name)
		}
	}
}

package gpu

import (
	"strings"
	"testing"

	"degen"
)

// h100Shared is the shared memory a block may opt in to on an H100 or H200.
const h100Shared = 227 * 1024

// TestPlan checks the launch plans of the benchmark workloads and of sizes
// around the tile boundaries: the chosen chunk fits in shared memory, the
// next larger one would not (unless the chunk is the whole batch), and the
// block has one thread per register tile, in whole warps per warp group.
func TestPlan(t *testing.T) {
	for _, c := range []struct {
		d       degen.Dims
		rate    bool
		groups  int
		bc, r   int
		threads int
	}{
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, false, 1, 128, 8, 256}, // W1
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, true, 1, 64, 8, 128},
		{degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}, false, 1, 64, 4, 256}, // W2
		{degen.Dims{S: 1, B: 3, T: 5, I: 2, H: 31, O: 3}, false, 1, 3, 4, 32},
		{degen.Dims{S: 3, B: 65, T: 3, I: 3, H: 129, O: 3}, false, 1, 65, 8, 160},
		{degen.Dims{S: 3, B: 200, T: 3, I: 3, H: 200, O: 3}, false, 1, 29, 4, 256},
		// Two warp groups: 128 threads per group for W1 and W2; a warp per
		// group at least (B=3: 16 trials, 32 tiles); trials padded to 16
		// per group of 8x8 tiles (B=65: 80 rows, 85 tiles per group).
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, false, 2, 128, 8, 256},
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, true, 2, 64, 8, 128},
		{degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}, false, 2, 64, 4, 256},
		{degen.Dims{S: 1, B: 3, T: 5, I: 2, H: 31, O: 3}, false, 2, 3, 4, 64},
		{degen.Dims{S: 3, B: 65, T: 3, I: 3, H: 129, O: 3}, false, 2, 65, 8, 192},
		{degen.Dims{S: 3, B: 200, T: 3, I: 3, H: 200, O: 3}, false, 2, 29, 4, 256},
	} {
		bc, err := planChunk(c.d, c.rate, h100Shared, c.groups)
		if err != nil {
			t.Fatalf("%+v: %v", c.d, err)
		}
		fwd, bwd := sharedFloats(c.d, c.rate, bc, c.groups)
		if 4*max(fwd, bwd) > h100Shared {
			t.Errorf("%+v: chunk %d needs %d bytes", c.d, bc, 4*max(fwd, bwd))
		}
		if chunks := (c.d.B + bc - 1) / bc; chunks > 1 {
			// One chunk fewer would not fit.
			f2, b2 := sharedFloats(c.d, c.rate, (c.d.B+chunks-2)/(chunks-1), c.groups)
			if 4*max(f2, b2) <= h100Shared {
				t.Errorf("%+v: %d chunks of %d, but %d would do", c.d, chunks, bc, chunks-1)
			}
		}
		r, nt := tileFor(c.d.H, bc, c.groups)
		if bc != c.bc || r != c.r || nt != c.threads {
			t.Errorf("%+v rate=%v groups=%d: chunk %d, tile %d, %d threads; want %d, %d, %d", c.d, c.rate, c.groups, bc, r, nt, c.bc, c.r, c.threads)
		}
		hp, bp := (c.d.H+7)&^7, padTrials(bc, c.groups)
		if groupTiles := (hp / r) * (bp / c.groups / r); nt%(32*c.groups) != 0 || nt/c.groups < min(groupTiles, 256/c.groups) {
			t.Errorf("%+v groups=%d: %d threads for %d tiles per group", c.d, c.groups, nt, groupTiles)
		}
	}
	if _, err := planChunk(degen.Dims{S: 1, B: 1, T: 1, I: 1, H: 300, O: 1}, false, h100Shared, 1); err == nil || !strings.Contains(err.Error(), "H up to about") {
		t.Errorf("H=300: got %v, want an error naming the largest H", err)
	}
}

// TestChooseGroups checks DEGEN_GROUPS's values (auto: two groups for W1,
// both cells, and an H=129 case, where an SM holds one block of 8x8 tiles;
// one for W2's 4x4 tiles and for H=64 with 8x8 tiles, of which two blocks
// fit) and padTrials.
func TestChooseGroups(t *testing.T) {
	w1 := degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}
	w2 := degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}
	wide := degen.Dims{S: 3, B: 65, T: 3, I: 3, H: 129, O: 3} // 8x8 tiles, 160 threads, 159 KiB
	two := degen.Dims{S: 2, B: 128, T: 4, I: 3, H: 64, O: 5}  // 8x8 tiles, 128 threads, 96 KiB
	for _, c := range []struct {
		req  string
		d    degen.Dims
		rate bool
		want int
	}{{"", w1, false, 1}, {"1", w1, false, 1}, {"2", w2, false, 2}, {"auto", w1, false, 2}, {"auto", w1, true, 2},
		{"auto", w2, false, 1}, {"auto", w2, true, 1}, {"auto", wide, false, 2}, {"auto", two, false, 1}} {
		if got, err := chooseGroups(c.req, c.d, c.rate, h100Shared); err != nil || got != c.want {
			t.Errorf("chooseGroups(%q, %+v, rate=%v) = %d, %v; want %d", c.req, c.d, c.rate, got, err, c.want)
		}
	}
	for _, req := range []string{"3", "0", "two", "on"} {
		if _, err := chooseGroups(req, w1, false, h100Shared); err == nil || !strings.Contains(err.Error(), "want 1, 2 or auto") {
			t.Errorf("chooseGroups(%q): %v, want an error naming the values", req, err)
		}
	}
	for _, c := range []struct{ bc, groups, want int }{{1, 1, 8}, {8, 1, 8}, {9, 1, 16}, {1, 2, 16}, {16, 2, 16}, {17, 2, 32}, {65, 2, 80}} {
		if got := padTrials(c.bc, c.groups); got != c.want {
			t.Errorf("padTrials(%d, %d) = %d, want %d", c.bc, c.groups, got, c.want)
		}
	}
}

// TestGradKernel checks which weight-gradient kernel serves which sizes.
func TestGradKernel(t *testing.T) {
	for _, c := range []struct {
		i, h, o int
		mma     bool
		name    string
	}{{3, 128, 3, false, "rnn_grad_w4_t128"}, {4, 65, 4, false, "rnn_grad_w4_t128"}, {3, 64, 3, false, "rnn_grad_w4_t64"},
		{5, 128, 3, false, "rnn_grad_w16"}, {3, 32, 16, false, "rnn_grad_w16"},
		{3, 128, 3, true, "rnn_grad_mma_t128"}, {3, 65, 3, true, "rnn_grad_mma_t128"}, {3, 64, 3, true, "rnn_grad_mma_t64"}} {
		d := degen.Dims{I: c.i, H: c.h, O: c.o}
		name, tile, threads, shared := gradKernel(d, c.mma, false)
		if name != c.name {
			t.Errorf("I=%d H=%d O=%d mma=%v: %s, want %s", c.i, c.h, c.o, c.mma, name, c.name)
		}
		if c.mma && (threads != 256 || 4*shared > h100Shared || !gradMmaFits(d, h100Shared)) {
			t.Errorf("%s: %d threads, %d bytes of shared memory", name, threads, 4*shared)
		}
		if !c.mma && shared != 0 {
			t.Errorf("%s: %d floats of dynamic shared memory, want none", name, shared)
		}
		if name != "rnn_grad_w16" && (c.h > 64) != (tile == 128) {
			t.Errorf("%s for H=%d: tile %d", name, c.h, tile)
		}
	}
	// 4 stages of 32 rows: (2*32*136 + 2*32*4)*4 floats = 139 KiB for 128x128 tiles.
	if got := 4 * gradMmaShared(128); got != 143360 {
		t.Errorf("rnn_grad_mma_t128: %d bytes of shared memory, want 143360", got)
	}
	if gradMmaFits(degen.Dims{I: 5, H: 64, O: 3}, h100Shared) || gradMmaFits(degen.Dims{I: 3, H: 64, O: 3}, 48<<10) {
		t.Error("gradMmaFits: fits I=5, or in 48 KiB")
	}
	// The warpgroup-MMA kernels, whatever mma says: 2 tile threads (a
	// warpgroup per 64 rows of the tile).
	for _, c := range []struct {
		h, tile, threads, bytes int
		name                    string
	}{{128, 128, 256, 172544, "rnn_grad_wgmma_t128"}, {65, 128, 256, 172544, "rnn_grad_wgmma_t128"}, {64, 64, 128, 90368, "rnn_grad_wgmma_t64"}} {
		for _, mma := range []bool{false, true} {
			name, tile, threads, shared := gradKernel(degen.Dims{I: 3, H: c.h, O: 3}, mma, true)
			if name != c.name || tile != c.tile || threads != c.threads || 4*shared != c.bytes {
				t.Errorf("H=%d mma=%v wgmma: %s tile %d, %d threads, %d bytes; want %s tile %d, %d threads, %d bytes",
					c.h, mma, name, tile, threads, 4*shared, c.name, c.tile, c.threads, c.bytes)
			}
		}
	}
}

// TestChooseWgmma checks which kernels each DEGEN_WGMMA request puts on the
// warpgroup MMA, where a request is refused, and that it is off unless
// asked for.
func TestChooseWgmma(t *testing.T) {
	w1 := degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}
	w2 := degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}
	wide := degen.Dims{S: 1, B: 8, T: 5, H: 32, I: 5, O: 3}
	for _, c := range []struct {
		req, capability string
		d               degen.Dims
		rate            bool
		limit           int
		want            wgmmaPlan
		err             string
	}{
		{"", "9.0", w1, false, h100Shared, wgmmaPlan{}, ""},
		{"off", "9.0", w1, false, h100Shared, wgmmaPlan{}, ""},
		{"on", "9.0", w1, false, h100Shared, wgmmaPlan{grad: true, fwd: true, bwd: true}, ""},
		{"on", "9.0", w2, true, h100Shared, wgmmaPlan{grad: true, fwd: true, bwd: true}, ""},
		{"grad", "9.0", w1, true, h100Shared, wgmmaPlan{grad: true}, ""},
		{"fwd", "9.0", w1, false, h100Shared, wgmmaPlan{fwd: true}, ""},
		{"fwd", "9.0", wide, false, h100Shared, wgmmaPlan{fwd: true}, ""},
		{"bwd", "9.0", w1, false, h100Shared, wgmmaPlan{bwd: true}, ""},
		{"fwd,bwd", "9.0", w2, false, h100Shared, wgmmaPlan{fwd: true, bwd: true}, ""},
		{"grad,fwd", "9.0", w1, false, h100Shared, wgmmaPlan{grad: true, fwd: true}, ""},
		{"auto", "9.0", w1, true, h100Shared, wgmmaPlan{grad: true, fwd: true, bwd: true}, ""},
		{"auto", "9.0", wide, false, h100Shared, wgmmaPlan{fwd: true, bwd: true}, ""},
		{"bwd", "9.0", w1, false, 200 << 10, wgmmaPlan{}, "rnn_backward_wgmma_h128 needs 226 KiB of shared memory per block, this GPU allows 200 KiB"},
		{"fwd", "9.0", w1, true, 200 << 10, wgmmaPlan{}, "rnn_forward_wgmma_h128_rate needs 207 KiB of shared memory per block, this GPU allows 200 KiB"},
		{"bwd", "9.0", degen.Dims{S: 1, B: 8, T: 5, H: 64, I: 3, O: 5}, false, h100Shared, wgmmaPlan{}, "supports H <= 128 and O <= 4, got H=64, O=5"},
		{"fwd,sideways", "9.0", w1, false, h100Shared, wgmmaPlan{}, "want off, on, auto, or grad, fwd and bwd alone or comma-separated"},
		{"auto", "8.0", w1, false, h100Shared, wgmmaPlan{}, ""},
		{"on", "8.0", w1, false, h100Shared, wgmmaPlan{}, "compute capability 9.0 (H100, H200), this one has 8.0"},
		{"fwd", "8.0", w1, false, h100Shared, wgmmaPlan{}, "compute capability 9.0 (H100, H200), this one has 8.0"},
		{"on", "9.0", wide, false, h100Shared, wgmmaPlan{}, "I, O <= 4, got I=5, O=3"},
		{"on", "9.0", w1, false, 100 << 10, wgmmaPlan{}, "rnn_grad_wgmma_t128 needs 168 KiB of shared memory per block, this GPU allows 100 KiB"},
		{"fwd", "9.0", degen.Dims{S: 1, B: 8, T: 5, H: 130, I: 3, O: 3}, false, h100Shared, wgmmaPlan{}, "supports H <= 128, I <= 7 and O <= 4, got H=130"},
		{"fwd", "9.0", degen.Dims{S: 1, B: 8, T: 5, H: 64, I: 8, O: 5}, false, h100Shared, wgmmaPlan{}, "got H=64, I=8, O=5"},
		{"yes", "9.0", w1, false, h100Shared, wgmmaPlan{}, `"yes": want off, on, auto, or grad, fwd and bwd`},
	} {
		got, err := chooseWgmma(c.req, c.d, c.rate, c.capability, c.limit)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("chooseWgmma(%q, H=%d I=%d rate=%v, %s, %d): %+v, %v; want %+v, an error with %q",
				c.req, c.d.H, c.d.I, c.rate, c.capability, c.limit, got, err, c.want, c.err)
		}
	}
}

// TestForwardWgmmaShared checks the warpgroup-MMA sequence kernels' shared
// memory against the layouts in hopper.cu, worked by hand: W1 (H=128) takes
// 206.1 KiB in the forward, 226.0 in the backward (1 KiB under the limit),
// one block per SM; W2 (H=64) 73.1 and 81.0, three and two.
func TestForwardWgmmaShared(t *testing.T) {
	for _, c := range []struct {
		hp, fwd, bwd int
	}{{128, 4 * (2*128*136 + 2*64*136 + 512 + 32), 231424}, {64, 74880, 82944}} {
		if got := 4 * forwardWgmmaShared(c.hp); got != c.fwd {
			t.Errorf("forwardWgmmaShared(%d) = %d bytes, want %d", c.hp, got, c.fwd)
		}
		if got := 4 * backwardWgmmaShared(c.hp); got != c.bwd {
			t.Errorf("backwardWgmmaShared(%d) = %d bytes, want %d", c.hp, got, c.bwd)
		}
	}
	for _, c := range []struct {
		kind string
		h    int
		rate bool
		want string
	}{{"forward", 128, false, "rnn_forward_wgmma_h128"}, {"forward", 65, true, "rnn_forward_wgmma_h128_rate"},
		{"backward", 64, false, "rnn_backward_wgmma_h64"}, {"backward", 1, true, "rnn_backward_wgmma_h64_rate"}} {
		if got, _ := wgmmaSequenceKernel(c.kind, degen.Dims{H: c.h}, c.rate); got != c.want {
			t.Errorf("wgmmaSequenceKernel(%s, H=%d, rate %v) = %s, want %s", c.kind, c.h, c.rate, got, c.want)
		}
	}
}

// TestChooseBackward checks where rnn_backward_fused can run (the benchmark
// workloads' vanilla cells; not the rate cell at H=128, whose chunks of 64
// trials leave fewer threads than 2 H; not small batches) and the requests.
func TestChooseBackward(t *testing.T) {
	w1 := degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}
	w2 := degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}
	for _, c := range []struct {
		d    degen.Dims
		rate bool
		fits bool
	}{
		{w1, false, true}, {w1, true, false}, {w2, false, true}, {w2, true, true},
		{degen.Dims{S: 8, B: 32, T: 50, H: 32, I: 3, O: 3}, false, true}, // degen train's default sizes
		{degen.Dims{S: 1, B: 3, T: 5, I: 2, H: 31, O: 3}, false, false},
		{degen.Dims{S: 2, B: 128, T: 5, I: 5, H: 128, O: 3}, false, false}, // I > 4
	} {
		bc, err := planChunk(c.d, c.rate, h100Shared, 1)
		if err != nil {
			t.Fatal(err)
		}
		floats, fits := fusedShared(c.d, c.rate, bc, h100Shared)
		if fits != c.fits {
			t.Errorf("%+v rate=%v: fused fits %v, want %v", c.d, c.rate, fits, c.fits)
		}
		if fits && 4*floats > h100Shared {
			t.Errorf("%+v rate=%v: fused needs %d bytes of shared memory", c.d, c.rate, 4*floats)
		}
		for _, req := range []string{"", "split", "auto", "fused"} {
			fused, err := chooseBackward(req, c.d, c.rate, bc, h100Shared)
			switch {
			case req == "fused" && !c.fits:
				if err == nil || !strings.Contains(err.Error(), "does not support") {
					t.Errorf("%+v rate=%v: fused forced: %v, want an error", c.d, c.rate, err)
				}
			case err != nil:
				t.Errorf("%+v rate=%v %q: %v", c.d, c.rate, req, err)
			case fused != (req == "fused" || req == "auto" && c.fits):
				t.Errorf("%+v rate=%v %q: fused %v", c.d, c.rate, req, fused)
			}
		}
	}
	if _, err := chooseBackward("fast", w1, false, 128, h100Shared); err == nil {
		t.Error(`chooseBackward("fast"): no error`)
	}
}

// TestChooseMma checks which tensor-core kernels serve which sizes and that
// they fit in shared memory, and the requests.
func TestChooseMma(t *testing.T) {
	for _, c := range []struct {
		d      degen.Dims
		rate   bool
		suffix string // "" where the tensor-core kernels cannot run
	}{
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, false, "m2n8"}, // W1
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, true, "m1n8"},  // W1 rate: chunks of 64
		{degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}, false, "m1n4"},   // W2
		{degen.Dims{S: 8, B: 32, T: 50, H: 32, I: 3, O: 3}, false, "m1n2"},      // degen train's default sizes
		{degen.Dims{S: 2, B: 128, T: 3, H: 40, I: 1, O: 1}, false, "m2n4"},
		{degen.Dims{S: 2, B: 5, T: 3, H: 129, I: 3, O: 3}, false, ""},  // H > 128
		{degen.Dims{S: 2, B: 200, T: 3, H: 32, I: 3, O: 3}, false, ""}, // chunks of 200 trials
	} {
		bc, err := planChunk(c.d, c.rate, h100Shared, 1)
		if err != nil {
			t.Fatal(err)
		}
		suffix, fwd, bwd, fits := mmaKernels(c.d, c.rate, bc, h100Shared)
		if !fits {
			suffix = ""
		}
		if suffix != c.suffix {
			t.Errorf("%+v rate=%v chunk %d: %q, want %q", c.d, c.rate, bc, suffix, c.suffix)
		}
		if fits && 4*max(fwd, bwd) > h100Shared {
			t.Errorf("%+v: %d and %d bytes of shared memory", c.d, 4*fwd, 4*bwd)
		}
		got, err := chooseMma("auto", c.d, c.rate, bc, h100Shared)
		if err != nil || got != (mmaPlan{seq: c.suffix, grad: true}) {
			t.Errorf("%+v auto: %+v, %v", c.d, got, err)
		}
		if got, err := chooseMma("", c.d, c.rate, bc, h100Shared); err != nil || got != (mmaPlan{grad: true}) {
			t.Errorf("%+v default: %+v, %v", c.d, got, err)
		}
		if got, err := chooseMma("off", c.d, c.rate, bc, h100Shared); err != nil || got != (mmaPlan{}) {
			t.Errorf("%+v off: %+v, %v", c.d, got, err)
		}
		if _, err := chooseMma("on", c.d, c.rate, bc, h100Shared); (err == nil) != (c.suffix != "") {
			t.Errorf("%+v on: %v", c.d, err)
		}
		if got, err := chooseMma("seq", c.d, c.rate, bc, h100Shared); (err == nil) != (c.suffix != "") || got != (mmaPlan{seq: c.suffix}) {
			t.Errorf("%+v seq: %+v, %v", c.d, got, err)
		}
		if got, err := chooseMma("grad", c.d, c.rate, bc, h100Shared); err != nil || got != (mmaPlan{grad: true}) {
			t.Errorf("%+v grad: %+v, %v", c.d, got, err)
		}
	}
	// Wide inputs: the sequence kernels on the tensor cores, the weight
	// gradients on the CUDA cores under auto; on refuses.
	wide := degen.Dims{S: 2, B: 16, T: 3, H: 64, I: 6, O: 3}
	if got, err := chooseMma("auto", wide, false, 16, h100Shared); err != nil || got != (mmaPlan{seq: "m1n4"}) {
		t.Errorf("%+v auto: %+v, %v", wide, got, err)
	}
	if _, err := chooseMma("on", wide, false, 16, h100Shared); err == nil || !strings.Contains(err.Error(), "I=6") {
		t.Errorf("%+v on: %v", wide, err)
	}
	if got, err := chooseMma("", wide, false, 16, h100Shared); err != nil || got != (mmaPlan{}) {
		t.Errorf("%+v default: %+v, %v", wide, got, err)
	}
	if _, err := chooseMma("grad", wide, false, 16, h100Shared); err == nil || !strings.Contains(err.Error(), "I=6") {
		t.Errorf("%+v grad: %v", wide, err)
	}
	if _, err := chooseMma("tensor", degen.Dims{S: 1, B: 8, T: 3, H: 32, I: 3, O: 3}, false, 8, h100Shared); err == nil {
		t.Error(`chooseMma("tensor"): no error`)
	}
}

// TestReadoutInTile checks which sizes take rnn_forward's in-register
// readout: W1 (both cells) and the cases of TestReadoutTile (gpu_test.go);
// not 4x4 tiles (W2), H off the power-of-two tile rows, or blocks with idle
// threads.
func TestReadoutInTile(t *testing.T) {
	for _, c := range []struct {
		d      degen.Dims
		rate   bool
		want   bool
		groups int
	}{
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, false, true, 2}, // W1, two warp groups
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, true, true, 2},
		{degen.Dims{S: 3, B: 65, T: 3, I: 3, H: 127, O: 3}, false, false, 2},     // 96 threads per group for 80 tiles
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, false, true, 1}, // W1
		{degen.Dims{S: 256, B: 128, T: 100, H: 128, I: 3, O: 3}, true, true, 1},
		{degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}, false, false, 1}, // W2: 4x4 tiles
		{degen.Dims{S: 512, B: 64, T: 200, H: 64, I: 3, O: 3}, true, false, 1},
		{degen.Dims{S: 2, B: 128, T: 4, I: 3, H: 64, O: 5}, false, true, 1}, // TestReadoutTile
		{degen.Dims{S: 1, B: 128, T: 3, I: 3, H: 128, O: 3}, false, true, 1},
		{degen.Dims{S: 1, B: 128, T: 3, I: 2, H: 128, O: 2}, true, true, 1},  // two chunks of 64
		{degen.Dims{S: 1, B: 3, T: 5, I: 2, H: 31, O: 3}, false, false, 1},   // 16 tiles for 32 threads
		{degen.Dims{S: 1, B: 65, T: 3, I: 3, H: 127, O: 3}, false, false, 1}, // 160 threads for 144 tiles
		{degen.Dims{S: 3, B: 5, T: 3, I: 3, H: 129, O: 2}, false, false, 1},  // Hp/R = 34
	} {
		groups := c.groups
		bc, err := planChunk(c.d, c.rate, h100Shared, groups)
		if err != nil {
			t.Fatal(err)
		}
		if got := readoutInTile(c.d.H, bc, groups); got != c.want {
			t.Errorf("%+v rate=%v groups=%d (chunks of %d): in-register readout %v, want %v", c.d, c.rate, groups, bc, got, c.want)
		}
	}
}

//go:build cuda || cudaemu

package gpu

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"degen"
	"degen/cuda"
	"degen/kernels"
	"degen/tasks"

	"gonum.org/v1/gonum/mat"
)

// ErrNoCUDA is never returned by the CUDA build; it exists so that callers
// compile against both builds.
var ErrNoCUDA = errors.New("degen was built without CUDA support; build with `make cuda` and run degen-cuda")

// Devices lists the GPUs the driver sees.
func Devices() ([]DeviceInfo, error) {
	ds, err := cuda.Devices()
	if err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	out := make([]DeviceInfo, len(ds))
	for i, d := range ds {
		out[i] = DeviceInfo{Ordinal: d.Ordinal, Name: d.Name, TotalBytes: d.TotalBytes, FreeBytes: d.FreeBytes,
			Capability: d.Capability, Multiprocessors: d.SMs, SharedPerBlockKB: d.SharedOptinKB, MaxClockMHz: d.ClockMHz,
			Driver: d.Driver}
	}
	return out, nil
}

// Backend trains an ensemble on one GPU (device 0). All device buffers are
// float32 (or int32) and laid out as the degen package documents.
type Backend struct {
	dims  degen.Dims
	model degen.Model
	lay   degen.Layout
	rate  int32
	tau   float32

	ctx   *cuda.Context
	mod   *cuda.Module
	hmod  *cuda.Module // kernels.HopperPTX, loaded for rnn_grad_wgmma_* (see chooseWgmma)
	fwd   *cuda.Kernel // rnn_forward_r8 or _r4, or rnn_forward_mma_* (see chooseMma)
	bwd   *cuda.Kernel // rnn_backward_r8 or _r4, rnn_backward_mma_*, or rnn_backward_fused_r8 or _r4
	whh   *cuda.Kernel // rnn_grad_*: all weight gradients (see gradKernel); nil when fused
	adam  *cuda.Kernel
	fused bool // bwd is rnn_backward_fused (see chooseBackward)

	fwdShape, bwdShape, whhShape, adamShape cuda.Shape
	bc                                      int32 // trials per chunk of the sequence kernels

	params, grad, adamM, adamV *cuda.Buffer // (S, P)
	steps                      *cuda.Buffer // (S) int32
	gamma                      *cuda.Buffer // (S)
	hyper                      *cuda.Buffer // (4, S): lr, l1, nuclear, active (int32 bits)
	hyperViews                 [4]*cuda.Buffer
	loss                       *cuda.Buffer // (S)
	polar                      *cuda.Buffer // (S, H, H), allocated on first use of the nuclear norm

	// Buffers sized for tCap steps and nCap batch slots, grown on demand.
	tCap, nCap      int
	x, y, mask      *cuda.Buffer // (N, T, B, I), (N, T, B, O), (N, T, B, O)
	states, delta   *cuda.Buffer // (S, T, B, H)
	dy, yout        *cuda.Buffer // (S, T, B, O)
	hyperHost       []float32
	launched        []string // launches since the last synchronisation, for error messages
	hostParams      []float32
	gen             taskGen // task batches generated on the device (taskgen.go)
	closed          bool
	bytesPerNetwork int64
}

var _ degen.Backend = (*Backend)(nil)

// New makes the backend for dims d and model m on GPU 0; gamma (S) is each
// network's rate-cell readout scale. It fails with a clear message when
// there is no GPU, when the ensemble does not fit in device memory (naming
// the memory needed and the largest S that fits) or when H is too large for
// the shared-memory design.
func New(d degen.Dims, m degen.Model, gamma []float32) (*Backend, error) {
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	if m.H != d.H {
		return nil, fmt.Errorf("gpu: model has H=%d, dims H=%d", m.H, d.H)
	}
	if len(gamma) != d.S {
		return nil, fmt.Errorf("gpu: gamma has %d values, want S=%d", len(gamma), d.S)
	}
	if d.I > kernels.MaxInputs || d.O > kernels.MaxOutputs {
		return nil, fmt.Errorf("gpu: the kernels support at most %d inputs and %d outputs, got I=%d, O=%d",
			kernels.MaxInputs, kernels.MaxOutputs, d.I, d.O)
	}
	ctx, err := cuda.Open(0)
	if err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	g := &Backend{dims: d, model: m, lay: degen.NewLayout(d.H, d.I, d.O), ctx: ctx, tau: float32(m.Tau)}
	if m.Cell == degen.Rate {
		g.rate = 1
	}
	g.bytesPerNetwork = perNetworkBytes(d, g.lay.P)
	err = ctx.Do(func() error { return g.init(gamma) })
	if err != nil {
		g.Close()
		return nil, fmt.Errorf("gpu: %w", err)
	}
	return g, nil
}

func (g *Backend) init(gamma []float32) error {
	d := g.dims
	free, total, err := g.ctx.MemInfo()
	if err != nil {
		return err
	}
	need := int64(d.S)*g.bytesPerNetwork + 64<<20
	if need > free {
		maxS := (free - 64<<20) / g.bytesPerNetwork
		return fmt.Errorf("the ensemble needs %.2f GiB of GPU memory (S=%d networks x %.1f MiB for T=%d, B=%d, H=%d); %s has %.2f GiB free of %.2f GiB: at most S=%d networks fit",
			float64(need)/(1<<30), d.S, float64(g.bytesPerNetwork)/(1<<20), d.T, d.B, d.H,
			g.ctx.Info.Name, float64(free)/(1<<30), float64(total)/(1<<30), max(maxS, 0))
	}
	groups, err := chooseGroups(os.Getenv(GroupsEnv), d, g.rate == 1, g.ctx.SharedOptin)
	if err != nil {
		return err
	}
	bc, err := planChunk(d, g.rate == 1, g.ctx.SharedOptin, groups)
	if err != nil {
		return err
	}
	g.bc = int32(bc)
	if g.fused, err = chooseBackward(os.Getenv(BackwardEnv), d, g.rate == 1, bc, g.ctx.SharedOptin); err != nil {
		return err
	}
	mma, err := chooseMma(os.Getenv(MmaEnv), d, g.rate == 1, bc, g.ctx.SharedOptin)
	if err != nil {
		return err
	}
	wgmma, err := chooseWgmma(os.Getenv(WgmmaEnv), d, g.rate == 1, g.ctx.Info.Capability, g.ctx.SharedOptin)
	if err != nil {
		return err
	}
	wgmma.grad = wgmma.grad && !g.fused // the fused backward writes the gradients itself
	wgmma.bwd = wgmma.bwd && !g.fused
	gradName, gradTile, gradThreads, gradShared := gradKernel(d, mma.grad, wgmma.grad)
	r, nt := tileFor(d.H, bc, groups)
	suffix := ""
	if groups == 2 {
		suffix = "_g2"
	}
	ptx, err := kernelSource()
	if err != nil {
		return err
	}
	if g.mod, err = cuda.LoadModule(ptx); err != nil {
		return err
	}
	kernelNames := []struct {
		dst  **cuda.Kernel
		name string
	}{{&g.fwd, fmt.Sprintf("rnn_forward_r%d%s", r, suffix)}, {&g.bwd, fmt.Sprintf("rnn_backward_r%d%s", r, suffix)}, {&g.whh, gradName}, {&g.adam, "rnn_adam"}}
	if mma.seq != "" {
		kernelNames[0].name = "rnn_forward_mma_" + mma.seq
		kernelNames[1].name = "rnn_backward_mma_" + mma.seq
	}
	fusedR, fusedThreads := tileFor(d.H, bc, 1) // the fused backward runs one warp group
	if g.fused {
		kernelNames[1].name = fmt.Sprintf("rnn_backward_fused_r%d", fusedR)
		kernelNames = slices.Delete(kernelNames, 2, 3)
	}
	fwdWgmmaName, fwdWgmmaShared, _ := forwardWgmmaKernel(d, g.rate == 1, g.ctx.SharedOptin)
	bwdWgmmaName, bwdWgmmaShared, _ := backwardWgmmaKernel(d, g.rate == 1, g.ctx.SharedOptin)
	if wgmma.fwd {
		kernelNames[0].name = fwdWgmmaName
	}
	if wgmma.bwd {
		kernelNames[1].name = bwdWgmmaName
	}
	if wgmma.grad || wgmma.fwd || wgmma.bwd {
		if g.hmod, err = cuda.LoadModule(kernels.HopperPTX); err != nil {
			return fmt.Errorf("%s: %w", WgmmaEnv, err)
		}
	}
	for _, k := range kernelNames {
		mod := g.mod
		if wgmma.grad && k.dst == &g.whh || wgmma.fwd && k.dst == &g.fwd || wgmma.bwd && k.dst == &g.bwd {
			mod = g.hmod
		}
		if *k.dst, err = mod.Kernel(k.name); err != nil {
			return err
		}
	}
	fs, bs := sharedFloats(d, g.rate == 1, bc, groups)
	g.fwdShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: nt, Shared: 4 * fs}
	g.bwdShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: nt, Shared: 4 * bs}
	if g.fused {
		bs, _ = fusedShared(d, g.rate == 1, bc, g.ctx.SharedOptin)
		g.bwdShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: fusedThreads, Shared: 4 * bs}
	}
	if mma.seq != "" {
		_, mf, mb, _ := mmaKernels(d, g.rate == 1, bc, g.ctx.SharedOptin)
		g.fwdShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: 32 * mmaWarps, Shared: 4 * mf}
		if !g.fused {
			g.bwdShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: 32 * mmaWarps, Shared: 4 * mb}
		}
	}
	if wgmma.fwd {
		g.fwdShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: 128, Shared: 4 * fwdWgmmaShared}
	}
	if wgmma.bwd {
		g.bwdShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: 128, Shared: 4 * bwdWgmmaShared}
	}
	tiles := (d.H + gradTile - 1) / gradTile
	g.whhShape = cuda.Shape{Grid: [2]int{tiles * tiles, d.S}, Block: gradThreads, Shared: 4 * gradShared}
	g.adamShape = cuda.Shape{Grid: [2]int{d.S, 1}, Block: 256}
	if err := g.fwd.SetMaxDynamicShared(g.fwdShape.Shared); err != nil {
		return err
	}
	if err := g.bwd.SetMaxDynamicShared(g.bwdShape.Shared); err != nil {
		return err
	}
	if g.whh != nil && g.whhShape.Shared > 0 { // rnn_grad_mma_* and _wgmma_*; the FP32 kernels use static shared memory
		if err := g.whh.SetMaxDynamicShared(g.whhShape.Shared); err != nil {
			return err
		}
	}

	sp := d.S * g.lay.P
	for _, b := range []struct {
		dst **cuda.Buffer
		n   int
	}{{&g.params, sp}, {&g.grad, sp}, {&g.adamM, sp}, {&g.adamV, sp}, {&g.steps, d.S},
		{&g.gamma, d.S}, {&g.hyper, 4 * d.S}, {&g.loss, d.S}} {
		if *b.dst, err = cuda.Alloc(b.n); err != nil {
			return err
		}
	}
	for _, b := range []*cuda.Buffer{g.params, g.adamM, g.adamV, g.steps} {
		if err := b.Zero(b.N); err != nil {
			return err
		}
	}
	gm := make([]float32, d.S)
	copy(gm, gamma)
	if err := g.gamma.Upload(gm); err != nil {
		return err
	}
	g.hyperHost = make([]float32, 4*d.S)
	for k := range g.hyperViews {
		if g.hyperViews[k], err = g.hyper.View(k*d.S, d.S); err != nil {
			return err
		}
	}
	return g.ensure(d.T, d.S)
}

// ensure grows the step-sized buffers to hold t steps and n batch slots.
func (g *Backend) ensure(t, n int) error {
	if t <= g.tCap && n <= g.nCap {
		return nil
	}
	d := g.dims
	t, n = max(t, g.tCap), max(n, g.nCap)
	for _, b := range []*cuda.Buffer{g.x, g.y, g.mask, g.states, g.delta, g.dy, g.yout} {
		if err := b.Free(); err != nil {
			return err
		}
	}
	tb := t * d.B
	deltas := d.S * tb * d.H // rnn_backward's output; the fused kernel keeps deltas on chip
	if g.fused {
		deltas = 0
	}
	var err error
	for _, b := range []struct {
		dst **cuda.Buffer
		n   int
	}{{&g.x, n * tb * d.I}, {&g.y, n * tb * d.O}, {&g.mask, n * tb * d.O},
		{&g.states, d.S * tb * d.H}, {&g.delta, deltas}, {&g.dy, d.S * tb * d.O}, {&g.yout, d.S * tb * d.O}} {
		if *b.dst, err = cuda.Alloc(b.n); err != nil {
			g.tCap, g.nCap = 0, 0
			return fmt.Errorf("buffers for T=%d steps: %w", t, err)
		}
	}
	g.tCap, g.nCap = t, n
	return nil
}

// Dims returns the sizes the backend was built for.
func (g *Backend) Dims() degen.Dims { return g.dims }

// SetState uploads parameters and Adam state.
func (g *Backend) SetState(st *degen.TrainState) error {
	if err := g.dims.CheckState(st); err != nil {
		return fmt.Errorf("gpu: set state: %w", err)
	}
	n := g.dims.S * g.lay.P
	err := g.ctx.Do(func() error {
		for _, c := range []struct {
			b   *cuda.Buffer
			src []float32
		}{{g.params, st.Params[:n]}, {g.adamM, st.AdamM[:n]}, {g.adamV, st.AdamV[:n]}} {
			if err := c.b.Upload(c.src); err != nil {
				return err
			}
		}
		return g.steps.UploadInt32(st.AdamStep[:g.dims.S])
	})
	if err != nil {
		return fmt.Errorf("gpu: set state: %w", err)
	}
	return nil
}

// State downloads parameters and Adam state into st.
func (g *Backend) State(st *degen.TrainState) error {
	if err := g.dims.CheckState(st); err != nil {
		return fmt.Errorf("gpu: state: %w", err)
	}
	n := g.dims.S * g.lay.P
	err := g.ctx.Do(func() error {
		for _, c := range []struct {
			b   *cuda.Buffer
			dst []float32
		}{{g.params, st.Params[:n]}, {g.adamM, st.AdamM[:n]}, {g.adamV, st.AdamV[:n]}} {
			if err := c.b.Download(c.dst); err != nil {
				return err
			}
		}
		return g.steps.DownloadInt32(st.AdamStep[:g.dims.S])
	})
	if err != nil {
		return fmt.Errorf("gpu: state: %w", err)
	}
	return nil
}

// upload copies the batch to the device (inside Do).
func (g *Backend) upload(bt *tasks.Batch) error {
	if err := g.ensure(bt.T, bt.N); err != nil {
		return err
	}
	if err := g.x.Upload(bt.X); err != nil {
		return fmt.Errorf("batch inputs: %w", err)
	}
	if err := g.y.Upload(bt.Y); err != nil {
		return fmt.Errorf("batch targets: %w", err)
	}
	if err := g.mask.Upload(bt.Mask); err != nil {
		return fmt.Errorf("batch mask: %w", err)
	}
	return nil
}

// uploadHyper copies learning rates, penalties and the active mask (inside
// Do) and returns whether any network uses the nuclear norm.
func (g *Backend) uploadHyper(h *degen.Hyper, active []bool) (bool, error) {
	s := g.dims.S
	hh := g.hyperHost
	clear(hh)
	copy(hh[0:s], h.LR)
	if h.L1 != nil {
		copy(hh[s:2*s], h.L1)
	}
	nuc := false
	if h.Nuclear != nil {
		copy(hh[2*s:3*s], h.Nuclear)
		for _, v := range h.Nuclear {
			nuc = nuc || v != 0
		}
	}
	for i := range s {
		if active == nil || active[i] {
			hh[3*s+i] = math.Float32frombits(1)
		}
	}
	return nuc, g.hyper.Upload(hh)
}

// uploadPolar computes U V^T of every W_hh whose nuclear penalty is nonzero
// on the host (float64 SVD) and uploads it (inside Do). A failed SVD (NaN or
// Inf in W_hh) gives NaN, as on the CPU.
func (g *Backend) uploadPolar(h *degen.Hyper) error {
	d, l := g.dims, g.lay
	if g.polar == nil {
		var err error
		if g.polar, err = cuda.Alloc(d.S * d.H * d.H); err != nil {
			return fmt.Errorf("nuclear-norm buffer: %w", err)
		}
	}
	if len(g.hostParams) != d.S*l.P {
		g.hostParams = make([]float32, d.S*l.P)
	}
	if err := g.params.Download(g.hostParams); err != nil {
		return err
	}
	hh := d.H * d.H
	pol := make([]float32, d.S*hh)
	a := mat.NewDense(d.H, d.H, nil)
	var svd mat.SVD
	var u, v, uvt mat.Dense
	for s := range d.S {
		if h.Nuclear[s] == 0 {
			continue
		}
		w := g.hostParams[s*l.P+l.Whh : s*l.P+l.Whh+hh]
		for i := range hh {
			a.RawMatrix().Data[i] = float64(w[i])
		}
		dst := pol[s*hh : (s+1)*hh]
		if !svd.Factorize(a, mat.SVDThin) {
			for i := range dst {
				dst[i] = float32(math.NaN())
			}
			continue
		}
		svd.UTo(&u)
		svd.VTo(&v)
		uvt.Mul(&u, v.T())
		for i := range hh {
			dst[i] = float32(uvt.RawMatrix().Data[i])
		}
	}
	return g.polar.Upload(pol)
}

// launch enqueues kernel k. A failed launch may report a fault of a kernel
// launched before it (the driver reports asynchronous errors at the next
// call), so the error also names the launches since the last
// synchronisation.
func (g *Backend) launch(k *cuda.Kernel, sh cuda.Shape, args ...any) error {
	before := slices.Clone(g.launched)
	g.launched = append(g.launched, k.Name+" "+sh.String())
	if err := k.Launch(sh, args...); err != nil {
		if len(before) > 0 {
			return fmt.Errorf("%w (launched before it since the last synchronisation: %s)", err, strings.Join(before, "; "))
		}
		return err
	}
	return nil
}

// sync waits for the launched kernels and names them if one failed.
func (g *Backend) sync() error {
	what := "launches " + strings.Join(g.launched, "; ")
	g.launched = g.launched[:0]
	return g.ctx.Synchronize(what)
}

// forward launches rnn_forward; dy nil means evaluation (no gradient).
func (g *Backend) forward(bt *tasks.Batch, yout, dy *cuda.Buffer) error {
	d := g.dims
	return g.launch(g.fwd, g.fwdShape, g.params, g.x, g.y, g.mask, sharedFlag(bt), g.states, yout, dy, g.loss, g.gamma,
		int32(bt.T), int32(d.B), int32(d.I), int32(d.H), int32(d.O), int32(g.lay.P), g.bc, g.rate, g.tau)
}

// gradient uploads the batch and launches the step's kernels (launchGradient).
func (g *Backend) gradient(bt *tasks.Batch, h *degen.Hyper, active []bool, update int32) error {
	if err := g.upload(bt); err != nil {
		return err
	}
	return g.launchGradient(bt, h, active, update)
}

// launchGradient launches the forward, backward and weight-gradient kernels
// and rnn_adam (update 0: regularisers only; 1: clipping and Adam too) on the
// batch already in g.x, g.y and g.mask: uploaded, or generated on the device
// (taskgen.go). Only bt's sizes are read.
func (g *Backend) launchGradient(bt *tasks.Batch, h *degen.Hyper, active []bool, update int32) error {
	nuc, err := g.uploadHyper(h, active)
	if err != nil {
		return err
	}
	var polar *cuda.Buffer
	if nuc {
		if err := g.uploadPolar(h); err != nil {
			return err
		}
		polar = g.polar
	}
	if err := g.forward(bt, nil, g.dy); err != nil {
		return err
	}
	if err := g.backward(bt); err != nil {
		return err
	}
	if err := g.weightGradients(bt); err != nil {
		return err
	}
	return g.adamStep(h, polar, update)
}

// adamStep launches rnn_adam (update 0: regularisers only; 1: clipping and
// Adam too); polar may be nil when no network uses the nuclear norm.
func (g *Backend) adamStep(h *degen.Hyper, polar *cuda.Buffer, update int32) error {
	d, hv := g.dims, g.hyperViews
	return g.launch(g.adam, g.adamShape, g.params, g.grad, g.adamM, g.adamV, g.steps,
		hv[0], hv[1], hv[2], polar, hv[3], h.ClipNorm, update,
		int32(d.H), int32(d.I), int32(d.O), int32(g.lay.P),
		float32(degen.AdamBeta1), float32(degen.AdamBeta2), float32(degen.AdamEps))
}

// backward launches rnn_backward (deltas to g.delta), or rnn_backward_fused,
// which writes every weight gradient into g.grad itself.
func (g *Backend) backward(bt *tasks.Batch) error {
	d := g.dims
	if g.fused {
		return g.launch(g.bwd, g.bwdShape, g.params, g.states, g.dy, g.x, sharedFlag(bt), g.gamma, g.grad,
			int32(bt.T), int32(d.B), int32(d.I), int32(d.H), int32(d.O), int32(g.lay.P), g.bc, g.rate, g.tau)
	}
	return g.launch(g.bwd, g.bwdShape, g.params, g.states, g.dy, g.delta, g.gamma,
		int32(bt.T), int32(d.B), int32(d.I), int32(d.H), int32(d.O), int32(g.lay.P), g.bc, g.rate, g.tau)
}

// weightGradients launches the rnn_grad_* GEMM over the saved deltas into
// g.grad; the fused variant has already written them.
func (g *Backend) weightGradients(bt *tasks.Batch) error {
	if g.fused {
		return nil
	}
	d := g.dims
	return g.launch(g.whh, g.whhShape, g.delta, g.states, g.x, sharedFlag(bt), g.dy, g.gamma, g.grad,
		int32(bt.T), int32(d.B), int32(d.I), int32(d.H), int32(d.O), int32(g.lay.P), g.rate)
}

// sharedFlag is the kernels' shared argument: 1 when every network reads
// batch slot 0.
func sharedFlag(bt *tasks.Batch) int32 {
	if bt.N == 1 {
		return 1
	}
	return 0
}

// Describe says what the backend computes on (degen.Describer): the GPU and
// the kernels of a training step.
func (g *Backend) Describe() string {
	i := g.ctx.Info
	kernels := []string{g.fwd.Name, g.bwd.Name}
	if g.whh != nil {
		kernels = append(kernels, g.whh.Name)
	}
	kernels = append(kernels, g.adam.Name)
	return fmt.Sprintf("%s (compute capability %s, %d SMs, driver %s); kernels %s", i.Name, i.Capability, i.SMs, i.Driver,
		strings.Join(kernels, ", "))
}

// ForwardVariant returns "wgmma" (the warpgroup MMA, see chooseWgmma),
// "mma" (the tensor cores through mma.sync, see chooseMma), "fp32" or
// "fp32g2" (the CUDA cores, two warp groups: see chooseGroups).
func (g *Backend) ForwardVariant() string {
	switch {
	case strings.HasPrefix(g.fwd.Name, "rnn_forward_wgmma"):
		return "wgmma"
	case strings.HasPrefix(g.fwd.Name, "rnn_forward_mma"):
		return "mma"
	case strings.HasSuffix(g.fwd.Name, "_g2"):
		return "fp32g2"
	}
	return "fp32"
}

// GradVariant returns where the weight-gradient kernel runs: "mma" (the
// tensor cores through mma.sync, see chooseMma), "wgmma" (through the
// warpgroup MMA, see chooseWgmma), "fp32" (the CUDA cores) or "fused" (no
// separate kernel: rnn_backward_fused writes the gradients).
func (g *Backend) GradVariant() string {
	switch {
	case g.fused:
		return "fused"
	case strings.HasPrefix(g.whh.Name, "rnn_grad_wgmma"):
		return "wgmma"
	case strings.HasPrefix(g.whh.Name, "rnn_grad_mma"):
		return "mma"
	}
	return "fp32"
}

// BackwardVariant returns "fused" (see chooseBackward), "wgmma" (split, its
// recurrence on the warpgroup MMA, see chooseWgmma), "mma" (split, on the
// tensor cores through mma.sync), "split" or "splitg2" (two warp groups,
// see chooseGroups).
func (g *Backend) BackwardVariant() string {
	switch {
	case g.fused:
		return "fused"
	case strings.HasPrefix(g.bwd.Name, "rnn_backward_wgmma"):
		return "wgmma"
	case strings.HasPrefix(g.bwd.Name, "rnn_backward_mma"):
		return "mma"
	case strings.HasSuffix(g.bwd.Name, "_g2"):
		return "splitg2"
	}
	return "split"
}

// Step runs one training step of every network (see degen.Backend).
func (g *Backend) Step(bt *tasks.Batch, h *degen.Hyper, active []bool, loss []float32) error {
	if err := g.dims.CheckBatch(bt); err != nil {
		return fmt.Errorf("gpu: step: %w", err)
	}
	if err := g.dims.CheckHyper(h, true); err != nil {
		return fmt.Errorf("gpu: step: %w", err)
	}
	if len(active) != g.dims.S {
		return fmt.Errorf("gpu: step: active has %d values, want S=%d", len(active), g.dims.S)
	}
	if err := degen.CheckLen("loss", loss, g.dims.S); err != nil {
		return fmt.Errorf("gpu: step: %w", err)
	}
	err := g.ctx.Do(func() error {
		if err := g.gradient(bt, h, active, 1); err != nil {
			return err
		}
		if err := g.sync(); err != nil {
			return err
		}
		return g.loss.Download(loss[:g.dims.S])
	})
	if err != nil {
		return fmt.Errorf("gpu: step: %w", err)
	}
	return nil
}

// Gradients writes the gradient (S, P) of masked MSE plus regularisers
// (before clipping) and each network's masked MSE, updating nothing.
func (g *Backend) Gradients(bt *tasks.Batch, h *degen.Hyper, grad []float32, loss []float32) error {
	d := g.dims
	if err := g.dims.CheckBatch(bt); err != nil {
		return fmt.Errorf("gpu: gradients: %w", err)
	}
	if err := g.dims.CheckHyper(h, false); err != nil {
		return fmt.Errorf("gpu: gradients: %w", err)
	}
	if err := degen.CheckLen("grad", grad, d.S*g.lay.P); err != nil {
		return fmt.Errorf("gpu: gradients: %w", err)
	}
	if err := degen.CheckLen("loss", loss, d.S); err != nil {
		return fmt.Errorf("gpu: gradients: %w", err)
	}
	err := g.ctx.Do(func() error {
		if err := g.gradient(bt, h, nil, 0); err != nil {
			return err
		}
		if err := g.sync(); err != nil {
			return err
		}
		if err := g.grad.Download(grad[:d.S*g.lay.P]); err != nil {
			return err
		}
		return g.loss.Download(loss[:d.S])
	})
	if err != nil {
		return fmt.Errorf("gpu: gradients: %w", err)
	}
	return nil
}

// Evaluate runs the forward pass: out (S, T, B, O), states (S, T, B, H)
// (optional) and loss (S). Batches longer than Dims().T grow the buffers.
func (g *Backend) Evaluate(bt *tasks.Batch, out, states []float32, loss []float32) error {
	d := g.dims
	if err := g.dims.CheckBatch(bt); err != nil {
		return fmt.Errorf("gpu: evaluate: %w", err)
	}
	nOut, nStates := d.S*bt.T*d.B*d.O, d.S*bt.T*d.B*d.H
	if err := degen.CheckLen("out", out, nOut); err != nil {
		return fmt.Errorf("gpu: evaluate: %w", err)
	}
	if states != nil {
		if err := degen.CheckLen("states", states, nStates); err != nil {
			return fmt.Errorf("gpu: evaluate: %w", err)
		}
	}
	if err := degen.CheckLen("loss", loss, d.S); err != nil {
		return fmt.Errorf("gpu: evaluate: %w", err)
	}
	err := g.ctx.Do(func() error {
		if err := g.upload(bt); err != nil {
			return err
		}
		if err := g.forward(bt, g.yout, nil); err != nil {
			return err
		}
		if err := g.sync(); err != nil {
			return err
		}
		if err := g.yout.Download(out[:nOut]); err != nil {
			return err
		}
		if states != nil {
			if err := g.states.Download(states[:nStates]); err != nil {
				return err
			}
		}
		return g.loss.Download(loss[:d.S])
	})
	if err != nil {
		return fmt.Errorf("gpu: evaluate: %w", err)
	}
	return nil
}

// Close frees device memory and releases the context.
func (g *Backend) Close() error {
	if g == nil || g.closed || g.ctx == nil {
		return nil
	}
	g.closed = true
	err := g.ctx.Do(func() error {
		var first error
		for _, b := range []*cuda.Buffer{g.params, g.grad, g.adamM, g.adamV, g.steps, g.gamma, g.hyper, g.loss,
			g.polar, g.x, g.y, g.mask, g.states, g.delta, g.dy, g.yout, g.gen.words} {
			if err := b.Free(); err != nil && first == nil {
				first = err
			}
		}
		for _, m := range []*cuda.Module{g.mod, g.hmod} {
			if m != nil {
				if err := m.Unload(); err != nil && first == nil {
					first = err
				}
			}
		}
		return first
	})
	if cerr := g.ctx.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gpu: close: %w", err)
	}
	return nil
}

// PTXEnv names a PTX file to load instead of the embedded kernels: for
// kernel work on a GPU host that has no Go (build the PTX with
// kernels/genptx.sh elsewhere, with the embedded kernels' entry names and
// parameters). The emulator refuses it.
const PTXEnv = "DEGEN_PTX"

// kernelSource returns the PTX to load: the embedded kernels, or PTXEnv's file.
func kernelSource() (string, error) {
	path := os.Getenv(PTXEnv)
	if path == "" {
		return kernels.PTX, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", PTXEnv, err)
	}
	return string(b), nil
}

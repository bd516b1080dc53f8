package cpu

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"degen"
	"degen/tasks"
)

// ensemble holds the parameters and Adam state of S networks with element
// type T and does the math of every Backend operation, one network at a time
// on a pool of workers.
type ensemble[T float] struct {
	d      degen.Dims
	m      degen.Model
	l      degen.Layout
	gamma  []float64 // (S) rate-cell readout scale
	stride int       // elements from one network's parameters to the next's (P rounded up to a cache line)
	params []T       // (S, stride): network s is net(params, s)
	adamM  []T       // (S, stride)
	adamV  []T       // (S, stride)
	steps  []int32   // (S)
	grad   []T       // (S, stride) gradient of the last Step or Gradients
	work   []*workspace[T]
}

// net returns network s's P elements of a per-network buffer (S, stride).
func (e *ensemble[T]) net(v []T, s int) []T { return v[s*e.stride : s*e.stride+e.l.P] }

// workspace is one worker's scratch memory for one network at a time. Every
// buffer grows on demand, so a batch may have any number of steps.
type workspace[T float] struct {
	x, y, mask []T // the network's batch slot, copied (and converted to T)
	whhT       []T // (H, H) W_hh^T, so the forward recurrence is a plain (B, H) x (H, H) product
	h          []T // (T+1, B, H) hidden states, h_0 = 0 (pre-activations of the rate cell)
	r          []T // (T+1, B, H) tanh(h) (rate cell only)
	q          []T // (T, B, H) backward: dL/d(pre-activation)
	out        []T // (T, B, O) outputs
	dy         []T // (T, B, O) dL/dy
	ones       []T // (T*B) all 1: column sums as GEMMs, db = 1^T E
}

func newEnsemble[T float](d degen.Dims, m degen.Model, gamma []float32) *ensemble[T] {
	l := degen.NewLayout(d.H, d.I, d.O)
	// Each network's parameters start on a simdAlign boundary (see alignedMake).
	var zero T
	perLine := simdAlign / int(unsafe.Sizeof(zero))
	stride := (l.P + perLine - 1) / perLine * perLine
	e := &ensemble[T]{
		d: d, m: m, l: l,
		gamma:  make([]float64, d.S),
		stride: stride,
		params: alignedMake[T](d.S * stride),
		adamM:  alignedMake[T](d.S * stride),
		adamV:  alignedMake[T](d.S * stride),
		steps:  make([]int32, d.S),
		grad:   alignedMake[T](d.S * stride),
	}
	for s, g := range gamma {
		e.gamma[s] = float64(g)
	}
	workers := min(runtime.GOMAXPROCS(0), d.S)
	for range workers {
		e.work = append(e.work, new(workspace[T]))
	}
	return e
}

// parallel calls fn(s, ws) for every network s, spreading networks over the
// workers; each worker owns one workspace.
func (e *ensemble[T]) parallel(fn func(s int, ws *workspace[T])) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, ws := range e.work {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s := int(next.Add(1)) - 1
				if s >= e.d.S {
					return
				}
				fn(s, ws)
			}
		}()
	}
	wg.Wait()
}

// network runs network s on its slot of batch bt: the forward pass over all
// bt.T steps into ws.h (and ws.r) and ws.out, and returns the masked MSE. When
// g (P) is not nil it also runs backpropagation through time and overwrites g
// with the gradient of the masked MSE (no regularisers).
//
// Vanilla, with rows b of a step stacked into (B, H) matrices:
//
//	A_t = H_{t-1} W_hh^T + X_t W_ih^T + b,  H_t = tanh(A_t),  Y_t = H_t W_out^T + b_out
//	E_t = dL/dA_t = (dY_t W_out + E_{t+1} W_hh) ⊙ (1 - H_t²)
//	dW_hh = sum_t E_t^T H_{t-1},  dW_ih = sum_t E_t^T X_t,  db = sum E,
//	dW_out = sum_t dY_t^T H_t,  db_out = sum dY.
//
// Rate, with R_t = tanh(H_t), c = 1/H and k = 1/(gamma H):
//
//	H_t = (1-tau) H_{t-1} + tau (c R_{t-1} W_hh^T + X_t W_ih^T + b),  Y_t = k R_t W_out^T + b_out
//	G_t = dL/dH_t = (1-tau) G_{t+1} + (k dY_t W_out + tau c G_{t+1} W_hh) ⊙ (1 - R_t²)
//	dW_hh = tau c sum_t G_t^T R_{t-1},  dW_ih = tau sum_t G_t^T X_t,  db = tau sum G,
//	dW_out = k sum_t dY_t^T R_t,  db_out = sum dY.
//
// The input drive, the readout, dY W_out and every weight gradient are single
// GEMMs over all T*B rows; only the (B, H) x (H, H) recurrence is sequential.
func (e *ensemble[T]) network(s int, bt *tasks.Batch, ws *workspace[T], g []T) float64 {
	l := e.l
	nB, nH, nI, nO, nT := e.d.B, e.d.H, e.d.I, e.d.O, bt.T
	bh, tb := nB*nH, nT*nB
	slot := s
	if bt.Shared() {
		slot = 0
	}
	x := load(bt.X[slot*tb*nI:(slot+1)*tb*nI], &ws.x)
	y := load(bt.Y[slot*tb*nO:(slot+1)*tb*nO], &ws.y)
	mask := load(bt.Mask[slot*tb*nO:(slot+1)*tb*nO], &ws.mask)

	p := e.net(e.params, s)
	whh, wih, b, wout, bout := p[l.Whh:l.Wih], p[l.Wih:l.Bh], p[l.Bh:l.Wout], p[l.Wout:l.Bout], p[l.Bout:l.P]

	// Forward. h[t*bh:(t+1)*bh] is H_t; act is what the readout and W_hh see.
	h := grow(&ws.h, (nT+1)*bh)
	clear(h[:bh])
	fillRows(h[bh:], b)
	gemm(false, true, tb, nH, nI, 1, x, nI, wih, nI, 1, h[bh:], nH)
	whhT := grow(&ws.whhT, nH*nH)
	for i := range nH {
		for j := range nH {
			whhT[j*nH+i] = whh[i*nH+j]
		}
	}
	act := h
	readScale := T(1)
	switch e.m.Cell {
	case degen.Rate:
		tau := T(e.m.Tau)
		r := grow(&ws.r, (nT+1)*bh)
		clear(r[:bh])
		for i := range h[bh:] {
			h[bh+i] *= tau
		}
		for t := 1; t <= nT; t++ {
			prev, cur := h[(t-1)*bh:t*bh], h[t*bh:(t+1)*bh]
			for i, v := range prev {
				cur[i] += (1 - tau) * v
			}
			gemm(false, false, nB, nH, nH, tau/T(nH), r[(t-1)*bh:t*bh], nH, whhT, nH, 1, cur, nH)
			rt := r[t*bh : (t+1)*bh]
			copy(rt, cur)
			tanhInPlace(rt)
		}
		act = r
		readScale = T(1 / (e.gamma[s] * float64(nH)))
	default:
		for t := 1; t <= nT; t++ {
			cur := h[t*bh : (t+1)*bh]
			gemm(false, false, nB, nH, nH, 1, h[(t-1)*bh:t*bh], nH, whhT, nH, 1, cur, nH)
			tanhInPlace(cur)
		}
	}
	out := grow(&ws.out, tb*nO)
	fillRows(out, bout)
	gemm(false, true, tb, nO, nH, readScale, act[bh:], nH, wout, nH, 1, out, nO)

	// Masked MSE and dL/dy = 2 M (y - target) / sum M.
	var sumM, sse float64
	for i, m := range mask {
		diff := float64(out[i]) - float64(y[i])
		sumM += float64(m)
		sse += float64(m) * diff * diff
	}
	loss := 0.0
	if sumM > 0 {
		loss = sse / sumM
	}
	if g == nil {
		return loss
	}

	// Backward.
	clear(g)
	gwhh, gwih, gb, gwout, gbout := g[l.Whh:l.Wih], g[l.Wih:l.Bh], g[l.Bh:l.Wout], g[l.Wout:l.Bout], g[l.Bout:l.P]
	dy := grow(&ws.dy, tb*nO)
	if sumM > 0 {
		c := T(2 / sumM)
		for i, m := range mask {
			dy[i] = c * m * (out[i] - y[i])
		}
	} else {
		clear(dy)
	}
	ones := grow(&ws.ones, tb)
	for i := range ones {
		ones[i] = 1
	}
	gemm(true, false, nO, nH, tb, readScale, dy, nO, act[bh:], nH, 1, gwout, nH)
	gemm(false, false, 1, nO, tb, 1, ones, tb, dy, nO, 1, gbout, nO)
	q := grow(&ws.q, tb*nH)
	gemm(false, false, tb, nH, nO, readScale, dy, nO, wout, nH, 0, q, nH)
	switch e.m.Cell {
	case degen.Rate:
		tau := T(e.m.Tau)
		r := act
		for t := nT; t >= 1; t-- {
			qt, rt := q[(t-1)*bh:t*bh], r[t*bh:(t+1)*bh]
			if t == nT {
				for i, v := range rt {
					qt[i] *= 1 - v*v
				}
				continue
			}
			next := q[t*bh : (t+1)*bh]
			gemm(false, false, nB, nH, nH, tau/T(nH), next, nH, whh, nH, 1, qt, nH)
			for i, v := range rt {
				qt[i] = qt[i]*(1-v*v) + (1-tau)*next[i]
			}
		}
		gemm(true, false, nH, nH, tb, tau/T(nH), q, nH, r[:tb*nH], nH, 1, gwhh, nH)
		gemm(true, false, nH, nI, tb, tau, q, nH, x, nI, 1, gwih, nI)
		gemm(false, false, 1, nH, tb, tau, ones, tb, q, nH, 1, gb, nH)
	default:
		for t := nT; t >= 1; t-- {
			qt, ht := q[(t-1)*bh:t*bh], h[t*bh:(t+1)*bh]
			if t < nT {
				gemm(false, false, nB, nH, nH, 1, q[t*bh:(t+1)*bh], nH, whh, nH, 1, qt, nH)
			}
			for i, v := range ht {
				qt[i] *= 1 - v*v
			}
		}
		gemm(true, false, nH, nH, tb, 1, q, nH, h[:tb*nH], nH, 1, gwhh, nH)
		gemm(true, false, nH, nI, tb, 1, q, nH, x, nI, 1, gwih, nI)
		gemm(false, false, 1, nH, tb, 1, ones, tb, q, nH, 1, gb, nH)
	}
	return loss
}

// adam applies one Adam step with PyTorch's semantics (torch.optim.Adam,
// no weight decay, no amsgrad) to parameters p with moments m, v and
// gradient g, all (P), where step is the step count after this update:
//
//	m = m + (1-beta1) (g - m)          (PyTorch's lerp)
//	v = beta2 v + (1-beta2) g²
//	p = p - lr/(1-beta1^step) * m / (sqrt(v)/sqrt(1-beta2^step) + eps)
func adam[T float](p, m, v, g []T, lr float64, step int32) {
	bc1 := 1 - math.Pow(degen.AdamBeta1, float64(step))
	bc2 := 1 - math.Pow(degen.AdamBeta2, float64(step))
	stepSize := T(lr / bc1)
	bc2Sqrt := T(math.Sqrt(bc2))
	oneMinusB1, b2, oneMinusB2, eps := T(1-degen.AdamBeta1), T(degen.AdamBeta2), T(1-degen.AdamBeta2), T(degen.AdamEps)
	for i, gi := range g {
		m[i] += oneMinusB1 * (gi - m[i])
		v[i] = b2*v[i] + oneMinusB2*gi*gi
		denom := T(math.Sqrt(float64(v[i])))/bc2Sqrt + eps
		p[i] -= stepSize * m[i] / denom
	}
}

// clip scales g (P) by c/||g||_2 when its L2 norm exceeds c > 0, as
// torch.nn.utils.clip_grad_norm_ does (without its 1e-6 guard).
func clip[T float](g []T, c float64) {
	if c <= 0 {
		return
	}
	var ss float64
	for _, v := range g {
		ss += float64(v) * float64(v)
	}
	norm := math.Sqrt(ss)
	if norm > c {
		f := T(c / norm)
		for i := range g {
			g[i] *= f
		}
	}
}

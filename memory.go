package degen

import (
	"fmt"
)

// Memory estimates of the CPU backend, in bytes, counted before anything is
// allocated so that a request that cannot fit is refused with a message
// instead of dying in the Go runtime. They count the buffers that grow with
// the problem (float32 throughout) and ignore fixed overheads; a slack of
// 25% covers the allocator and the garbage collector's headroom.

const memorySlack = 1.25

// TrainBytes estimates the memory of training S networks of dims d with
// workers threads: per network, the trainer's parameters, Adam moments and
// initial weights and the backend's parameters, moments and gradient (8
// copies of P) and two batches of inputs, targets and masks (one made while
// the other trains); per worker, the states of a batch for backpropagation
// through time.
func TrainBytes(d Dims, workers int) int64 {
	l := NewLayout(d.H, d.I, d.O)
	perNet := 8*int64(l.P) + 2*int64(d.T)*int64(d.B)*int64(d.I+2*d.O)
	return floatBytes(int64(d.S)*perNet + int64(min(workers, d.S))*workspaceFloats(d.T, d.B, d.H, d.O))
}

// EvalBytes estimates the memory of `degen eval` for S networks of dims d
// on trials trials of t steps in distribution and t2 out of distribution:
// per network, the state and the backend's copy (7 copies of P), and the
// hidden states and outputs, each twice (as computed, and reordered for
// the file); per worker, the states of a batch.
func EvalBytes(d Dims, workers, trials, t, t2 int) int64 {
	l := NewLayout(d.H, d.I, d.O)
	perNet := 7*int64(l.P) + 2*int64(trials)*(int64(t)*int64(d.H+d.O)+int64(t2)*int64(d.O))
	return floatBytes(int64(d.S)*perNet + int64(min(workers, d.S))*workspaceFloats(max(t, t2), trials, d.H, d.O))
}

// workspaceFloats is one CPU worker's scratch for a batch of b trials of t
// steps (cpu.workspace): states, tanh of states and their gradients, outputs
// and their gradients, and W_hh^T.
func workspaceFloats(t, b, h, o int) int64 {
	return 3*int64(t+1)*int64(b)*int64(h) + 2*int64(t)*int64(b)*int64(o) + int64(h)*int64(h)
}

// floatBytes converts a count of float32 values to bytes with the slack.
func floatBytes(n int64) int64 { return int64(memorySlack * 4 * float64(n)) }

// AnalyzeBytes estimates the memory of `degen analyze` on a run of S
// networks (n of them converged) of H units evaluated on trials trials of t
// steps (t2 out of distribution, o outputs): the states as read from
// states.npz (all S networks, float64) and the converged networks' copy,
// the representations (a centred copy each), the OOD outputs twice, and
// the weights; workers DSA embeddings of one network each.
func AnalyzeBytes(s, n, h, o, trials, t, t2, workers int) int64 {
	states := int64(trials) * int64(t) * int64(h)
	perNet := 3*states + 2*int64(trials)*int64(t2)*int64(o) + 2*int64(h)*int64(h)
	all := int64(s)*states + int64(n)*perNet + int64(min(workers, n))*5*states
	return int64(memorySlack * 8 * float64(all))
}

// MemoryError says that a request needs more memory than the machine has.
type MemoryError struct {
	What            string // "training", "evaluation"
	Need, Available int64
	MaxNetworks     int // the most networks that fit (0: not even one)
}

func (e *MemoryError) Error() string {
	msg := fmt.Sprintf("%s needs about %s of memory but %s is available", e.What, gib(e.Need), gib(e.Available))
	if e.MaxNetworks > 0 {
		return msg + fmt.Sprintf(": at most about %d networks fit (--seeds, or shard the ensemble with --shard i/n)", e.MaxNetworks)
	}
	if e.What == "evaluation" || e.What == "analysis" {
		return msg + fmt.Sprintf(": not even one network's %s fits (the run's eval_trials sets its size)", e.What)
	}
	return msg + ": not even one network of this size fits (lower --hidden, --batch or the trial length)"
}

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// CheckMemory returns a *MemoryError when need(s) for s networks exceeds
// available bytes, with the largest s that fits.
func CheckMemory(what string, s int, available int64, need func(s int) int64) error {
	if available <= 0 {
		return nil // unknown: do not refuse
	}
	n := need(s)
	if n <= available {
		return nil
	}
	lo, hi := 0, s // need(lo) fits or lo = 0, need(hi) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if need(mid) <= available {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 && need(1) <= available {
		lo = 1
	}
	return &MemoryError{What: what, Need: n, Available: available, MaxNetworks: lo}
}

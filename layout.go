package degen

import "fmt"

// Dims are the sizes of one ensemble step.
type Dims struct {
	S int // networks
	B int // trials per network per step
	T int // time steps
	I int // inputs
	H int // hidden units
	O int // outputs
}

// Check returns an error naming the first size that is not positive.
func (d Dims) Check() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"networks S", d.S}, {"batch B", d.B}, {"steps T", d.T}, {"inputs I", d.I}, {"hidden H", d.H}, {"outputs O", d.O}} {
		if f.v <= 0 {
			return fmt.Errorf("%s must be positive, got %d", f.name, f.v)
		}
	}
	return nil
}

// Layout is where each tensor of one network sits in the flat parameter
// vector. The ensemble's parameters are S such vectors back to back, (S, P),
// so network s owns Params[s*P : (s+1)*P]. Within a network, row-major:
//
//	W_hh  (H, H)  recurrent weights: h_i <- sum_j W_hh[i,j] h_j (J for the rate cell)
//	W_ih  (H, I)  input weights (U for the rate cell)
//	b     (H)     hidden bias
//	W_out (O, H)  readout weights
//	b_out (O)     readout bias
type Layout struct {
	H, I, O                     int
	Whh, Wih, Bh, Wout, Bout, P int // offsets of each tensor, and the total P
}

// NewLayout returns the layout for H hidden units, I inputs and O outputs.
func NewLayout(h, in, out int) Layout {
	l := Layout{H: h, I: in, O: out}
	l.Whh = 0
	l.Wih = l.Whh + h*h
	l.Bh = l.Wih + h*in
	l.Wout = l.Bh + h
	l.Bout = l.Wout + out*h
	l.P = l.Bout + out
	return l
}

// Tensor describes one named tensor of the layout.
type Tensor struct {
	Name   string // the weights.npz name: W_hh, W_ih, b, W_out, b_out
	Offset int
	Shape  []int // shape within one network
	Weight bool  // true for matrices (regularised), false for biases
}

// Tensors lists the layout's tensors in order.
func (l Layout) Tensors() []Tensor {
	return []Tensor{
		{"W_hh", l.Whh, []int{l.H, l.H}, true},
		{"W_ih", l.Wih, []int{l.H, l.I}, true},
		{"b", l.Bh, []int{l.H}, false},
		{"W_out", l.Wout, []int{l.O, l.H}, true},
		{"b_out", l.Bout, []int{l.O}, false},
	}
}

// Size returns the number of elements of a tensor in one network.
func (t Tensor) Size() int { return shapeSize(t.Shape) }

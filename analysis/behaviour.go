package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// BehaviourSummary is the behavioural degeneracy of N networks from their
// out-of-distribution losses L_s (MSE on the OOD battery):
//
//	Mean     = sum_s L_s / N
//	SigmaOOD = sqrt(sum_s (L_s - Mean)^2 / N)   (population std, numpy's default)
//	StdErr   = sqrt(sum_s (L_s - Mean)^2 / (N - 1)) / sqrt(N)   (0 when N < 2)
type BehaviourSummary struct {
	Mean     float64 `json:"mean_ood_loss"`
	SigmaOOD float64 `json:"sigma_ood"`
	StdErr   float64 `json:"stderr_ood_loss"`
	Min      float64 `json:"min_ood_loss"`
	Max      float64 `json:"max_ood_loss"`
	N        int     `json:"networks"`
}

// Behaviour summarises the OOD losses of the networks being compared (the
// converged ones). It returns an error when there are none or a loss is NaN,
// infinite or negative.
func Behaviour(oodLoss []float64) (BehaviourSummary, error) {
	if len(oodLoss) == 0 {
		return BehaviourSummary{}, fmt.Errorf("behaviour: no OOD losses")
	}
	if err := CheckFinite("behaviour: OOD loss", oodLoss); err != nil {
		return BehaviourSummary{}, err
	}
	s := BehaviourSummary{N: len(oodLoss), Min: math.Inf(1), Max: math.Inf(-1)}
	for i, l := range oodLoss {
		if l < 0 {
			return BehaviourSummary{}, fmt.Errorf("behaviour: OOD loss %d is negative (%g)", i, l)
		}
		s.Mean += l
		s.Min = math.Min(s.Min, l)
		s.Max = math.Max(s.Max, l)
	}
	s.Mean /= float64(s.N)
	var ss float64
	for _, l := range oodLoss {
		ss += (l - s.Mean) * (l - s.Mean)
	}
	s.SigmaOOD = math.Sqrt(ss / float64(s.N))
	if s.N > 1 {
		s.StdErr = math.Sqrt(ss/float64(s.N-1)) / math.Sqrt(float64(s.N))
	}
	return s, nil
}

// checkOutputs validates outputs (N, M) flattened and mask (M) or nil, and
// returns M and the number of scored elements.
func checkOutputs(what string, outputs []float64, n int, mask []float64) (int, float64, error) {
	if n < 1 {
		return 0, 0, fmt.Errorf("%s: need at least one network, got %d", what, n)
	}
	if len(outputs) == 0 || len(outputs)%n != 0 {
		return 0, 0, fmt.Errorf("%s: %d output values do not split into %d networks", what, len(outputs), n)
	}
	m := len(outputs) / n
	if err := CheckFinite(what+": outputs", outputs); err != nil {
		return 0, 0, err
	}
	weight := float64(m)
	if mask != nil {
		if len(mask) != m {
			return 0, 0, fmt.Errorf("%s: mask has %d values, want one per output element of a network (%d)", what, len(mask), m)
		}
		if err := CheckFinite(what+": mask", mask); err != nil {
			return 0, 0, err
		}
		weight = 0
		for i, w := range mask {
			if w < 0 {
				return 0, 0, fmt.Errorf("%s: mask element %d is negative (%g)", what, i, w)
			}
			weight += w
		}
		if weight == 0 {
			return 0, 0, fmt.Errorf("%s: the mask scores no element", what)
		}
	}
	return m, weight, nil
}

// MaskedMSE returns each network's mean squared error against shared
// targets: outputs is (N, K, T, O) flattened, targets and mask (K, T, O),
// and with M = K*T*O elements per network
//
//	L_s = sum_m mask_m (y_{s,m} - target_m)^2 / sum_m mask_m.
//
// A nil mask scores every element with weight 1.
func MaskedMSE(outputs []float64, n int, targets, mask []float64) ([]float64, error) {
	m, weight, err := checkOutputs("masked mse", outputs, n, mask)
	if err != nil {
		return nil, err
	}
	if len(targets) != m {
		return nil, fmt.Errorf("masked mse: targets have %d values, want %d", len(targets), m)
	}
	if err := CheckFinite("masked mse: targets", targets); err != nil {
		return nil, err
	}
	loss := make([]float64, n)
	for s := 0; s < n; s++ {
		loss[s] = maskedSquaredDiff(outputs[s*m:(s+1)*m], targets, mask) / weight
	}
	return loss, nil
}

// OutputDistances returns the (N, N) matrix of root-mean-square differences
// between networks' outputs on the same inputs: outputs is (N, K, T, O)
// flattened (for example the OOD outputs), mask (K, T, O) or nil, and
//
//	d(i, j) = sqrt(sum_m mask_m (y_{i,m} - y_{j,m})^2 / sum_m mask_m).
//
// It measures behaviour directly rather than through a loss: two networks
// can have equal OOD losses and still fail in different ways.
func OutputDistances(outputs []float64, n int, mask []float64) (*mat.SymDense, error) {
	m, weight, err := checkOutputs("output distances", outputs, n, mask)
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, fmt.Errorf("output distances: need at least two networks, got %d", n)
	}
	return Pairwise(n, func(i, j int) (float64, error) {
		return math.Sqrt(maskedSquaredDiff(outputs[i*m:(i+1)*m], outputs[j*m:(j+1)*m], mask) / weight), nil
	})
}

// maskedSquaredDiff returns sum_m mask_m (x_m - y_m)^2 over x and y of one
// length, with mask_m = 1 when mask is nil.
func maskedSquaredDiff(x, y, mask []float64) float64 {
	var sum float64
	for m, v := range x {
		d := v - y[m]
		w := 1.0
		if mask != nil {
			w = mask[m]
		}
		sum += w * d * d
	}
	return sum
}

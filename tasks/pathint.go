package tasks

import (
	"fmt"
	"math"
)

var pathIntInfo = Info{
	Name: "pathint",
	Description: "Path integration: from a random start in [-A, A]^d (given as a cue at t=0), inputs give " +
		"each step's velocity (or, with velocity=0, its heading as cos/sin of each angle and its speed); the output is the current position / A. " +
		"Steps that would leave the arena are reflected at the wall (the inputs show the reflected step). " +
		"Scored at every step. OOD: trials twice as long.",
	Knobs: []Knob{
		{Name: "dims", Default: 2, Min: 2, Max: 3, Integer: true,
			Description: "2 (heading theta, speed) or 3 (azimuth, elevation, speed)"},
		{Name: "arena", Default: 5, Min: 1e-6, Max: 1e6,
			Description: "arena half-width A: positions stay in [-A, A]^d (SCIENCE.md: 5)"},
		{Name: "speed_min", Default: 0, Min: 0, Max: 1e6,
			Description: "lowest speed, arena units per step"},
		{Name: "speed_max", Default: 0.5, Min: 0, Max: 1e6,
			Description: "highest speed, arena units per step (at most A); 0.5 gives an RMS excursion of about 3 in 100 steps, so walls are met but not constantly"},
		{Name: "steps", Default: 100, Min: 2, Max: maxSteps, Integer: true,
			Description: "trial length T (the first step is the start cue)"},
		{Name: "velocity", Default: 1, Min: 0, Max: 1, Integer: true,
			Description: "1: the inputs are the step's velocity v u / vmax per axis (as grid-cell RNNs, Sorscher et al. 2019); 0: heading cos/sin and speed apart, whose product the network must form"},
	},
}

// PathInt is the path integration task in d = dims dimensions, arena
// half-width A, speeds in [vmin, vmax].
//
// Inputs with velocity = 1 (the default, I = 2d): the step's velocity
// s_i / vmax per axis, then the start cue p_0,i / A per axis.
// Inputs with velocity = 0, 2D (I = 5): cos theta, sin theta, v/vmax, x0/A, y0/A;
// 3D (I = 8): cos phi, sin phi, cos psi, sin psi, v/vmax, x0/A, y0/A, z0/A
// (phi azimuth, psi elevation). Outputs (O = d): the position p_t / A.
//
// The velocity encoding is the default because the network then integrates
// its input; with heading and speed apart it must first multiply them, and
// no vanilla network of 32 units got below MSE 0.11 in 5,000 steps that way
// (0.2 for most), while the velocity encoding trains (bench/RESULTS.md).
//
// For each trial, the start p_0 has coordinates Uniform(-A, A, trial, 0, i, 0)
// for axis i. Step t = 0 is the cue: the start inputs carry p_0/A, the heading
// and speed inputs are 0, and the target is p_0/A. At each step t >= 1
//
//	theta (= phi) = Uniform(0, 2 pi, trial, t, 0, 0)
//	sin psi       = Uniform(-1, 1, trial, t, 1, 0)   (3D: directions uniform on the sphere)
//	v             = Uniform(vmin, vmax, trial, t, 2, 0)
//	u = (cos theta, sin theta)  or  (cos psi cos phi, cos psi sin phi, sin psi)
//
// and the step is s = v u. Where p_{t-1,i} + s_i would leave [-A, A], the
// step is reflected at that wall: s_i = -s_i, and the input that carries
// u_i's sign (s_i itself, or with velocity = 0 cos theta for x, sin theta for
// y, sin psi for z) is negated, so the inputs always describe the step
// actually taken. Then p_t = p_{t-1} + s,
// so the target is exactly the integral of the velocity the inputs give, and
// it stays inside the arena (vmax <= A makes one reflection enough). The
// start cue channels are 0 for t >= 1. Mask = 1 everywhere.
//
// Positions are divided by A so the targets lie in [-1, 1] (variance about
// 1/3 per axis): the threshold 5e-2 is then about 15% of the target variance,
// O(1)-comparable with sine's 5e-2 against its variance 1/2. Speeds are
// divided by vmax so every input is O(1). OOD trials are 2T long; their first
// T steps equal the in-distribution trial of the same key.
type PathInt struct {
	knobs    map[string]float64
	dims     int
	arena    float64
	speedMin float64
	speedMax float64
	steps    int
	velocity bool // inputs are s / vmax instead of heading and speed
}

func newPathInt(k map[string]float64) (*PathInt, error) {
	p := &PathInt{knobs: k, dims: int(k["dims"]), arena: k["arena"],
		speedMin: k["speed_min"], speedMax: k["speed_max"], steps: int(k["steps"]), velocity: k["velocity"] == 1}
	if !(p.speedMax > 0) {
		return nil, fmt.Errorf("speed_max must be positive, got %g", p.speedMax)
	}
	if p.speedMin > p.speedMax {
		return nil, fmt.Errorf("speed_min (%g) must not exceed speed_max (%g)", p.speedMin, p.speedMax)
	}
	if p.speedMax > p.arena {
		return nil, fmt.Errorf("speed_max (%g) must not exceed the arena half-width (%g)", p.speedMax, p.arena)
	}
	return p, nil
}

// Name returns "pathint".
func (p *PathInt) Name() string { return pathIntInfo.Name }

// Inputs returns 2d with the velocity encoding, else 5 in 2D and 8 in 3D.
func (p *PathInt) Inputs() int { return p.motionInputs() + p.dims }

// motionInputs is the number of inputs before the start cue: d velocities,
// or 2 (2D) or 4 (3D) heading inputs and the speed.
func (p *PathInt) motionInputs() int {
	if p.velocity {
		return p.dims
	}
	return 2*(p.dims-1) + 1
}

// Outputs returns d.
func (p *PathInt) Outputs() int { return p.dims }

// Steps returns T, or 2T for OOD trials.
func (p *PathInt) Steps(ood bool) int {
	if ood {
		return 2 * p.steps
	}
	return p.steps
}

// Threshold returns 5e-2.
func (p *PathInt) Threshold() float64 { return 5e-2 }

// Knobs returns dims, arena, speed_min, speed_max and steps.
func (p *PathInt) Knobs() map[string]float64 { return copyKnobs(p.knobs) }

// Fill writes the trials of key into slot n of b.
func (p *PathInt) Fill(b *Batch, n int, key Key, ood bool) {
	x, y, mask := slot(p, b, n, ood)
	r := NewStream(key)
	a := p.arena
	nm := p.motionInputs()
	pos := make([]float64, b.B*3) // (B, 3) positions, trial-major
	var step [3]float64
	var heading [4]float64 // 2D: cos theta, sin theta; 3D: cos phi, sin phi, cos psi, sin psi
	// Products are wrapped in float64() so Go never fuses them into a
	// multiply-add: the positions are then identical on every architecture.
	// signOf[i] is the heading input that carries the sign of u_i.
	signOf := [3]int{0, 1, 3}
	for trial := 0; trial < b.B; trial++ {
		xi, yi := trial*b.I, trial*b.O
		for i := 0; i < p.dims; i++ {
			pi := r.Uniform(-a, a, trial, 0, i, 0)
			pos[3*trial+i] = pi
			x[xi+nm+i] = float32(pi / a)
			y[yi+i], mask[yi+i] = float32(pi/a), 1
		}
	}
	for t := 1; t < b.T; t++ {
		for trial := 0; trial < b.B; trial++ {
			cell := r.At(trial, t)
			theta := cell.Uniform(0, 2*math.Pi, 0, 0)
			v := cell.Uniform(p.speedMin, p.speedMax, 2, 0)
			heading[1], heading[0] = math.Sincos(theta)
			if p.dims == 2 {
				step[0], step[1] = float64(v*heading[0]), float64(v*heading[1])
			} else {
				sinPsi := cell.Uniform(-1, 1, 1, 0)
				cosPsi := math.Sqrt(1 - float64(sinPsi*sinPsi))
				heading[2], heading[3] = cosPsi, sinPsi
				step[0], step[1], step[2] = float64(v*cosPsi*heading[0]), float64(v*cosPsi*heading[1]), float64(v*sinPsi)
			}
			at := pos[3*trial : 3*trial+3]
			for i := 0; i < p.dims; i++ {
				if next := at[i] + step[i]; next > a || next < -a {
					step[i] = -step[i]
					heading[signOf[i]] = -heading[signOf[i]]
				}
				at[i] += step[i]
			}
			xi := (t*b.B + trial) * b.I
			if p.velocity {
				for i := 0; i < p.dims; i++ {
					x[xi+i] = float32(step[i] / p.speedMax)
				}
			} else {
				nh := nm - 1
				for j := 0; j < nh; j++ {
					x[xi+j] = float32(heading[j])
				}
				x[xi+nh] = float32(v / p.speedMax)
			}
			yi := (t*b.B + trial) * b.O
			for i := 0; i < p.dims; i++ {
				y[yi+i], mask[yi+i] = float32(at[i]/a), 1
			}
		}
	}
}

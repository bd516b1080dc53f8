package tasks

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// mustNew builds a task or fails the test.
func mustNew(t testing.TB, name string, knobs map[string]float64) Task {
	t.Helper()
	tk, err := New(name, knobs)
	if err != nil {
		t.Fatalf("New(%q, %v): %v", name, knobs, err)
	}
	return tk
}

// fill returns a one-slot batch of the given trials filled with key.
func fill(t testing.TB, tk Task, trials int, key Key, ood bool) *Batch {
	t.Helper()
	b := NewBatchFor(tk, 1, trials, ood)
	if err := Generate(tk, b, []Key{key}, ood); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFlipFlopSemantics(t *testing.T) {
	for _, c := range []struct {
		bits, steps, trials int
		p                   float64
	}{
		{1, 1, 1, 0.2},
		{3, 100, 64, 0.2},
		{3, 63, 65, 0.5},
		{7, 65, 3, 0.05},
		{2, 20, 5, 1},
	} {
		name := fmt.Sprintf("bits=%d/steps=%d/B=%d/p=%g", c.bits, c.steps, c.trials, c.p)
		t.Run(name, func(t *testing.T) {
			tk := mustNew(t, "flipflop", map[string]float64{"bits": float64(c.bits), "steps": float64(c.steps), "p": c.p})
			for _, ood := range []bool{false, true} {
				b := fill(t, tk, c.trials, Key{11, 5, 9}, ood)
				pulses, cells := 0, 0
				for trial := 0; trial < b.B; trial++ {
					for ch := 0; ch < c.bits; ch++ {
						last := float32(0)
						for tt := 0; tt < b.T; tt++ {
							x := b.X[b.XAt(0, tt, trial, ch)]
							switch x {
							case 0:
							case -1, 1:
								last = x
								if tt > 0 {
									pulses++
								}
							default:
								t.Fatalf("x[%d,%d,%d] = %v, want -1, 0 or +1", tt, trial, ch, x)
							}
							if tt == 0 && x == 0 {
								t.Fatalf("trial %d channel %d: no pulse at t=0", trial, ch)
							}
							if tt > 0 {
								cells++
							}
							if y := b.Y[b.YAt(0, tt, trial, ch)]; y != last {
								t.Fatalf("y[%d,%d,%d] = %v, want the last pulse %v", tt, trial, ch, y, last)
							}
							if m := b.Mask[b.YAt(0, tt, trial, ch)]; m != 1 {
								t.Fatalf("mask[%d,%d,%d] = %v, want 1", tt, trial, ch, m)
							}
						}
					}
				}
				if cells >= 1000 {
					// The pulse rate after t=0 is p within 5 standard errors.
					rate := float64(pulses) / float64(cells)
					if se := math.Sqrt(c.p * (1 - c.p) / float64(cells)); math.Abs(rate-c.p) > 5*se+1e-12 {
						t.Errorf("ood=%v: pulse rate %.4f, want %.4f ± %.4f", ood, rate, c.p, 5*se)
					}
				}
			}
		})
	}
}

// TestFlipFlopHold pins the time scale: with hold = k, slot j of the trial
// is the step j of the k = 1 trial of the same key, stretched to k steps;
// the pulse fills its k steps, and only its last step is scored.
func TestFlipFlopHold(t *testing.T) {
	const bits, slots, trials = 3, 40, 9
	key := Key{4, 2, 7}
	one := fill(t, mustNew(t, "flipflop", map[string]float64{"bits": bits, "steps": slots}), trials, key, true)
	for _, k := range []int{2, 5, 10} {
		tk := mustNew(t, "flipflop", map[string]float64{"bits": bits, "steps": slots, "hold": float64(k)})
		if got := tk.Steps(false); got != slots*k {
			t.Fatalf("hold=%d: T = %d, want %d", k, got, slots*k)
		}
		b := fill(t, tk, trials, key, true)
		for trial := 0; trial < trials; trial++ {
			for ch := 0; ch < bits; ch++ {
				for tt := 0; tt < b.T; tt++ {
					j, last := tt/k, tt%k == k-1
					x, y, m := b.X[b.XAt(0, tt, trial, ch)], b.Y[b.YAt(0, tt, trial, ch)], b.Mask[b.YAt(0, tt, trial, ch)]
					x1, y1 := one.X[one.XAt(0, j, trial, ch)], one.Y[one.YAt(0, j, trial, ch)]
					wantMask := float32(1)
					if x1 != 0 && !last {
						wantMask = 0
					}
					if x != x1 || y != y1 || m != wantMask {
						t.Fatalf("hold=%d trial %d ch %d t=%d: x, y, mask = %v, %v, %v, want %v, %v, %v",
							k, trial, ch, tt, x, y, m, x1, y1, wantMask)
					}
				}
			}
		}
	}
	if _, err := New("flipflop", map[string]float64{"steps": maxSteps, "hold": 2}); err == nil {
		t.Error("steps x hold above the longest trial was accepted")
	}
}

func TestSineSemantics(t *testing.T) {
	for _, c := range []struct {
		knobs  map[string]float64
		trials int
	}{
		{nil, 64},
		{map[string]float64{"channels": 3, "freqs": 4, "fmin": 2, "fmax": 8, "dt": 0.01, "steps": 65}, 63},
		{map[string]float64{"freqs": 1, "steps": 7}, 5},
	} {
		t.Run(fmt.Sprint(c.knobs), func(t *testing.T) {
			s := mustNew(t, "sine", c.knobs).(*Sine)
			k := s.Knobs()
			for _, ood := range []bool{false, true} {
				b := fill(t, s, c.trials, Key{2, 8, 1}, ood)
				seen := map[int]bool{}
				for trial := 0; trial < b.B; trial++ {
					for ch := 0; ch < s.Inputs(); ch++ {
						// Find the frequency from the static input.
						x0 := b.X[b.XAt(0, 0, trial, ch)]
						idx := -1
						for j := 0; j < s.freqs; j++ {
							if float32(s.Frequency(j)/k["fmax"]) == x0 {
								idx = j
							}
						}
						if idx < 0 {
							t.Fatalf("trial %d channel %d: input %v is no frequency of the set / fmax", trial, ch, x0)
						}
						seen[idx] = true
						f := s.Frequency(idx)
						for tt := 0; tt < b.T; tt++ {
							if x := b.X[b.XAt(0, tt, trial, ch)]; x != x0 {
								t.Fatalf("input not static: x[%d] = %v, x[0] = %v", tt, x, x0)
							}
							want := math.Sin(2 * math.Pi * f * k["dt"] * float64(tt))
							if y := b.Y[b.YAt(0, tt, trial, ch)]; math.Abs(float64(y)-want) > 1e-6 {
								t.Fatalf("f=%g t=%d: y = %v, want sin(2 pi f t dt) = %v", f, tt, y, want)
							}
							if m := b.Mask[b.YAt(0, tt, trial, ch)]; m != 1 {
								t.Fatalf("mask = %v, want 1", m)
							}
						}
					}
				}
				if b.B*s.Inputs() >= 20*s.freqs && len(seen) != s.freqs {
					t.Errorf("only %d of %d frequencies drawn in %d draws", len(seen), s.freqs, b.B*s.Inputs())
				}
			}
		})
	}
	// The evenly spaced set runs from fmin to fmax inclusive.
	s := mustNew(t, "sine", nil).(*Sine)
	if got := []float64{s.Frequency(0), s.Frequency(9)}; got[0] != 1 || math.Abs(got[1]-30) > 1e-12 {
		t.Errorf("default frequency range = %v, want [1 30]", got)
	}
}

// TestSinePhase pins the time scale by the zero crossings: a 25 Hz wave at
// the default dt = 2 ms crosses zero upwards every 20 steps.
func TestSinePhase(t *testing.T) {
	s := mustNew(t, "sine", map[string]float64{"freqs": 1, "fmin": 25, "fmax": 30, "steps": 101})
	b := fill(t, s, 1, Key{}, false)
	var ups []int
	for tt := 1; tt < b.T; tt++ {
		if b.Y[tt-1] < -0.1 && b.Y[tt] > -1e-6 {
			ups = append(ups, tt)
		}
	}
	if want := []int{20, 40, 60, 80, 100}; !slices.Equal(ups, want) {
		t.Errorf("upward zero crossings at %v, want %v", ups, want)
	}
	if y := b.Y[5]; math.Abs(float64(y)-1) > 1e-6 { // quarter period
		t.Errorf("y[5] = %v, want 1", y)
	}
}

func TestDelayedSemantics(t *testing.T) {
	for _, c := range []struct {
		knobs  map[string]float64
		trials int
	}{
		{nil, 200},
		{map[string]float64{"aux": 1, "channels": 2}, 129},
		{map[string]float64{"aux": 1, "channels": 3, "delay_min": 0, "delay_max": 3, "pulse": 1, "lead": 0, "response": 1}, 127},
		{map[string]float64{"delay_min": 7, "delay_max": 7, "fmin": 0.5, "fmax": 4}, 5},
	} {
		t.Run(fmt.Sprint(c.knobs), func(t *testing.T) {
			d := mustNew(t, "delayed", c.knobs).(*Delayed)
			n := d.channels
			for _, ood := range []bool{false, true} {
				lo, hi := d.delayMin, d.delayMax
				if ood {
					lo, hi = 2*lo, 2*hi
				}
				if want := d.lead + 2*d.pulse + hi + d.response; d.Steps(ood) != want {
					t.Fatalf("Steps(%v) = %d, want %d", ood, d.Steps(ood), want)
				}
				b := fill(t, d, c.trials, Key{4, 4, 4}, ood)
				delays := map[int]bool{}
				for trial := 0; trial < b.B; trial++ {
					for ch := 0; ch < n; ch++ {
						// Read the pulses back from the input.
						var on []int
						var amp []float32
						for tt := 0; tt < b.T; tt++ {
							x := b.X[b.XAt(0, tt, trial, ch)]
							prev := float32(0)
							if tt > 0 {
								prev = b.X[b.XAt(0, tt-1, trial, ch)]
							}
							if x != 0 && (prev == 0 || len(on) == 1 && tt == on[0]+d.pulse) { // back-to-back pulses when the delay is 0
								on = append(on, tt)
								amp = append(amp, x)
							}
						}
						if len(on) != 2 {
							t.Fatalf("trial %d channel %d: %d pulse onsets %v, want 2", trial, ch, len(on), on)
						}
						if on[0] != d.lead {
							t.Fatalf("first pulse at %d, want lead %d", on[0], d.lead)
						}
						for p, o := range on {
							for tt := o; tt < o+d.pulse; tt++ {
								if x := b.X[b.XAt(0, tt, trial, ch)]; x != amp[p] {
									t.Fatalf("pulse %d not constant over its %d steps: x[%d] = %v, want %v", p, d.pulse, tt, x, amp[p])
								}
							}
							lo, hi := float32(d.fmin/d.fmax), float32(1)
							if amp[p] < lo || amp[p] > hi {
								t.Fatalf("pulse amplitude %v outside [fmin/fmax, 1] = [%v, %v]", amp[p], lo, hi)
							}
						}
						delay := on[1] - on[0] - d.pulse
						if delay < lo || delay > hi {
							t.Fatalf("delay %d outside [%d, %d]", delay, lo, hi)
						}
						delays[delay] = true
						respond := on[1] + d.pulse
						wantSign := float32(0)
						if amp[1] > amp[0] {
							wantSign = 1
						} else if amp[1] < amp[0] {
							wantSign = -1
						}
						for tt := 0; tt < b.T; tt++ {
							outs := []int{ch}
							if d.aux {
								outs = append(outs, n+ch)
							}
							for k, o := range outs {
								y, m := b.Y[b.YAt(0, tt, trial, o)], b.Mask[b.YAt(0, tt, trial, o)]
								if tt < respond {
									if y != 0 || m != 0 {
										t.Fatalf("output %d at t=%d before the response (%d): y=%v mask=%v, want 0 0", o, tt, respond, y, m)
									}
									continue
								}
								if m != 1 {
									t.Fatalf("output %d at t=%d in the response: mask=%v, want 1", o, tt, m)
								}
								want := wantSign
								if k == 1 {
									want = float32(math.Abs(float64(amp[1]) - float64(amp[0])))
								}
								if math.Abs(float64(y-want)) > 1e-6 {
									t.Fatalf("output %d at t=%d: y=%v, want %v (x1=%v x2=%v)", o, tt, y, want, amp[0], amp[1])
								}
							}
						}
					}
				}
				if b.B*n >= 40*(hi-lo+1) && (!delays[lo] || !delays[hi]) {
					t.Errorf("ood=%v: delays drawn %v do not reach both ends [%d, %d]", ood, delays, lo, hi)
				}
			}
		})
	}
}

// TestDelayedGap checks the gap: the two pulses' frequencies (read back from
// the inputs) differ by at least gap, f1 keeps its uniform draw, and the
// pairs still cover both orders and the whole range.
func TestDelayedGap(t *testing.T) {
	for _, gap := range []float64{0, 1, 3.5} {
		d := mustNew(t, "delayed", map[string]float64{"gap": gap}).(*Delayed)
		b := fill(t, d, 4000, Key{3, 1, 4}, false)
		r := NewStream(Key{3, 1, 4})
		up, lo, hi := 0, d.fmax, d.fmin
		for trial := 0; trial < b.B; trial++ {
			var pulses []float64
			for tt := 0; tt < b.T; tt++ {
				if x := float64(b.X[b.XAt(0, tt, trial, 0)]); x != 0 && (tt == 0 || b.X[b.XAt(0, tt-1, trial, 0)] == 0) {
					pulses = append(pulses, x*d.fmax)
				}
			}
			if len(pulses) != 2 {
				t.Fatalf("gap %g trial %d: %d pulses", gap, trial, len(pulses))
			}
			f1, f2 := pulses[0], pulses[1]
			if want := r.Uniform(d.fmin, d.fmax, trial, 0, 0, 0); math.Abs(f1-want) > 1e-5 {
				t.Fatalf("gap %g trial %d: f1 = %v, want the uniform draw %v", gap, trial, f1, want)
			}
			if math.Abs(f2-f1) < gap-1e-5 {
				t.Fatalf("gap %g trial %d: |f2 - f1| = %v", gap, trial, math.Abs(f2-f1))
			}
			if f2 > f1 {
				up++
			}
			lo, hi = min(lo, f2), max(hi, f2)
		}
		if frac := float64(up) / float64(b.B); math.Abs(frac-0.5) > 0.05 {
			t.Errorf("gap %g: f2 > f1 in %.3f of the trials, want about 1/2", gap, frac)
		}
		if lo > d.fmin+0.05 || hi < d.fmax-0.05 {
			t.Errorf("gap %g: f2 spans [%v, %v], want about [%v, %v]", gap, lo, hi, d.fmin, d.fmax)
		}
	}
}

func TestPathIntSemantics(t *testing.T) {
	for _, c := range []struct {
		knobs       map[string]float64
		trials      int
		wantReflect bool
	}{
		{map[string]float64{"velocity": 0}, 64, false},
		{map[string]float64{"velocity": 0, "dims": 3}, 63, false},
		{map[string]float64{"velocity": 0, "arena": 1, "speed_max": 1, "speed_min": 0.5, "steps": 65}, 65, true},
		{map[string]float64{"velocity": 0, "dims": 3, "arena": 0.5, "speed_max": 0.5, "steps": 40}, 33, true},
	} {
		t.Run(fmt.Sprint(c.knobs), func(t *testing.T) {
			p := mustNew(t, "pathint", c.knobs).(*PathInt)
			d, a, nh := p.dims, p.arena, p.motionInputs()-1
			for _, ood := range []bool{false, true} {
				b := fill(t, p, c.trials, Key{9, 1, 2}, ood)
				reflections := 0
				for trial := 0; trial < b.B; trial++ {
					var pos [3]float64
					for tt := 0; tt < b.T; tt++ {
						x := b.X[b.XAt(0, tt, trial, 0) : b.XAt(0, tt, trial, 0)+b.I]
						if tt == 0 {
							for j := 0; j <= nh; j++ {
								if x[j] != 0 {
									t.Fatalf("t=0: heading/speed input %d = %v, want 0", j, x[j])
								}
							}
							for i := 0; i < d; i++ {
								pos[i] = float64(x[nh+1+i]) * a
							}
						} else {
							for i := 0; i < d; i++ {
								if x[nh+1+i] != 0 {
									t.Fatalf("t=%d: start cue %d = %v, want 0", tt, i, x[nh+1+i])
								}
							}
							speed := float64(x[nh]) * p.speedMax
							if speed < p.speedMin-1e-6 || speed > p.speedMax+1e-6 {
								t.Fatalf("speed %v outside [%v, %v]", speed, p.speedMin, p.speedMax)
							}
							var u [3]float64
							if d == 2 {
								u[0], u[1] = float64(x[0]), float64(x[1])
							} else {
								if x[2] < 0 {
									t.Fatalf("cos(elevation) = %v < 0", x[2])
								}
								u[0], u[1], u[2] = float64(x[2]*x[0]), float64(x[2]*x[1]), float64(x[3])
							}
							if norm := math.Sqrt(u[0]*u[0] + u[1]*u[1] + u[2]*u[2]); math.Abs(norm-1) > 1e-5 {
								t.Fatalf("heading inputs %v give |u| = %v, want 1", x[:nh], norm)
							}
							for i := 0; i < d; i++ {
								pos[i] += speed * u[i]
							}
						}
						for i := 0; i < d; i++ {
							y := float64(b.Y[b.YAt(0, tt, trial, i)])
							if math.Abs(y) > 1+1e-6 {
								t.Fatalf("trial %d t=%d axis %d: position/A = %v outside the arena", trial, tt, i, y)
							}
							if math.Abs(pos[i]/a-y) > 1e-5*float64(tt+1) {
								t.Fatalf("trial %d t=%d axis %d: target %v, integrated inputs give %v", trial, tt, i, y, pos[i]/a)
							}
							if b.Mask[b.YAt(0, tt, trial, i)] != 1 {
								t.Fatalf("mask != 1")
							}
						}
					}
				}
				// Count reflections independently: a fresh draw of the step
				// from the stream, compared with the heading actually input.
				s := NewStream(Key{9, 1, 2})
				for trial := 0; trial < b.B; trial++ {
					for tt := 1; tt < b.T; tt++ {
						theta := s.Uniform(0, 2*math.Pi, trial, tt, 0, 0)
						if float32(math.Cos(theta)) != b.X[b.XAt(0, tt, trial, 0)] || float32(math.Sin(theta)) != b.X[b.XAt(0, tt, trial, 1)] {
							reflections++
						}
					}
				}
				if c.wantReflect && reflections == 0 {
					t.Errorf("ood=%v: no step was reflected in a small arena", ood)
				}
			}
		})
	}
}

// TestPathIntVelocity checks the default encoding: the inputs are the step
// actually taken (reflections included) divided by vmax, so summing them
// from the start cue gives the target, and each step's length lies in
// [vmin, vmax].
func TestPathIntVelocity(t *testing.T) {
	for _, knobs := range []map[string]float64{
		nil,
		{"dims": 3},
		{"arena": 1, "speed_max": 1, "speed_min": 0.5, "steps": 65},
		{"dims": 3, "arena": 0.5, "speed_max": 0.5, "steps": 40},
	} {
		t.Run(fmt.Sprint(knobs), func(t *testing.T) {
			p := mustNew(t, "pathint", knobs).(*PathInt)
			d, a := p.dims, p.arena
			if p.Inputs() != 2*d {
				t.Fatalf("I = %d, want 2d = %d", p.Inputs(), 2*d)
			}
			b := fill(t, p, 33, Key{9, 1, 2}, true)
			for trial := 0; trial < b.B; trial++ {
				var pos [3]float64
				for tt := 0; tt < b.T; tt++ {
					x := b.X[b.XAt(0, tt, trial, 0) : b.XAt(0, tt, trial, 0)+b.I]
					norm := 0.0
					for i := 0; i < d; i++ {
						if tt == 0 {
							pos[i] = float64(x[d+i]) * a
						} else {
							pos[i] += float64(x[i]) * p.speedMax
							norm += float64(x[i]) * float64(x[i]) * p.speedMax * p.speedMax
							if x[d+i] != 0 {
								t.Fatalf("t=%d: start cue %d = %v, want 0", tt, i, x[d+i])
							}
						}
						if y := float64(b.Y[b.YAt(0, tt, trial, i)]); math.Abs(pos[i]/a-y) > 1e-5*float64(tt+1) {
							t.Fatalf("trial %d t=%d axis %d: target %v, integrated inputs give %v", trial, tt, i, y, pos[i]/a)
						}
					}
					if speed := math.Sqrt(norm); tt > 0 && (speed < p.speedMin-1e-5 || speed > p.speedMax+1e-5) {
						t.Fatalf("t=%d: step length %v outside [%v, %v]", tt, speed, p.speedMin, p.speedMax)
					}
				}
			}
		})
	}
}

func TestOODLengths(t *testing.T) {
	for _, c := range []struct {
		name    string
		knobs   map[string]float64
		id, ood int
	}{
		{"flipflop", nil, 100, 200},
		{"flipflop", map[string]float64{"steps": 63}, 63, 126},
		{"sine", nil, 100, 200},
		{"flipflop", map[string]float64{"steps": 30, "hold": 4}, 120, 240},
		{"pathint", map[string]float64{"steps": 65}, 65, 130},
		{"delayed", nil, 5 + 10 + 20 + 10, 5 + 10 + 40 + 10},
		{"delayed", map[string]float64{"delay_max": 40, "pulse": 2, "lead": 0, "response": 3}, 2*2 + 40 + 3, 2*2 + 80 + 3},
	} {
		tk := mustNew(t, c.name, c.knobs)
		if got := tk.Steps(false); got != c.id {
			t.Errorf("%s %v: Steps(false) = %d, want %d", c.name, c.knobs, got, c.id)
		}
		if got := tk.Steps(true); got != c.ood {
			t.Errorf("%s %v: Steps(true) = %d, want %d", c.name, c.knobs, got, c.ood)
		}
		if b := NewBatchFor(tk, 2, 3, true); b.T != c.ood || b.N != 2 || b.B != 3 || b.I != tk.Inputs() || b.O != tk.Outputs() {
			t.Errorf("%s: NewBatchFor(ood) = N=%d B=%d T=%d I=%d O=%d", c.name, b.N, b.B, b.T, b.I, b.O)
		}
	}
}

// TestOODPrefix checks the documented property that OOD trials of the tasks
// whose OOD variant only lengthens the trial begin with the in-distribution
// trial of the same key.
func TestOODPrefix(t *testing.T) {
	for _, name := range []string{"flipflop", "sine", "pathint"} {
		tk := mustNew(t, name, nil)
		id, ood := fill(t, tk, 5, Key{1, 2, 3}, false), fill(t, tk, 5, Key{1, 2, 3}, true)
		if !slices.Equal(id.X, ood.X[:len(id.X)]) || !slices.Equal(id.Y, ood.Y[:len(id.Y)]) {
			t.Errorf("%s: OOD trials do not begin with the in-distribution trials", name)
		}
	}
}

// allTasks returns every task at its defaults and at a non-default setting.
func allTasks(t testing.TB) []Task {
	return []Task{
		mustNew(t, "flipflop", nil),
		mustNew(t, "flipflop", map[string]float64{"bits": 5, "p": 0.5, "steps": 33}),
		mustNew(t, "sine", map[string]float64{"channels": 2, "steps": 50}),
		mustNew(t, "delayed", map[string]float64{"aux": 1, "channels": 2}),
		mustNew(t, "pathint", map[string]float64{"dims": 3, "steps": 30}),
		mustNew(t, "pathint", nil),
	}
}

func TestDeterminism(t *testing.T) {
	for _, tk := range allTasks(t) {
		for _, ood := range []bool{false, true} {
			a, b := fill(t, tk, 7, Key{3, 9, 27}, ood), fill(t, tk, 7, Key{3, 9, 27}, ood)
			if !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) || !slices.Equal(a.Mask, b.Mask) {
				t.Errorf("%s ood=%v: the same key gave different trials", tk.Name(), ood)
			}
			for _, other := range []Key{{4, 9, 27}, {3, 10, 27}, {3, 9, 28}} {
				c := fill(t, tk, 7, other, ood)
				if slices.Equal(a.X, c.X) && slices.Equal(a.Y, c.Y) {
					t.Errorf("%s ood=%v: keys %v and %v gave identical trials", tk.Name(), ood, Key{3, 9, 27}, other)
				}
			}
		}
	}
}

// TestEnsembleIndependence checks that network k's trials are the same
// whether it trains alone or in any slot of an ensemble of 7, that every slot
// is fully written (NaN guards everywhere beforehand), and that the first
// trials do not depend on the batch size B.
func TestEnsembleIndependence(t *testing.T) {
	keys := make([]Key, 7)
	for i := range keys {
		keys[i] = Key{Seed: 17, Network: uint64(100 + 3*i), Step: 5}
	}
	perm := []int{4, 0, 6, 2, 5, 1, 3}
	for _, tk := range allTasks(t) {
		for _, ood := range []bool{false, true} {
			ens := NewBatchFor(tk, len(keys), 9, ood)
			nan := float32(math.NaN())
			for _, a := range [][]float32{ens.X, ens.Y, ens.Mask} {
				for i := range a {
					a[i] = nan
				}
			}
			permuted := make([]Key, len(keys))
			for slot, k := range perm {
				permuted[slot] = keys[k]
			}
			if err := Generate(tk, ens, permuted, ood); err != nil {
				t.Fatal(err)
			}
			nx, ny := ens.T*ens.B*ens.I, ens.T*ens.B*ens.O
			for slot, k := range perm {
				alone := fill(t, tk, 9, keys[k], ood)
				if !slices.Equal(alone.X, ens.X[slot*nx:(slot+1)*nx]) || !slices.Equal(alone.Y, ens.Y[slot*ny:(slot+1)*ny]) ||
					!slices.Equal(alone.Mask, ens.Mask[slot*ny:(slot+1)*ny]) {
					t.Errorf("%s ood=%v: network %d differs between slot %d of 7 and an ensemble of 1", tk.Name(), ood, k, slot)
				}
			}
			// Fewer trials: the same first trials.
			small := fill(t, tk, 2, keys[0], ood)
			big := fill(t, tk, 9, keys[0], ood)
			for tt := 0; tt < small.T; tt++ {
				for trial := 0; trial < 2; trial++ {
					xs, xb := small.XAt(0, tt, trial, 0), big.XAt(0, tt, trial, 0)
					ys, yb := small.YAt(0, tt, trial, 0), big.YAt(0, tt, trial, 0)
					if !slices.Equal(small.X[xs:xs+small.I], big.X[xb:xb+big.I]) || !slices.Equal(small.Y[ys:ys+small.O], big.Y[yb:yb+big.O]) {
						t.Fatalf("%s ood=%v: trial %d differs between B=2 and B=9", tk.Name(), ood, trial)
					}
				}
			}
		}
	}
}

// TestFillLeavesOtherSlots checks that Fill writes only its own slot.
func TestFillLeavesOtherSlots(t *testing.T) {
	for _, tk := range allTasks(t) {
		b := NewBatchFor(tk, 3, 4, false)
		for _, a := range [][]float32{b.X, b.Y, b.Mask} {
			for i := range a {
				a[i] = float32(math.NaN())
			}
		}
		tk.Fill(b, 1, Key{1, 1, 1}, false)
		nx, ny := b.T*b.B*b.I, b.T*b.B*b.O
		for _, part := range []struct {
			a    []float32
			size int
		}{{b.X, nx}, {b.Y, ny}, {b.Mask, ny}} {
			for i, v := range part.a {
				inSlot := i >= part.size && i < 2*part.size
				if inSlot == math.IsNaN(float64(v)) {
					t.Fatalf("%s: element %d (slot %d) = %v", tk.Name(), i, i/part.size, v)
				}
			}
		}
	}
}

// TestSharedMode checks a batch of N = 1 shared by all networks.
func TestSharedMode(t *testing.T) {
	for _, tk := range allTasks(t) {
		b := NewBatchFor(tk, 1, 64, false)
		if !b.Shared() {
			t.Fatalf("N=1 batch not Shared")
		}
		if err := Generate(tk, b, []Key{{Seed: 1, Network: 0, Step: 3}}, false); err != nil {
			t.Fatal(err)
		}
		if err := b.Check(); err != nil {
			t.Fatal(err)
		}
		scored := 0
		for _, m := range b.Mask {
			if m == 1 {
				scored++
			}
		}
		if scored == 0 {
			t.Errorf("%s: shared batch has nothing scored", tk.Name())
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	ff := mustNew(t, "flipflop", nil)
	for _, c := range []struct {
		name string
		b    *Batch
		keys []Key
	}{
		{"too few keys", NewBatchFor(ff, 2, 4, false), []Key{{}}},
		{"OOD batch for in-distribution trials", NewBatchFor(ff, 1, 4, true), []Key{{}}},
		{"wrong inputs", NewBatch(1, 4, 100, 2, 3), []Key{{}}},
		{"short arrays", &Batch{N: 1, B: 4, T: 100, I: 3, O: 3}, []Key{{}}},
	} {
		if err := Generate(ff, c.b, c.keys, false); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

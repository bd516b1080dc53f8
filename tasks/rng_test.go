package tasks

import (
	"math"
	"testing"
)

// TestMix64SplitMix64 checks mix64 against the published SplitMix64 sequence
// for seed 0 (state advances by golden, output mix64(state)).
func TestMix64SplitMix64(t *testing.T) {
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	state := uint64(0)
	for i, w := range want {
		state += golden
		if got := mix64(state); got != w {
			t.Errorf("splitmix64(0) output %d = %#x, want %#x", i, got, w)
		}
	}
}

// TestStreamMatchesSpec recomputes words straight from the formula in
// Stream's doc comment, written out with no helper, so the code and the
// specification a CUDA port follows cannot drift apart.
func TestStreamMatchesSpec(t *testing.T) {
	fin := func(z uint64) uint64 {
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	const g = 0x9e3779b97f4a7c15
	for _, c := range []struct {
		key                      Key
		trial, time, chann, draw int
	}{
		{Key{0, 0, 0}, 0, 0, 0, 0},
		{Key{1, 2, 3}, 4, 5, 6, 7},
		{Key{42, 7, EvalStep}, 63, 99, 2, 1},
		{Key{^uint64(0), 1 << 40, 12345}, 65, 1 << 16, 255, 3},
		{Key{5, 6, 7}, -1, 0, 0, 0}, // counters are taken modulo 2^32
	} {
		h := fin((0 ^ c.key.Seed) + g)
		h = fin((h ^ c.key.Network) + g)
		h = fin((h ^ c.key.Step) + g)
		if got := NewStream(c.key).Key(); got != h {
			t.Errorf("%+v: Key = %#x, want %#x", c, got, h)
		}
		h = fin((h ^ (uint64(uint32(c.trial))<<32 | uint64(uint32(c.time)))) + g)
		want := fin((h ^ (uint64(uint32(c.chann))<<32 | uint64(uint32(c.draw)))) + g)
		s := NewStream(c.key)
		if got := s.Uint64(c.trial, c.time, c.chann, c.draw); got != want {
			t.Errorf("%+v: Uint64 = %#x, want %#x", c, got, want)
		}
		if got, w := s.Float64(c.trial, c.time, c.chann, c.draw), float64(want>>11)/(1<<53); got != w {
			t.Errorf("%+v: Float64 = %v, want %v", c, got, w)
		}
		if got, w := s.Float32(c.trial, c.time, c.chann, c.draw), float32(want>>40)/(1<<24); got != w {
			t.Errorf("%+v: Float32 = %v, want %v", c, got, w)
		}
	}
}

// TestStreamKeySensitivity checks that each part of the key and each counter
// changes the word.
func TestStreamKeySensitivity(t *testing.T) {
	base := NewStream(Key{1, 2, 3}).Uint64(4, 5, 6, 7)
	for name, got := range map[string]uint64{
		"seed":    NewStream(Key{2, 2, 3}).Uint64(4, 5, 6, 7),
		"network": NewStream(Key{1, 3, 3}).Uint64(4, 5, 6, 7),
		"step":    NewStream(Key{1, 2, 4}).Uint64(4, 5, 6, 7),
		"trial":   NewStream(Key{1, 2, 3}).Uint64(5, 5, 6, 7),
		"time":    NewStream(Key{1, 2, 3}).Uint64(4, 6, 6, 7),
		"channel": NewStream(Key{1, 2, 3}).Uint64(4, 5, 7, 7),
		"draw":    NewStream(Key{1, 2, 3}).Uint64(4, 5, 6, 8),
		"swapped": NewStream(Key{2, 1, 3}).Uint64(4, 5, 6, 7),
	} {
		if got == base {
			t.Errorf("changing the %s leaves the word unchanged", name)
		}
	}
}

// TestStreamMoments checks the uniforms, normals and Intn against their
// distributions within 5 standard errors, over counters laid out as tasks use
// them (neighbouring trials, steps and draws), for a few keys.
func TestStreamMoments(t *testing.T) {
	const nTrial, nTime = 64, 250 // 16000 draws per key and draw index
	for _, key := range []Key{{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {7, 3, EvalStep}} {
		s := NewStream(key)
		var sumU, sumU2, sum32, sumZ, sumZ2, sumZ4, lag float64
		count := make([]int, 5)
		prev := 0.0
		n := 0
		for trial := 0; trial < nTrial; trial++ {
			for tt := 0; tt < nTime; tt++ {
				u := s.Float64(trial, tt, 0, 0)
				if u < 0 || u >= 1 {
					t.Fatalf("%+v: Float64 = %v outside [0, 1)", key, u)
				}
				f := s.Float32(trial, tt, 0, 1)
				if f < 0 || f >= 1 {
					t.Fatalf("%+v: Float32 = %v outside [0, 1)", key, f)
				}
				z := s.Normal(trial, tt, 1, 0)
				if math.IsNaN(z) || math.IsInf(z, 0) {
					t.Fatalf("%+v: Normal = %v", key, z)
				}
				count[s.Intn(5, trial, tt, 2, 0)]++
				sumU += u
				sumU2 += u * u
				sum32 += float64(f)
				sumZ += z
				sumZ2 += z * z
				sumZ4 += z * z * z * z
				lag += (u - 0.5) * (prev - 0.5)
				prev = u
				n++
			}
		}
		fn := float64(n)
		se := 5 / math.Sqrt(fn)
		check := func(name string, got, want, sd float64) {
			t.Helper()
			if math.Abs(got-want) > sd*se {
				t.Errorf("%+v: %s = %.5f, want %.5f ± %.5f", key, name, got, want, sd*se)
			}
		}
		check("mean U", sumU/fn, 0.5, math.Sqrt(1.0/12))
		check("mean U^2", sumU2/fn, 1.0/3, math.Sqrt(4.0/45))
		check("mean Float32", sum32/fn, 0.5, math.Sqrt(1.0/12))
		check("lag-1 covariance of U", lag/fn, 0, 1.0/12)
		check("mean Z", sumZ/fn, 0, 1)
		check("mean Z^2", sumZ2/fn, 1, math.Sqrt(2))
		check("mean Z^4", sumZ4/fn, 3, math.Sqrt(96))
		for k, c := range count {
			check("Intn(5) frequency of "+string(rune('0'+k)), float64(c)/fn, 0.2, math.Sqrt(0.16))
		}
	}
}

// TestIntnEdges checks Intn's range at its ends, including n = 1.
func TestIntnEdges(t *testing.T) {
	s := NewStream(Key{3, 1, 4})
	for _, n := range []int{1, 2, 3, 16, 1 << 20} {
		for trial := 0; trial < 200; trial++ {
			if k := s.Intn(n, trial, 0, 0, 0); k < 0 || k >= n {
				t.Fatalf("Intn(%d) = %d", n, k)
			}
		}
	}
}

package tasks

import "math"

// golden is 2^64 / phi, the SplitMix64 increment.
const golden uint64 = 0x9e3779b97f4a7c15

// mix64 is the SplitMix64 finaliser (Stafford's variant 13), a bijection on
// 64-bit words with full avalanche:
//
//	z ^= z >> 30; z *= 0xbf58476d1ce4e5b9
//	z ^= z >> 27; z *= 0x94d049bb133111eb
//	z ^= z >> 31
//
// All arithmetic is modulo 2^64.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// absorb folds one 64-bit word v into the hash state h:
//
//	absorb(h, v) = mix64((h ^ v) + golden)
func absorb(h, v uint64) uint64 { return mix64((h ^ v) + golden) }

// Stream is a stateless counter-based random generator for one Key. Every
// value is a pure function of the key and the counters of the draw, so any
// draw can be made in any order, on any core or on a GPU, with the same bits.
//
// The algorithm, exactly (all words uint64, arithmetic modulo 2^64):
//
//	key     = absorb(absorb(absorb(0, Seed), Network), Step)
//	Uint64(trial, t, channel, draw) =
//	          absorb(absorb(key, trial<<32 | t), channel<<32 | draw)
//
// where each counter is taken modulo 2^32 (uint32(c)). From a word x:
//
//	Float64 = (x >> 11) * 2^-53                  in [0, 1), exact in float64
//	Float32 = (x >> 40) * 2^-24                  in [0, 1), exact in float32
//	Uniform(lo, hi) = lo + round((hi - lo) * Float64)   (no fused multiply-add)
//	Intn(n) = min(floor(Float64 * n), n - 1)     in {0, ..., n-1}
//	Normal  = sqrt(-2 ln(1 - u1)) * cos(2 pi u2)  (Box–Muller, float64)
//	          u1 = Float64 of x, u2 = Float64 of mix64(x + golden)
//
// The words, the uniforms, Uniform and Intn are bit-exact on every platform
// that has 64-bit integer multiplication and IEEE double arithmetic (a CUDA
// port needs unsigned long long arithmetic, and __dmul_rn/__dadd_rn where a
// product meets a sum, since nvcc fuses multiply-adds by default). Normals use
// log, sqrt and cos, whose last bit may differ between math libraries (Go's
// pure-Go log and cos give the same bits on amd64 and arm64).
//
// A task names each of its random quantities by a fixed (channel, draw)
// pair, so draws never collide, and a trial's values do not depend on the
// batch size B, the slot the network sits in, or the ensemble size.
type Stream struct {
	key uint64
}

// NewStream returns the stream of key k.
func NewStream(k Key) Stream {
	return Stream{key: absorb(absorb(absorb(0, k.Seed), k.Network), k.Step)}
}

// Key returns the stream's key word, absorb(absorb(absorb(0, Seed), Network), Step):
// with it, Uint64 and everything drawn from it can be computed elsewhere (a
// GPU kernel) from the algorithm above alone.
func (s Stream) Key() uint64 { return s.key }

// counters packs two counters into one word: uint32(hi)<<32 | uint32(lo).
func counters(hi, lo int) uint64 { return uint64(uint32(hi))<<32 | uint64(uint32(lo)) }

// Uint64 returns the random word for the given counters.
func (s Stream) Uint64(trial, t, channel, draw int) uint64 {
	return s.At(trial, t).Uint64(channel, draw)
}

// Cell is a Stream with the trial and time counters absorbed, for drawing
// many channels of one step: s.At(trial, t).Uint64(c, d) == s.Uint64(trial, t, c, d).
type Cell struct {
	h uint64
}

// At returns the cell of (trial, t): absorb(key, trial<<32 | t).
func (s Stream) At(trial, t int) Cell { return Cell{h: absorb(s.key, counters(trial, t))} }

// Uint64 returns the word absorb(cell, channel<<32 | draw).
func (c Cell) Uint64(channel, draw int) uint64 { return absorb(c.h, counters(channel, draw)) }

// Float64 returns a uniform value in [0, 1), as Stream.Float64.
func (c Cell) Float64(channel, draw int) float64 { return wordFloat64(c.Uint64(channel, draw)) }

// Uniform returns a value uniform in [lo, hi), as Stream.Uniform.
func (c Cell) Uniform(lo, hi float64, channel, draw int) float64 {
	// float64() rounds the product, so no architecture fuses it into a
	// multiply-add and the result is the same bits everywhere.
	return lo + float64((hi-lo)*c.Float64(channel, draw))
}

// Float64 returns a uniform value in [0, 1): (x >> 11) * 2^-53.
func (s Stream) Float64(trial, t, channel, draw int) float64 {
	return wordFloat64(s.Uint64(trial, t, channel, draw))
}

// Float32 returns a uniform value in [0, 1): (x >> 40) * 2^-24.
func (s Stream) Float32(trial, t, channel, draw int) float32 {
	return float32(s.Uint64(trial, t, channel, draw)>>40) * (1.0 / (1 << 24))
}

// Uniform returns a value uniform in [lo, hi): lo + round((hi - lo) * Float64),
// the product rounded to float64 before the sum (no fused multiply-add; a
// CUDA port uses __dmul_rn and __dadd_rn).
func (s Stream) Uniform(lo, hi float64, trial, t, channel, draw int) float64 {
	return s.At(trial, t).Uniform(lo, hi, channel, draw)
}

// Intn returns an integer uniform in {0, ..., n-1}: floor(Float64 * n),
// clamped to n-1 (n must be positive and below 2^53 for exact uniformity).
func (s Stream) Intn(n int, trial, t, channel, draw int) int {
	k := int(s.Float64(trial, t, channel, draw) * float64(n))
	return min(k, n-1)
}

// Normal returns a standard normal value by Box–Muller:
// sqrt(-2 ln(1 - u1)) * cos(2 pi u2), u1 = Float64 of the word x of these
// counters, u2 = Float64 of mix64(x + golden). 1 - u1 lies in (0, 1], so the
// logarithm is finite.
func (s Stream) Normal(trial, t, channel, draw int) float64 {
	x := s.Uint64(trial, t, channel, draw)
	u1 := wordFloat64(x)
	u2 := wordFloat64(mix64(x + golden))
	return math.Sqrt(-2*math.Log(1-u1)) * math.Cos(2*math.Pi*u2)
}

// wordFloat64 maps a word to [0, 1): (x >> 11) * 2^-53.
func wordFloat64(x uint64) float64 { return float64(x>>11) * (1.0 / (1 << 53)) }

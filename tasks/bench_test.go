package tasks

import (
	"fmt"
	"testing"
)

// benchmarkGenerate times Generate for S networks of B = 64 trials at the
// task's defaults.
func benchmarkGenerate(b *testing.B, name string, s int) {
	tk := mustNew(b, name, nil)
	batch := NewBatchFor(tk, s, 64, false)
	keys := make([]Key, s)
	for i := range keys {
		keys[i] = Key{Seed: 1, Network: uint64(i)}
	}
	b.SetBytes(int64(4 * (len(batch.X) + 2*len(batch.Y))))
	for i := 0; b.Loop(); i++ {
		for n := range keys {
			keys[n].Step = uint64(i)
		}
		if err := Generate(tk, batch, keys, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, name := range Names() {
		for _, s := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/S=%d", name, s), func(b *testing.B) { benchmarkGenerate(b, name, s) })
		}
	}
}

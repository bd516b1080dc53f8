//go:build !amd64 || purego

package cpu

// tanhSlice32 sets v[i] = tanh32(v[i]).
func tanhSlice32(v []float32) {
	for i, x := range v {
		v[i] = tanh32(x)
	}
}

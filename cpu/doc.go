// Package cpu is the CPU implementation of degen.Backend: the numerical
// reference every other backend is checked against, and the fallback where
// no GPU is present.
//
// The math is generic over the element type. New gives the float32
// training backend; NewFloat64 the float64 reference used by the gradient
// checks and by the conformance suite (package cputest). Both exchange
// float32 with the caller (TrainState, batches, outputs).
//
// Every operation runs all S networks, spread over GOMAXPROCS goroutines, one
// network per goroutine at a time. Within a network the input drive
// X W_ih^T, the readout, dY W_out and every weight gradient
// (dW_hh = sum_t E_t^T H_{t-1}, ...) are single GEMMs over all T*B rows; only
// the (B, H) x (H, H) recurrence is a loop over t (see ensemble.network for
// the equations of both cells). Networks share no memory, so a NaN or Inf in
// one network never reaches another.
//
// Choices a caller may rely on:
//   - Batches may have any number of steps T, longer or shorter than
//     Dims().T (out-of-distribution trials are twice as long); scratch
//     memory grows to fit and stays allocated. A batch with N = 1 is shared
//     by all networks.
//   - Output slices must be at least as long as needed; only the prefix is
//     written.
//   - L1 uses the subgradient sign(w), 0 at w = 0, on W_hh, W_ih and W_out.
//     The nuclear-norm gradient is U V^T from a thin SVD of W_hh in float64
//     (gonum mat.SVD; LAPACK dgesdd from OpenBLAS under -tags openblas);
//     if the SVD fails (NaN or Inf), that network's W_hh gradient becomes
//     NaN and the training loop sees it diverge.
//   - Clipping scales a network's whole gradient (all its parameters,
//     regularisers included) by c/||g||_2 when ||g||_2 > c.
//   - Adam follows torch.optim.Adam (lerp first moment, bias corrections
//     from each network's own step count); frozen networks (active false)
//     skip backpropagation and keep parameters, moments and step count bit
//     for bit.
//   - float32 tanh is a rational approximation within 5e-7 relative
//     (tanh32); float64 uses math.Tanh. Losses accumulate in float64; bias
//     gradients are column sums done as GEMMs (db = 1^T E).
//   - A Backend is not safe for concurrent use.
//
// The float32 GEMM (BLAS names the one in use):
//   - default on amd64: Go-assembly AVX2/FMA kernels (4x16 and 1x16 tiles,
//     256-deep blocks) for the large products, gonum's pure-Go BLAS for
//     thin ones (an output with fewer than 16 columns and rows stored
//     row-wise) and on CPUs without AVX2 or FMA; no cgo.
//   - -tags purego (or other architectures): gonum's pure-Go BLAS only,
//     about six times slower.
//   - -tags openblas: OpenBLAS through cgo (package cpu/internal/openblas),
//     single-threaded; needs Debian's libopenblas-dev. About as fast as the
//     default on 2-core machines.
//
// float64 always uses gonum's pure-Go BLAS: it is the reference, not the
// fast path.
package cpu

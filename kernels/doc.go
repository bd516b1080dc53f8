// Package kernels owns degen's CUDA C sources (rnn.cu), the PTX generated
// from them (rnn.ptx, made by `make ptx`, committed, never edited by hand) and
// the parameter lists of its kernels (Signatures).
//
// The package has no cgo and no build tag: it only embeds text, so CI can
// check the committed PTX against Signatures on a machine without a GPU. The
// cuda package checks every launch's Go arguments against Signatures, so a
// launcher whose arguments drift from the kernel fails with an error instead
// of corrupting memory.
package kernels

// kernels.cu is the one translation unit of degen's kernels: kernels/genptx.sh
// compiles it to kernels/kernels.ptx (embedded in the GPU binary), and the
// CPU emulator (cuda/emu.cc) compiles it with a host C++ compiler.
#include "rnn.cu"
#include "tasks.cu"
#include "probe.cu"

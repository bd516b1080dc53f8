"""patch.py copies kernels/*.cu and *.cuh into a folder and adds, to its copy
of rnn.cu, compile-time switches that remove one part of the sequence
kernels, for timing only (the results are wrong):

  A_NOREADOUT  the forward's readout (readoutStep after the step's barrier, readoutTile)
  A_NOSTATES   the forward's stores of h_t to global memory
  A_NOTANH     tanhf replaced by the identity
  A_NOGEMM     every tileGemm and mmaGemm3x (accumulators left at zero)
  A_1XTF32     one TF32 product instead of three in mmaGemm3x

Usage: python3 patch.py OUTDIR. It stops with an error when a pattern it
looks for is not in rnn.cu (the kernels changed: update the pattern)."""
import pathlib
import re
import shutil
import sys

root = pathlib.Path(__file__).resolve().parents[3]
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
for f in list((root / "kernels").glob("*.cu")) + list((root / "kernels").glob("*.cuh")):
    shutil.copy(f, out / f.name)
s = (out / "rnn.cu").read_text()


def guard(pattern, macro, count, negate=True, flags=0):
    global s
    s, n = re.subn(pattern, lambda m: ("#ifndef " if negate else "#ifdef ") + macro + "\n" + m.group(0) + "#endif\n", s, flags=flags)
    if n != count:
        sys.exit(f"patch.py: {macro}: found {n} matches of its pattern, want {count}")


# The readout phase (rnn_forward's fallback) and the barrier after it (forwardMma).
guard(r"^ *readoutStep\(Anext[^;]*;\n(?: *__syncthreads\(\);\n)?", "A_NOREADOUT", 2, flags=re.M)
# rnn_forward's in-register readout (8x8 tiles).
guard(r"^ *if \(inTile\)\n *readoutTile<R>\([^;]*;\n", "A_NOREADOUT", 1, flags=re.M)
# rnn_forward's state store, and forwardMma's block of them.
guard(r"^ *if \(live && i0 < H\) store4\(grow \+ i0, hv, H - i0, vec\);\n", "A_NOSTATES", 1, flags=re.M)
guard(r"^( *)if \(b < nb\) \{\n\1    float\* grow = states[^\n]*\n(?:.*\n)*?\1\}\n", "A_NOSTATES", 1, flags=re.M)
# tanh as the identity.
s = s.replace('#include "compat.cuh"', '#include "compat.cuh"\n#ifdef A_NOTANH\n#define tanhf(x) (x)\n#endif', 1)
# No GEMM: tileGemm returns zeros; mmaGemm3x returns after zeroing its accumulators.
n = s.count("const float* Bm, int ldb, int qc, int halfC, int K) {")
if n != 1:
    sys.exit(f"patch.py: A_NOGEMM: tileGemm's signature found {n} times, want 1")
s = s.replace("const float* Bm, int ldb, int qc, int halfC, int K) {",
              "const float* Bm, int ldb, int qc, int halfC, int K) {\n#ifdef A_NOGEMM\n"
              "    for (int r = 0; r < R; r++) for (int c = 0; c < R; c++) acc[r][c] = 0.f;\n    return;\n#endif", 1)
guard(r"^    for \(int k0 = 0; k0 < K; k0 \+= 8\) \{\n        unsigned aBig", "A_NOGEMM_UNUSED", 1, flags=re.M)
s = s.replace("#ifndef A_NOGEMM_UNUSED\n", "#ifdef A_NOGEMM\n    return;\n#endif\n", 1).replace(
    "unsigned aBig#endif\n", "unsigned aBig", 1)
# 1xTF32: drop the two small products.
guard(r"^ *mmaTF32\(acc\[mt\]\[j\], aSmall\[mt\], bBig\[j\]\);\n *mmaTF32\(acc\[mt\]\[j\], aBig\[mt\], bSmall\[j\]\);\n", "A_1XTF32", 1, flags=re.M)
(out / "rnn.cu").write_text(s)

//go:build amd64 && !purego

#include "textflag.h"

// func tanhAVX2(x *float32, n int, c *[15][8]float32)
//
// Eight lanes of tanh32 per iteration: clamp, Horner in x² for P and Q
// with fused multiply-adds (coefficients as 32-byte rows of c: row 0 the
// clamp, rows 1-7 P, rows 8-14 Q, highest power first), one division.
// The clamp keeps x second in VMINPS/VMAXPS so that a NaN passes through.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), DI
	MOVQ    n+8(FP), CX
	MOVQ    c+16(FP), SI
	VMOVUPS (SI), Y15           // clamp
	VXORPS  Y14, Y14, Y14
	VSUBPS  Y15, Y14, Y14       // -clamp

loop:
	CMPQ        CX, $8
	JLT         done
	VMOVUPS     (DI), Y0
	VMINPS      Y0, Y15, Y0     // min(clamp, x), x if NaN
	VMAXPS      Y0, Y14, Y0     // max(-clamp, x), x if NaN
	VMULPS      Y0, Y0, Y1      // x²
	VMOVUPS     32(SI), Y2      // P
	VMOVUPS     256(SI), Y3     // Q
	VFMADD213PS 64(SI), Y1, Y2  // P = P x² + next coefficient
	VFMADD213PS 288(SI), Y1, Y3 // Q = Q x² + next coefficient
	VFMADD213PS 96(SI), Y1, Y2
	VFMADD213PS 320(SI), Y1, Y3
	VFMADD213PS 128(SI), Y1, Y2
	VFMADD213PS 352(SI), Y1, Y3
	VFMADD213PS 160(SI), Y1, Y2
	VFMADD213PS 384(SI), Y1, Y3
	VFMADD213PS 192(SI), Y1, Y2
	VFMADD213PS 416(SI), Y1, Y3
	VFMADD213PS 224(SI), Y1, Y2
	VFMADD213PS 448(SI), Y1, Y3
	VMULPS      Y0, Y2, Y2      // x P
	VDIVPS      Y3, Y2, Y2      // x P / Q
	VMOVUPS     Y2, (DI)
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         loop

done:
	VZEROUPPER
	RET

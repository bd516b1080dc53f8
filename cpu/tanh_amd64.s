//go:build amd64 && !purego

#include "textflag.h"

// func tanhAVX2(x *float32, n int, c *[12]float32)
//
// Eight lanes of tanh32 per iteration: clamp, Horner in x² for the
// numerator and denominator with fused multiply-adds, one division.
// The clamp keeps x second in VMINPS/VMAXPS so a NaN passes through.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), SI
	VBROADCASTSS 0(SI), Y15  // clamp
	VXORPS       Y14, Y14, Y14
	VSUBPS       Y15, Y14, Y14 // -clamp
	VBROADCASTSS 4(SI), Y13  // a13
	VBROADCASTSS 8(SI), Y12  // a11
	VBROADCASTSS 12(SI), Y11 // a9
	VBROADCASTSS 16(SI), Y10 // a7
	VBROADCASTSS 20(SI), Y9  // a5
	VBROADCASTSS 24(SI), Y8  // a3
	VBROADCASTSS 28(SI), Y7  // a1
	VBROADCASTSS 32(SI), Y6  // b6
	VBROADCASTSS 36(SI), Y5  // b4
	VBROADCASTSS 40(SI), Y4  // b2
	VBROADCASTSS 44(SI), Y3  // b0

loop:
	CMPQ CX, $8
	JLT  done
	VMOVUPS     (DI), Y0
	VMINPS      Y0, Y15, Y0 // min(clamp, x), x if NaN
	VMAXPS      Y0, Y14, Y0 // max(-clamp, x), x if NaN
	VMULPS      Y0, Y0, Y1  // x²
	VMOVAPS     Y13, Y2
	VFMADD213PS Y12, Y1, Y2 // p = p x² + a11
	VFMADD213PS Y11, Y1, Y2
	VFMADD213PS Y10, Y1, Y2
	VFMADD213PS Y9, Y1, Y2
	VFMADD213PS Y8, Y1, Y2
	VFMADD213PS Y7, Y1, Y2
	VMULPS      Y0, Y2, Y2  // p = x p
	VMOVAPS     Y6, Y0
	VFMADD213PS Y5, Y1, Y0  // q = q x² + b4
	VFMADD213PS Y4, Y1, Y0
	VFMADD213PS Y3, Y1, Y0
	VDIVPS      Y0, Y2, Y2  // p / q
	VMOVUPS     Y2, (DI)
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         loop

done:
	VZEROUPPER
	RET

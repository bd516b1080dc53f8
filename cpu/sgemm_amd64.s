//go:build !openblas && amd64 && !purego

#include "textflag.h"

// func kern4x16(k int, a *float32, ai, ap int, b *float32, bp int, c *float32, ldc int, alpha float32)
//
// Accumulators Y0..Y7 hold the 4x16 tile (two ymm per row); each step p
// loads one 16-wide row of B and broadcasts one element of A per row.
TEXT ·kern4x16(SB), NOSPLIT, $0-68
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ ai+16(FP), AX
	SHLQ $2, AX
	MOVQ ap+24(FP), DX
	SHLQ $2, DX
	MOVQ b+32(FP), BX
	MOVQ bp+40(FP), SI
	SHLQ $2, SI
	LEAQ (R8)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (R10)(AX*1), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop4:
	VMOVUPS      (BX), Y8
	VMOVUPS      32(BX), Y9
	VBROADCASTSS (R8), Y10
	VBROADCASTSS (R9), Y11
	VBROADCASTSS (R10), Y12
	VBROADCASTSS (R11), Y13
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         DX, R8
	ADDQ         DX, R9
	ADDQ         DX, R10
	ADDQ         DX, R11
	ADDQ         SI, BX
	DECQ         CX
	JNZ          loop4

	// C += alpha * acc, row by row.
	MOVQ         c+48(FP), DI
	MOVQ         ldc+56(FP), AX
	SHLQ         $2, AX
	VBROADCASTSS alpha+64(FP), Y15
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VFMADD231PS  Y0, Y15, Y8
	VFMADD231PS  Y1, Y15, Y9
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 32(DI)
	ADDQ         AX, DI
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VFMADD231PS  Y2, Y15, Y8
	VFMADD231PS  Y3, Y15, Y9
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 32(DI)
	ADDQ         AX, DI
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VFMADD231PS  Y4, Y15, Y8
	VFMADD231PS  Y5, Y15, Y9
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 32(DI)
	ADDQ         AX, DI
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VFMADD231PS  Y6, Y15, Y8
	VFMADD231PS  Y7, Y15, Y9
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 32(DI)
	VZEROUPPER
	RET

// func kern1x16(k int, a *float32, ap int, b *float32, bp int, c *float32, alpha float32)
TEXT ·kern1x16(SB), NOSPLIT, $0-52
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ ap+16(FP), DX
	SHLQ $2, DX
	MOVQ b+24(FP), BX
	MOVQ bp+32(FP), SI
	SHLQ $2, SI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

loop1:
	VBROADCASTSS (R8), Y10
	VFMADD231PS  (BX), Y10, Y0
	VFMADD231PS  32(BX), Y10, Y1
	ADDQ         DX, R8
	ADDQ         SI, BX
	DECQ         CX
	JNZ          loop1

	MOVQ         c+40(FP), DI
	VBROADCASTSS alpha+48(FP), Y15
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VFMADD231PS  Y0, Y15, Y8
	VFMADD231PS  Y1, Y15, Y9
	VMOVUPS      Y8, (DI)
	VMOVUPS      Y9, 32(DI)
	VZEROUPPER
	RET

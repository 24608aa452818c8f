#include "textflag.h"

// func enter(entry uintptr, ctx unsafe.Pointer)
//
// ABI0 lets the body clobber every register but SP and BP; the assembler
// saves BP in this frame and reloads it before RET, and the ABI wrapper
// restores R14 (g) and X15 on the way back to Go. R14 and R15 are saved
// anyway, in the frame. The generated code pushes nothing but the return
// address of the CALL, never grows the stack and keeps no pointer to it.
TEXT ·enter(SB), 0, $16-16
	MOVQ R14, 0(SP)
	MOVQ R15, 8(SP)
	MOVQ ctx+8(FP), R9
	MOVQ entry+0(FP), AX
	CALL AX
	MOVQ 0(SP), R14
	MOVQ 8(SP), R15
	RET

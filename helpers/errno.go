package helpers

// Linux error numbers helpers return, negated as the program sees them.
const (
	ePERM      = -1
	eNOENT     = -2
	e2BIG      = -7
	eAGAIN     = -11
	eNOMEM     = -12
	eACCES     = -13
	eFAULT     = -14
	eBUSY      = -16
	eINVAL     = -22
	eNOSPC     = -28
	eRANGE     = -34
	eOPNOTSUPP = -95
	// eNOTSUPP is the kernel-internal ENOTSUPP (524) some helpers leak.
	eNOTSUPP = -524
)

package object

import (
	"errors"
	"fmt"
	"io"
)

// checkELF reads the start of an object before the ELF parser does, so that
// a file that is not ELF at all, or is cut short, gets an error that says
// so instead of the parser's view of it.
func checkELF(r io.ReaderAt) error {
	var head [4]byte
	n, err := r.ReadAt(head[:], 0)
	if n < len(head) {
		if err == nil || errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: truncated: %d bytes, not even an ELF header", ErrInvalidObject, n)
		}
		return err
	}
	if string(head[:]) != "\x7fELF" {
		return fmt.Errorf("%w: not an ELF file: it starts with % x, an ELF file with 7f 45 4c 46", ErrInvalidObject, head[:])
	}
	return nil
}

// describeParseError turns the ELF parser's end-of-file errors into what
// they mean: the file is truncated.
func describeParseError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated ELF file: it ends inside a header or section", ErrInvalidObject)
	}
	return err
}

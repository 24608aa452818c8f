package main

import (
	"fmt"
	"io"
	"os"
)

// Limits on the files the one-shot commands read whole. A test run takes at
// most 64 KiB of data (an XDP run with fragments at most 73,152 bytes in
// Linux) and a context of a few hundred bytes, so inputFileLimit leaves room
// for any of them while a character device (/dev/zero), a FIFO or a wrong
// path to a disk image stops with an error instead of exhausting memory.
const (
	inputFileLimit  = 16 << 20  // --data, --ctx-in, data_in, ctx_in, assembler text
	mapInitLimit    = 256 << 20 // --map-init JSON
	objectFileLimit = 256 << 20 // an ELF object sent whole to the daemon
)

// readFileLimit reads the file at path, refusing one longer than limit
// bytes (or whose reading does not end before it) with an error that names
// the file and the limit.
func readFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimit(f, path, limit)
}

// readAllLimit reads r to its end, at most limit bytes; name says what r is
// in the error.
func readAllLimit(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %s, the most this command reads", name, (*byteSize)(&limit).String())
	}
	return b, nil
}

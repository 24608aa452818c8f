package sockaddr

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// readProc reads /proc/TID/name into buf and returns what it read. One
// read returns a whole generated file if buf holds it; a file that fills
// buf is read again whole, with os.ReadFile.
func readProc(tid int, name string, buf []byte) ([]byte, error) {
	path := "/proc/" + strconv.Itoa(tid) + "/" + name
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil {
		return nil, err
	}
	if n == len(buf) {
		return os.ReadFile(path)
	}
	return buf[:n], nil
}

// procField returns the value of "key:" in a /proc status file: what
// follows the colon and the tabs after it, up to the end of the line; nil
// if the key is missing.
func procField(b []byte, key string) []byte {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) > len(key) && line[len(key)] == ':' && string(line[:len(key)]) == key {
			return bytes.TrimLeft(line[len(key)+1:], "\t ")
		}
	}
	return nil
}

// leadingUint parses the decimal number at the start of v (0 if none).
func leadingUint(v []byte) uint64 {
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}

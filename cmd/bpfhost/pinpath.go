package main

import (
	"os"
	"path"
	"path/filepath"
)

// pinPath is a PATH argument as the daemon's pins name it: a relative path
// is taken from the working directory, as bpftool's (a bpffs path, which
// the kernel resolves so) is; the daemon's namespace has absolute paths
// only. Where the working directory is not a slash-separated absolute path
// (Windows), the path is left as given, and the daemon refuses it if it is
// relative.
func pinPath(p string) string {
	if p == "" || path.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if wd = filepath.ToSlash(wd); !path.IsAbs(wd) {
		return p
	}
	return path.Join(wd, p)
}

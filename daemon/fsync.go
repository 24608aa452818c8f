package daemon

import (
	"os"
	"path/filepath"
)

// writeFileSync replaces path by data atomically: it writes a temporary
// file beside it, syncs it, renames it over path and syncs the directory,
// so that after a crash of the daemon path holds the old or the new
// contents, whole.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir syncs a directory so that entries created or renamed in it are
// durable. Systems that cannot sync a directory (Windows) skip it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !os.IsPermission(err) {
		if pe, ok := err.(*os.PathError); ok && pe.Err != nil && isSyncUnsupported(pe.Err) {
			return nil
		}
		return err
	}
	return nil
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// maxVaultFile bounds a vault or backup file read from disk, in bytes: a
// vault holds at most 100 credentials of well under a kilobyte each.
const maxVaultFile = 4 << 20

// errVaultChanged reports a vault file that another command rewrote while
// this one ran: saving would drop that command's change.
var errVaultChanged = errors.New("the vault file changed while this command ran; nothing was saved: run the command again")

// vaultFile is the vault's file as a command read it: saving checks that
// it is still so (see save).
type vaultFile struct {
	path   string
	blob   []byte // what the file held; nil when it did not exist
	exists bool
}

// readVaultFile reads the vault file at path; a missing file is not an
// error (exists is false).
func readVaultFile(path string) (*vaultFile, error) {
	b, err := readSmallFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &vaultFile{path: path}, nil
	}
	if err != nil {
		return nil, err
	}
	return &vaultFile{path: path, blob: b, exists: true}, nil
}

// save replaces the vault file with blob, atomically, mode 0600. It refuses
// when the file is no longer what readVaultFile read: two commands run
// against one vault would otherwise lose the first one's change. (The
// check and the rename are not one step; the window is small, and the
// worst case is the lost change this check exists to prevent.)
func (f *vaultFile) save(blob []byte) error {
	now, err := readVaultFile(f.path)
	if err != nil {
		return err
	}
	if now.exists != f.exists || !bytes.Equal(now.blob, f.blob) {
		return errVaultChanged
	}
	if err := writeFileAtomic(f.path, blob, true); err != nil {
		return err
	}
	f.blob, f.exists = bytes.Clone(blob), true
	return nil
}

// readSmallFile reads a file of at most maxVaultFile bytes.
func readSmallFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxVaultFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxVaultFile {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a keyline vault or backup", path, maxVaultFile)
	}
	return b, nil
}

// writeFileAtomic writes data to path through a temporary file in the
// same directory, synced and renamed over path, so that a crash leaves the
// old file or the new one, never a torn one. The file has mode 0600 from
// its creation on. With replace false an existing file is refused.
// Missing directories are made with mode 0700.
func writeFileAtomic(path string, data []byte, replace bool) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !replace {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists already: choose another file name", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // created with mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable; not every system can sync a
	// directory, and the file is complete either way.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

package degen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LockFile is the advisory lock of a run directory: every command that
// writes the directory (train, eval, analyze, merge) holds it while it
// runs, and writes who it is into it.
const LockFile = ".degen.lock"

// RunLock is a held lock of a run directory.
type RunLock struct {
	f *os.File
}

// LockedError says that another process holds a run directory's lock.
type LockedError struct {
	Dir    string
	Holder string // what the holder wrote: pid, command, start time
}

func (e *LockedError) Error() string {
	holder := e.Holder
	if holder == "" {
		holder = "a process that did not say who it is"
	}
	return fmt.Sprintf("%s is in use by another degen command (%s); wait for it to finish or stop it", e.Dir, holder)
}

// LockRunDir takes the lock of dir (which must exist) for command, without
// waiting: when another process holds it, it returns a *LockedError naming
// that process. The lock is released by Unlock, or by the process's end,
// however it ends.
func LockRunDir(dir, command string) (*RunLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot lock run directory %s: %w", dir, err)
	}
	if err := flockExclusive(f); err != nil {
		defer f.Close()
		if errors.Is(err, errWouldBlock) {
			buf := make([]byte, 512)
			n, _ := f.ReadAt(buf, 0)
			return nil, &LockedError{Dir: dir, Holder: strings.TrimSpace(string(buf[:n]))}
		}
		return nil, fmt.Errorf("cannot lock run directory %s: %w", dir, err)
	}
	holder := fmt.Sprintf("pid %d, `%s`, started %s", os.Getpid(), command, time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(holder+"\n"), 0)
	}
	RemoveTemporaries(dir)
	return &RunLock{f: f}, nil
}

// RemoveTemporaries removes the temporary files of atomic writes
// (WriteAtomic) and the staging directories of analyses (.analysis.tmp*)
// in dir and its figures directory. Only the lock's holder may call it:
// every temporary there is then its own or a stray of a process that died
// before renaming it.
func RemoveTemporaries(dir string) {
	for _, d := range []string{dir, filepath.Join(dir, FiguresDir)} {
		matches, _ := filepath.Glob(filepath.Join(d, ".*.tmp*"))
		for _, m := range matches {
			os.RemoveAll(m)
		}
	}
}

// Unlock releases the lock.
func (l *RunLock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Truncate(0)
		l.f.Close() // closing the descriptor releases the flock
		l.f = nil
	}
}

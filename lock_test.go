package degen

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestLockRunDir: a second lock of a held directory fails at once with a
// *LockedError naming the holder; after Unlock the directory can be locked
// again.
func TestLockRunDir(t *testing.T) {
	dir := t.TempDir()
	l, err := LockRunDir(dir, "degen eval")
	if err != nil {
		t.Fatal(err)
	}
	_, err = LockRunDir(dir, "degen analyze")
	var locked *LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("second lock: %v, want a *LockedError", err)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "`degen eval`", "started"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	l.Unlock()
	l2, err := LockRunDir(dir, "degen analyze")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l2.Unlock()
	if _, err := LockRunDir(dir+"/missing", "x"); err == nil {
		t.Error("locking a missing directory succeeded")
	}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"degen"
	"degen/cpu"
	"degen/gpu"
)

// usageError marks bad flags, arguments or input files: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// lockRunDir takes dir's lock for command (creating dir first when create
// is true). Another degen holding it is a usage error (exit 2) that names
// it. When dir does not exist and create is false it returns no lock and no
// error: the command's own checks report the missing directory.
func lockRunDir(dir, command string, create bool) (*degen.RunLock, error) {
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, usagef("cannot create run directory: %v", err)
		}
	} else if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, nil
	}
	l, err := degen.LockRunDir(dir, command)
	var locked *degen.LockedError
	if errors.As(err, &locked) {
		return nil, usageError{err}
	}
	return l, err
}

// availableMemory returns the bytes this process may still allocate: the
// kernel's MemAvailable, lowered to the cgroup's limit minus its usage when
// one is set (a container, a Slurm job). 0 means unknown.
func availableMemory() int64 {
	var avail int64
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
				avail = kb << 10
			}
		}
	}
	limit, err1 := os.ReadFile("/sys/fs/cgroup/memory.max")
	used, err2 := os.ReadFile("/sys/fs/cgroup/memory.current")
	if err1 == nil && err2 == nil {
		var l, u int64
		if _, err := fmt.Sscan(string(limit), &l); err == nil { // "max" does not parse
			fmt.Sscan(string(used), &u)
			if free := l - u; avail == 0 || free < avail {
				avail = max(free, 1)
			}
		}
	}
	return avail
}

// checkMemory refuses (exit 2) a request whose estimate, need(S) bytes for
// S networks, exceeds the memory available.
func checkMemory(what string, s int, need func(s int) int64) error {
	if err := degen.CheckMemory(what, s, availableMemory(), need); err != nil {
		return usageError{err}
	}
	return nil
}

// exitOnInterrupt makes SIGINT and SIGTERM end a command that holds dir's
// lock cleanly: its temporary files are removed, the lock released, and the
// process exits with status 130. Every file is written atomically, so dir
// keeps each file either as it was or as this command completed it. The
// returned function stops watching.
func exitOnInterrupt(dir string, lock *degen.RunLock) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sig:
			degen.RemoveTemporaries(dir)
			lock.Unlock()
			fmt.Fprintf(os.Stderr, "degen: %v: stopped; the files already completed in %s are kept, partial ones removed\n", s, dir)
			os.Exit(130)
		case <-done:
		}
	}()
	return func() { signal.Stop(sig); close(done) }
}

// Flags shared by several commands.
var (
	jsonFlag    = &cli.BoolFlag{Name: "json", Usage: "print results as JSON on stdout"}
	quietFlag   = &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"}
	backendFlag = &cli.StringFlag{Name: "backend", Value: "cpu", Usage: "compute backend: cpu or gpu (gpu needs the CUDA build, degen-cuda)"}
)

// backendFactory returns the factory for a backend name.
func backendFactory(name string) (degen.BackendFactory, error) {
	switch name {
	case "cpu":
		return func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
			return cpu.New(d, m, gamma)
		}, nil
	case "gpu":
		return func(d degen.Dims, m degen.Model, gamma []float32) (degen.Backend, error) {
			return gpu.New(d, m, gamma)
		}, nil
	}
	return nil, usagef("unknown backend %q (want cpu or gpu)", name)
}

func stderrIsTerminal() bool { return term.IsTerminal(int(os.Stderr.Fd())) }

// logLine prints a progress line on stderr when no progress bar is shown
// (stderr is not a terminal) and not quiet.
func logLine(quiet bool, format string, args ...any) {
	if !quiet && !stderrIsTerminal() {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
	}
}

// printJSON writes v as indented JSON to w.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// newProgress returns a progress bar on stderr counting to total, or a bar
// that prints nothing when quiet or when stderr is not a terminal (logs then
// get one line per epoch from the caller instead, see logLine).
func newProgress(total int64, desc string, quiet bool) *progressbar.ProgressBar {
	if quiet || !stderrIsTerminal() {
		return progressbar.DefaultSilent(total, desc)
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(24),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }),
	)
}

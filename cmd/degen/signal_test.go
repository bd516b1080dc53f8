package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"degen"
)

// TestMain lets a test re-run this test binary as the degen command itself.
func TestMain(m *testing.M) {
	if os.Getenv("DEGEN_TEST_MAIN") == "1" {
		os.Exit(run(append([]string{"degen"}, os.Args[1:]...)))
	}
	os.Exit(m.Run())
}

// trainProcess is `degen train` running in a child process (this test
// binary, see TestMain), its stderr collected in log.
type trainProcess struct {
	cmd  *exec.Cmd
	log  strings.Builder
	done chan error
}

// startTraining starts `degen train --out dir` (and the extra flags) on a
// tiny task with a long epoch budget and returns once it has logged its
// second epoch (so that it holds the directory and has written a checkpoint).
func startTraining(t *testing.T, dir string, extra ...string) *trainProcess {
	t.Helper()
	return startDegen(t, "epoch 2/", append([]string{"train", "--out", dir, "--hidden", "8", "--seeds", "2", "--batch", "4",
		"--steps-per-epoch", "20", "--max-epochs", "1000", "--knob", "steps=10"}, extra...)...)
}

// startDegen runs degen with args in a child process and returns once it
// has logged a line starting with ready.
func startDegen(t *testing.T, ready string, args ...string) *trainProcess {
	t.Helper()
	p := &trainProcess{done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), "DEGEN_TEST_MAIN=1")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		p.log.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), ready) {
			break
		}
	}
	go func() {
		for lines.Scan() {
			p.log.WriteString(lines.Text() + "\n")
		}
		p.done <- p.cmd.Wait()
	}()
	return p
}

// interrupt sends SIGINT and waits (at most a minute) for the process to end.
func (p *trainProcess) interrupt(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("training did not stop after SIGINT:\n%s", p.log.String())
	}
}

// TestInterruptThenResume sends SIGINT to a training process after its first
// epoch: it must exit with status 130 and a checkpoint, and --resume must
// finish the run.
func TestInterruptThenResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	p := startTraining(t, dir)
	p.interrupt(t)
	cmd, log := p.cmd, &p.log
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit status %d after SIGINT, want 130:\n%s", code, log.String())
	}
	info, err := degen.ReadRunInfo(dir)
	if err != nil || info.Finished || info.Epoch < 2 {
		t.Fatalf("after interruption: %+v %v", info, err)
	}
	if _, err := os.Stat(filepath.Join(dir, degen.CheckpointFile)); err != nil {
		t.Fatal("no checkpoint after SIGINT")
	}
	// Finish quickly: resume cannot change settings, so it trains until every
	// network stops; the tiny task converges or exhausts its epochs in time.
	if code, _ := runCapture(t, "train", "--resume", dir, "-q"); code != 0 {
		t.Fatalf("resume exited %d", code)
	}
	info, err = degen.ReadRunInfo(dir)
	if err != nil || !info.Finished {
		t.Fatalf("after resume: %+v %v", info, err)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"degen"
)

// markConverged marks every network of dir converged, so that analyze
// compares them all (the tiny tasks of these tests need not converge).
func markConverged(t *testing.T, dir string) {
	t.Helper()
	info, err := degen.ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range info.Networks {
		info.Networks[i].Converged = true
	}
	if err := degen.WriteRunInfo(dir, info); err != nil {
		t.Fatal(err)
	}
}

// expectExit runs degen with args and checks its exit status and that its
// error output mentions every one of want.
func expectExit(t *testing.T, code int, want []string, args ...string) {
	t.Helper()
	var got int
	stderr := captureStderr(t, func() { got, _ = runCapture(t, args...) })
	if got != code {
		t.Errorf("%v: exit %d, want %d\n%s", args, got, code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("%v: error %q does not mention %q", args, stderr, w)
		}
	}
}

// TestAnalyzeRefusesStaleEval: a run interrupted, evaluated, then resumed
// to its end has new weights; analyze must refuse the old evaluation
// (before, it reported the half-trained networks' OOD losses) and accept a
// new one.
func TestAnalyzeRefusesStaleEval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	startTraining(t, dir).interrupt(t)
	if code, _ := runCapture(t, "eval", dir, "-q"); code != 0 {
		t.Fatalf("eval of the interrupted run exited %d", code)
	}
	if code, _ := runCapture(t, "train", "--resume", dir, "-q"); code != 0 {
		t.Fatalf("resume exited %d", code)
	}
	markConverged(t, dir)
	expectExit(t, 2, []string{"other weights", "degen eval " + dir}, "analyze", dir, "--skip", "dsa,permutation", "--no-figures", "-q")
	if _, err := os.Stat(filepath.Join(dir, degen.DegeneracyJSON)); err == nil {
		t.Error("analyze wrote degeneracy.json from a stale evaluation")
	}
	if code, _ := runCapture(t, "eval", dir, "-q"); code != 0 {
		t.Fatalf("second eval exited %d", code)
	}
	expectExit(t, 0, nil, "analyze", dir, "--skip", "dsa,permutation", "--no-figures", "-q")
	var sum degeneracySummary
	raw, err := os.ReadFile(filepath.Join(dir, degen.DegeneracyJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	w, _ := degen.FileDigest(filepath.Join(dir, degen.WeightsFile))
	if sum.WeightsSHA256 != w || sum.StatesSHA256 == "" {
		t.Errorf("degeneracy.json records weights %q and states %q; weights.npz is %q", sum.WeightsSHA256, sum.StatesSHA256, w)
	}
}

// TestAnalyzeRefusesForeignStates: states.npz copied from another run (or
// left by an evaluation interrupted before eval.json) is refused; so is an
// eval.json that does not say what it evaluated.
func TestAnalyzeRefusesForeignStates(t *testing.T) {
	a, b := convergedRun(t), convergedRun(t)
	// The two runs are alike, so make b's states differ first.
	poisonNPZ(t, filepath.Join(b, degen.StatesFile), "states", func(x *degen.Array) { x.Data[0] += 1 })
	data, err := os.ReadFile(filepath.Join(b, degen.StatesFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, degen.StatesFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 2, []string{"states.npz is not the file", "degen eval " + a}, "analyze", a, "--skip", "dsa,permutation", "--no-figures", "-q")

	r, err := degen.ReadEvalReport(b)
	if err != nil {
		t.Fatal(err)
	}
	r.WeightsSHA256 = ""
	if err := degen.WriteEvalReport(b, r); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 2, []string{"does not record which weights", "degen eval " + b}, "analyze", b, "--no-figures", "-q")
}

// TestRunDirLockTwoProcesses: while one process trains a directory, every
// other writer of it (eval, analyze, resume, a forced new run, merge into
// it) exits 2 naming the holder, and the lock is free once it ends.
func TestRunDirLockTwoProcesses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	p := startTraining(t, dir)
	holder := []string{"in use by another degen", fmt.Sprintf("pid %d", p.cmd.Process.Pid), "degen train"}
	expectExit(t, 2, holder, "eval", dir, "-q")
	expectExit(t, 2, holder, "analyze", dir, "-q")
	expectExit(t, 2, holder, "train", "--resume", dir, "-q")
	expectExit(t, 2, holder, append([]string{"train", "--out", dir, "--force"}, tiny...)...)
	expectExit(t, 2, holder, "merge", "--out", dir, dir)
	p.interrupt(t)
	if code := p.cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("the training process exited %d, want 130:\n%s", code, p.log.String())
	}
	if _, err := os.Stat(filepath.Join(dir, degen.RunFile)); err != nil {
		t.Fatalf("the forced run replaced or removed the held run: %v", err)
	}
	l, err := degen.LockRunDir(dir, "test")
	if err != nil {
		t.Fatalf("lock still held after the process ended: %v", err)
	}
	l.Unlock()
}

// TestStrayTemporariesRemoved: temporaries left by a process killed
// mid-write are removed by the next command that writes the directory.
func TestStrayTemporariesRemoved(t *testing.T) {
	dir := convergedRun(t)
	strays := []string{filepath.Join(dir, ".states.npz.tmp123"), filepath.Join(dir, degen.FiguresDir, ".cka_mds.png.tmp9")}
	os.MkdirAll(filepath.Join(dir, degen.FiguresDir), 0o755)
	for _, p := range strays {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := runCapture(t, "eval", dir, "-q"); code != 0 {
		t.Fatalf("eval exited %d", code)
	}
	for _, p := range strays {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s survived the next eval", p)
		}
	}
}

// TestAnalyzeInterrupted: SIGINT during a long analysis ends it with status
// 130, no temporary files and the lock released.
func TestAnalyzeInterrupted(t *testing.T) {
	dir := convergedRun(t)
	p := startDegen(t, "permutation:", "analyze", dir, "--skip", "dsa", "--perm-tabu", "1000000000", "--no-figures")
	p.interrupt(t)
	cmd, log := p.cmd, &p.log
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("analyze exited %d after SIGINT, want 130:\n%s", code, log.String())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*")); len(m) > 0 {
		t.Errorf("temporaries left: %v", m)
	}
	l, err := degen.LockRunDir(dir, "test")
	if err != nil {
		t.Fatalf("lock still held: %v", err)
	}
	l.Unlock()
}

// TestResumeRefusesForeignCheckpoint: a checkpoint copied from a run with
// another seed and threshold is refused, naming both keys; the run's own
// checkpoint still resumes.
func TestResumeRefusesForeignCheckpoint(t *testing.T) {
	tmp := t.TempDir()
	a, b := filepath.Join(tmp, "a"), filepath.Join(tmp, "b")
	startTraining(t, a).interrupt(t)
	startTraining(t, b, "--seed", "7", "--threshold", "0.002").interrupt(t)
	own, err := os.ReadFile(filepath.Join(a, degen.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := os.ReadFile(filepath.Join(b, degen.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, degen.CheckpointFile), foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 2, []string{"belongs to another run", "seed", "threshold"}, "train", "--resume", a, "-q")
	if err := os.WriteFile(filepath.Join(a, degen.CheckpointFile), own, 0o644); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 0, nil, "train", "--resume", a, "-q")
}

// TestMergeRefusesUnfinishedShards: shards interrupted mid-training are
// refused unless --allow-unfinished, which marks their training networks
// not converged so the merged run is consistent.
func TestMergeRefusesUnfinishedShards(t *testing.T) {
	tmp := t.TempDir()
	s0, s1 := filepath.Join(tmp, "s0"), filepath.Join(tmp, "s1")
	startTraining(t, s0, "--shard", "0/2").interrupt(t)
	startTraining(t, s1, "--shard", "1/2").interrupt(t)
	expectExit(t, 2, []string{"has not finished training", "--allow-unfinished"}, "merge", "--out", filepath.Join(tmp, "m"), s0, s1, "-q")
	out := filepath.Join(tmp, "m2")
	expectExit(t, 0, nil, "merge", "--out", out, "--allow-unfinished", s0, s1, "-q")
	info, err := degen.ReadRunInfo(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range info.Networks {
		if n.Status == degen.Training {
			t.Errorf("network %d is still marked training in the merged run", n.Index)
		}
	}
}

// TestBadInputsNamed: inputs that were accepted silently or echoed whole.
func TestBadInputsNamed(t *testing.T) {
	tmp := t.TempDir()
	expectExit(t, 2, []string{"--knob steps is given twice"}, append([]string{"train", "--out", filepath.Join(tmp, "a"), "--knob", "steps=10"}, tiny...)...)
	big := filepath.Join(tmp, "big.toml")
	if err := os.WriteFile(big, make([]byte, 2<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 2, []string{"big.toml is 2097152 bytes"}, "train", "--config", big, "--out", filepath.Join(tmp, "b"), "-q")
	var stderr string
	stderr = captureStderr(t, func() {
		runCapture(t, "train", "--task", strings.Repeat("x", 100000), "--out", filepath.Join(tmp, "c"), "-q")
	})
	if len(stderr) > 400 || !strings.Contains(stderr, "unknown task") {
		t.Errorf("a 100 kB task name gave a %d-byte error: %.200s", len(stderr), stderr)
	}

	dup := convergedRun(t)
	info, err := degen.ReadRunInfo(dup)
	if err != nil {
		t.Fatal(err)
	}
	info.Networks[1].Index = info.Networks[0].Index
	raw, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(dup, degen.RunFile), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 2, []string{"appears in slots 0 and 1"}, "analyze", dup, "--no-figures", "-q")

	swapped := convergedRun(t)
	poisonNPZ(t, filepath.Join(swapped, degen.StatesFile), "networks", func(a *degen.Array) { a.Data[0], a.Data[1] = a.Data[1], a.Data[0] })
	expectExit(t, 2, []string{"slot 0 holds network 1", "degen eval"}, "analyze", swapped, "--no-figures", "-q")
}

// TestResumeAfterKillBeforeFirstCheckpoint: a training process killed
// (SIGKILL, so it saves nothing) before its first periodic checkpoint can
// be resumed to the end: the run starts with a checkpoint at step 0.
func TestResumeAfterKillBeforeFirstCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	p := startTraining(t, dir)
	p.cmd.Process.Kill()
	<-p.done
	expectExit(t, 0, nil, "train", "--resume", dir, "-q")
	info, err := degen.ReadRunInfo(dir)
	if err != nil || !info.Finished {
		t.Fatalf("after resume: %+v %v", info, err)
	}
}

// TestCorruptFilesExit2: one corrupt run.json or weights.npz is bad input
// (exit 2) in every command that reads it (eval and resume exited 1).
func TestCorruptFilesExit2(t *testing.T) {
	dir := convergedRun(t)
	os.WriteFile(filepath.Join(dir, degen.RunFile), []byte("{"), 0o644)
	for _, args := range [][]string{{"eval", dir}, {"analyze", dir}, {"train", "--resume", dir}} {
		expectExit(t, 2, []string{"run.json is corrupted"}, append(args, "-q")...)
	}
	dir = convergedRun(t)
	os.WriteFile(filepath.Join(dir, degen.WeightsFile), []byte("PK"), 0o644)
	for _, args := range [][]string{{"eval", dir}, {"analyze", dir}} {
		expectExit(t, 2, []string{"weights.npz"}, append(args, "-q")...)
	}
}

// TestAnalysisOutputsAreOneSet: a second analysis that skips a measure
// leaves none of the first one's files of that measure behind (figures
// included), and no staging directory.
func TestAnalysisOutputsAreOneSet(t *testing.T) {
	dir := convergedRun(t)
	expectExit(t, 0, nil, "analyze", dir, "--skip", "dsa", "-q")
	fig := filepath.Join(dir, degen.FiguresDir, "permutation_heatmap.png")
	if _, err := os.Stat(fig); err != nil {
		t.Fatalf("the first analysis drew no %s: %v", fig, err)
	}
	expectExit(t, 0, nil, "analyze", dir, "--skip", "dsa,permutation", "-q")
	if _, err := os.Stat(fig); err == nil {
		t.Error("the permutation heatmap of the first analysis survived the second, which skipped it")
	}
	keys, err := degen.NPZKeys(filepath.Join(dir, degen.DistancesFile))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(keys, "permutation") {
		t.Errorf("distances.npz still holds the skipped measure: %v", keys)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".analysis.tmp*")); len(m) > 0 {
		t.Errorf("staging directories left: %v", m)
	}
}

// TestMemoryRefusedUpFront: requests far beyond the machine's memory are
// refused at once with the memory needed and available (they died with a
// Go runtime dump), and leave no run directory behind.
func TestMemoryRefusedUpFront(t *testing.T) {
	if availableMemory() == 0 {
		t.Skip("this machine does not say how much memory is available")
	}
	tmp := t.TempDir()
	huge := filepath.Join(tmp, "huge")
	expectExit(t, 2, []string{"training needs about", "available", "not even one network"}, "train", "--hidden", "100000", "--out", huge, "-q")
	if _, err := os.Stat(huge); err == nil {
		t.Error("a refused train left its run directory")
	}
	expectExit(t, 2, []string{"at most about", "networks fit"}, "train", "--seeds", "300000", "--hidden", "1024", "--out", filepath.Join(tmp, "many"), "-q")
	dir := filepath.Join(tmp, "evalbig")
	expectExit(t, 0, nil, append([]string{"train", "--out", dir}, append(slices.Clone(tiny), "--eval-trials", "100000000")...)...)
	expectExit(t, 2, []string{"evaluation needs about", "eval_trials"}, "eval", dir, "-q")
}

// TestAnalyzeMemoryRefused: an evaluation too large to analyse here is
// refused before any array is read.
func TestAnalyzeMemoryRefused(t *testing.T) {
	if availableMemory() == 0 {
		t.Skip("this machine does not say how much memory is available")
	}
	dir := convergedRun(t)
	r, err := degen.ReadEvalReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Trials = 1 << 40 // as if evaluated on 10^12 trials; the digests still match
	if err := degen.WriteEvalReport(dir, r); err != nil {
		t.Fatal(err)
	}
	expectExit(t, 2, []string{"analysis needs about", "available"}, "analyze", dir, "-q")
}

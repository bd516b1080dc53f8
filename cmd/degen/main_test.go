package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"degen"
)

// runCapture runs the CLI in-process and returns its exit code and stdout.
func runCapture(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var code int
	out := capture(t, &os.Stdout, func() { code = run(append([]string{"degen"}, args...)) })
	return code, out
}

// capture returns what f writes to *file (os.Stdout or os.Stderr).
func capture(t *testing.T, file **os.File, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := *file
	*file = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	w.Close()
	*file = old
	return <-done
}

// tiny makes a run small enough for a test.
var tiny = []string{"--hidden", "6", "--seeds", "2", "--batch", "4", "--steps-per-epoch", "3", "--max-epochs", "2", "--knob", "steps=12", "--eval-trials", "5", "-q"}

func TestTrainEvalFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out := runCapture(t, append([]string{"train", "--out", dir, "--json", "--lr", "1e-3,1e-2"}, tiny...)...)
	if code != 0 {
		t.Fatalf("train exited %d", code)
	}
	var summary runSummary
	if err := json.Unmarshal([]byte(out), &summary); err != nil || summary.Networks != 4 {
		t.Fatalf("train --json: %v\n%s", err, out)
	}
	for _, name := range []string{degen.RunFile, degen.WeightsFile, degen.MetricsFile, degen.CheckpointFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("missing %s", name)
		}
	}
	if info, err := degen.ReadRunInfo(dir); err != nil || !strings.HasPrefix(info.Detail, "CPU, float32; GEMM: ") {
		t.Errorf("run.json backend_detail: %v", err)
		if info != nil {
			t.Errorf("backend_detail %q, want the CPU backend's float32 GEMM", info.Detail)
		}
	}
	shapes := map[string][]int{"W_hh": {4, 6, 6}, "W_ih": {4, 6, 3}, "b": {4, 6}, "W_out": {4, 3, 6}, "b_out": {4, 3}, "W_hh_init": {4, 6, 6}}
	for name, want := range shapes {
		a, err := degen.ReadNPZArray(filepath.Join(dir, degen.WeightsFile), name)
		if err != nil || !slices.Equal(a.Shape, want) {
			t.Errorf("weights %s: %v %v, want shape %v", name, a, err, want)
		}
	}

	code, out = runCapture(t, "eval", dir, "--json", "-q")
	if code != 0 {
		t.Fatalf("eval exited %d", code)
	}
	var report degen.EvalReport
	if err := json.Unmarshal([]byte(out), &report); err != nil || len(report.Networks) != 4 || report.OODSteps != 24 {
		t.Fatalf("eval --json: %v\n%s", err, out)
	}
	states := map[string][]int{"states": {4, 5, 12, 6}, "outputs": {4, 5, 12, 3}, "ood_outputs": {4, 5, 24, 3}, "ood_targets": {5, 24, 3}, "networks": {4}}
	for name, want := range states {
		a, err := degen.ReadNPZArray(filepath.Join(dir, degen.StatesFile), name)
		if err != nil || !slices.Equal(a.Shape, want) {
			t.Errorf("states %s: %v, want shape %v", name, err, want)
		}
	}
}

func TestBadInputExitCodes(t *testing.T) {
	tmp := t.TempDir()
	existing := filepath.Join(tmp, "existing")
	if code, _ := runCapture(t, append([]string{"train", "--out", existing}, tiny...)...); code != 0 {
		t.Fatalf("setup run exited %d", code)
	}
	badConfig := filepath.Join(tmp, "bad.toml")
	os.WriteFile(badConfig, []byte("hiden = 3\n"), 0o644)
	wrongType := filepath.Join(tmp, "type.toml")
	os.WriteFile(wrongType, []byte("hidden = \"3\"\n"), 0o644)
	fileInTheWay := filepath.Join(tmp, "file")
	os.WriteFile(fileInTheWay, []byte("x"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"unknown flag", []string{"train", "--bogus"}, 2},
		{"unknown task", []string{"train", "--task", "nope", "--out", filepath.Join(tmp, "a")}, 2},
		{"unknown knob", []string{"train", "--knob", "bitz=3", "--out", filepath.Join(tmp, "b")}, 2},
		{"bad knob syntax", []string{"train", "--knob", "bits", "--out", filepath.Join(tmp, "c")}, 2},
		{"zero hidden", []string{"train", "--hidden", "0", "--out", filepath.Join(tmp, "d")}, 2},
		{"negative threshold", []string{"train", "--threshold", "-1", "--out", filepath.Join(tmp, "e")}, 2},
		{"bad lr list", []string{"train", "--lr", "1e-3,x", "--out", filepath.Join(tmp, "f")}, 2},
		{"existing run", []string{"train", "--out", existing}, 2},
		{"unknown config key", []string{"train", "--config", badConfig, "--out", filepath.Join(tmp, "g")}, 2},
		{"wrong config type", []string{"train", "--config", wrongType, "--out", filepath.Join(tmp, "h")}, 2},
		{"unwritable out", []string{"train", "--out", filepath.Join(fileInTheWay, "run")}, 2},
		{"unknown backend", []string{"train", "--backend", "tpu", "--out", filepath.Join(tmp, "i")}, 2},
		{"resume with changes", []string{"train", "--resume", existing, "--hidden", "9"}, 2},
		{"resume nothing", []string{"train", "--resume", filepath.Join(tmp, "nothing")}, 2},
		{"eval without dir", []string{"eval"}, 2},
		{"eval of nothing", []string{"eval", filepath.Join(tmp, "nothing")}, 2},
		{"bad shard", []string{"train", "--shard", "3", "--out", filepath.Join(tmp, "j")}, 2},
	}
	for _, c := range cases {
		code, _ := runCapture(t, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d", c.name, code, c.code)
		}
	}
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		if _, err := os.Stat(filepath.Join(tmp, name, degen.RunFile)); err == nil {
			t.Errorf("a refused run left %s/%s behind", name, degen.RunFile)
		}
	}
	// --force replaces the existing run.
	if code, _ := runCapture(t, append([]string{"train", "--out", existing, "--force"}, tiny...)...); code != 0 {
		t.Errorf("--force exited %d", code)
	}
}

func TestTasksAndVersionJSON(t *testing.T) {
	code, out := runCapture(t, "tasks", "--json")
	var list []struct {
		Name  string `json:"name"`
		Knobs []struct {
			Name string `json:"name"`
		} `json:"knobs"`
		Threshold float64                 `json:"threshold"`
		Training  map[string]degen.Recipe `json:"training"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 4 {
		t.Fatalf("tasks --json exited %d:\n%s", code, out)
	}
	for _, task := range list {
		if task.Threshold <= 0 || task.Training["vanilla"].LR <= 0 || task.Training["rate"].Batch <= 0 {
			t.Errorf("tasks --json: %s lacks its threshold or training recipes: %+v", task.Name, task)
		}
	}
	code, out = runCapture(t, "version", "--json")
	if code != 0 || !strings.Contains(out, degen.Version) {
		t.Fatalf("version --json exited %d:\n%s", code, out)
	}
}

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"degen"
)

func TestMergeCommand(t *testing.T) {
	tmp := t.TempDir()
	var shards []string
	for _, sh := range []string{"0/2", "1/2"} {
		dir := filepath.Join(tmp, "shard"+sh[:1])
		if code, _ := runCapture(t, append([]string{"train", "--out", dir, "--shard", sh}, tiny...)...); code != 0 {
			t.Fatalf("shard %s exited %d", sh, code)
		}
		shards = append(shards, dir)
	}
	out := filepath.Join(tmp, "merged")
	if code, _ := runCapture(t, append([]string{"merge", "--out", out, "-q"}, shards...)...); code != 0 {
		t.Fatalf("merge exited %d", code)
	}
	info, err := degen.ReadRunInfo(out)
	if err != nil || len(info.Networks) != 2 || info.Networks[1].Index != 1 {
		t.Fatalf("merged run.json: %+v %v", info, err)
	}
	// One machine: the shards' backend detail, once. Another machine for a
	// shard: both, joined.
	cpuDetail := info.Detail
	if !strings.HasPrefix(cpuDetail, "CPU, float32") {
		t.Errorf("merged backend_detail %q, want the shards' CPU line", cpuDetail)
	}
	other, err := degen.ReadRunInfo(shards[1])
	if err != nil {
		t.Fatal(err)
	}
	other.Detail = "another machine"
	if err := degen.WriteRunInfo(shards[1], other); err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(tmp, "mixed")
	if code, _ := runCapture(t, append([]string{"merge", "--out", mixed, "-q"}, shards...)...); code != 0 {
		t.Fatalf("merge exited %d", code)
	}
	if info, err := degen.ReadRunInfo(mixed); err != nil || info.Detail != cpuDetail+" | another machine" {
		t.Errorf("merged backend_detail of shards from two machines: %v, want %q", err, cpuDetail+" | another machine")
	}
	if code, _ := runCapture(t, "eval", out, "-q"); code != 0 {
		t.Errorf("eval of the merged run exited %d", code)
	}
	for name, args := range map[string][]string{
		"no shards":     {"merge", "--out", filepath.Join(tmp, "a")},
		"missing shard": {"merge", "--out", filepath.Join(tmp, "b"), shards[0]},
		"existing out":  append([]string{"merge", "--out", out}, shards...),
		"no --out":      shards,
	} {
		if name == "no --out" {
			args = append([]string{"merge"}, args...)
		}
		if code, _ := runCapture(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
}

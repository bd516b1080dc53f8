package degen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

var statusCodes = []Status{Training, Converged, Diverged, NotConverged}

// writeCheckpoint saves everything the loop needs to continue bit for bit:
// the backend state, each network's schedule and status, and the position
// (epoch, step) of the next step, in one NPZ file written atomically.
func (t *trainer) writeCheckpoint() error {
	s, p := t.run.Dims.S, t.run.Layout.P
	codes := make([]int32, s)
	for i, st := range t.status {
		codes[i] = int32(slices.Index(statusCodes, st))
	}
	ints := func(v []int) []int64 {
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	}
	index := make([]int64, s)
	for i, spec := range t.run.Specs {
		index[i] = int64(spec.Index)
	}
	config, err := json.Marshal(t.run.Config)
	if err != nil {
		return err
	}
	return WriteNPZ(filepath.Join(t.dir, CheckpointFile),
		NamedArray{"config_json", []int{len(config)}, config},
		NamedArray{"params", []int{s, p}, t.state.Params},
		NamedArray{"adam_m", []int{s, p}, t.state.AdamM},
		NamedArray{"adam_v", []int{s, p}, t.state.AdamV},
		NamedArray{"adam_step", []int{s}, t.state.AdamStep},
		NamedArray{"networks", []int{s}, index},
		NamedArray{"lr", []int{s}, t.lr},
		NamedArray{"best", []int{s}, t.best},
		NamedArray{"bad", []int{s}, ints(t.bad)},
		NamedArray{"below", []int{s}, ints(t.below)},
		NamedArray{"status", []int{s}, codes},
		NamedArray{"epochs", []int{s}, ints(t.epochs)},
		NamedArray{"steps", []int{s}, ints(t.steps)},
		NamedArray{"final_loss", []int{s}, t.finalLoss},
		NamedArray{"epoch_sum", []int{s}, t.epochSum},
		NamedArray{"epoch_count", []int{s}, ints(t.epochCount)},
		NamedArray{"position", []int{2}, []int64{int64(t.epoch), int64(t.step)}},
	)
}

// loadCheckpoint restores the trainer from dir's checkpoint, checking that
// it belongs to this run, and cuts metrics.csv back to the checkpoint. A
// missing, corrupt or foreign checkpoint is an *InputError.
func (t *trainer) loadCheckpoint() error {
	return badInput(t.readCheckpoint())
}

func (t *trainer) readCheckpoint() error {
	path := filepath.Join(t.dir, CheckpointFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("cannot resume: %s has no checkpoint (%s)", t.dir, CheckpointFile)
	}
	if err := t.checkCheckpointConfig(path); err != nil {
		return err
	}
	s, p := t.run.Dims.S, t.run.Layout.P
	read := func(name string, shape ...int) ([]float64, error) {
		a, err := ReadNPZArray(path, name)
		if err != nil {
			return nil, fmt.Errorf("checkpoint is corrupted: %w", err)
		}
		if !slices.Equal(a.Shape, shape) {
			return nil, fmt.Errorf("checkpoint %s: %s has shape %v, want %v (does it belong to this run?)", path, name, a.Shape, shape)
		}
		return a.Data, nil
	}
	f32 := func(dst []float32, name string) error {
		v, err := read(name, s, p)
		for i := range v {
			dst[i] = float32(v[i])
		}
		return err
	}
	for _, x := range []struct {
		dst  []float32
		name string
	}{{t.state.Params, "params"}, {t.state.AdamM, "adam_m"}, {t.state.AdamV, "adam_v"}} {
		if err := f32(x.dst, x.name); err != nil {
			return err
		}
	}
	perNet := map[string][]float64{}
	for _, name := range []string{"adam_step", "networks", "lr", "best", "bad", "below", "status", "epochs", "steps", "final_loss", "epoch_sum", "epoch_count"} {
		v, err := read(name, s)
		if err != nil {
			return err
		}
		perNet[name] = v
	}
	pos, err := read("position", 2)
	if err != nil {
		return err
	}
	for i, spec := range t.run.Specs {
		if int(perNet["networks"][i]) != spec.Index {
			return fmt.Errorf("checkpoint %s holds network %d in slot %d, run.json says %d", path, int(perNet["networks"][i]), i, spec.Index)
		}
		code := int(perNet["status"][i])
		if code < 0 || code >= len(statusCodes) {
			return fmt.Errorf("checkpoint %s: bad status code %d", path, code)
		}
		t.state.AdamStep[i] = int32(perNet["adam_step"][i])
		t.lr[i], t.best[i] = perNet["lr"][i], perNet["best"][i]
		t.bad[i], t.below[i] = int(perNet["bad"][i]), int(perNet["below"][i])
		t.status[i] = statusCodes[code]
		t.epochs[i], t.steps[i] = int(perNet["epochs"][i]), int(perNet["steps"][i])
		t.finalLoss[i] = perNet["final_loss"][i]
		t.epochSum[i], t.epochCount[i] = perNet["epoch_sum"][i], int(perNet["epoch_count"][i])
	}
	t.epoch, t.step = int(pos[0]), int(pos[1])
	if t.epoch < 0 || t.step < 0 || t.step >= t.run.Config.StepsPerEpoch {
		return fmt.Errorf("checkpoint %s: bad position epoch %d step %d", path, t.epoch, t.step)
	}
	return t.truncateMetrics()
}

// checkCheckpointConfig refuses a checkpoint written under another config
// than the run's (one copied from another run, say with another seed or
// threshold), naming the keys that differ. Checkpoints of degen versions
// that did not record their config are accepted as before.
func (t *trainer) checkCheckpointConfig(path string) error {
	keys, err := NPZKeys(path)
	if err != nil {
		return fmt.Errorf("checkpoint is corrupted: %w", err)
	}
	if !slices.Contains(keys, "config_json") {
		return nil
	}
	a, err := ReadNPZArray(path, "config_json")
	if err != nil {
		return fmt.Errorf("checkpoint is corrupted: %w", err)
	}
	saved := make([]byte, len(a.Data))
	for i, v := range a.Data {
		saved[i] = byte(v)
	}
	current, err := json.Marshal(t.run.Config)
	if err != nil {
		return err
	}
	var was, now map[string]any
	if err := json.Unmarshal(saved, &was); err != nil {
		return fmt.Errorf("checkpoint %s: its config is corrupted: %w", path, err)
	}
	if err := json.Unmarshal(current, &now); err != nil {
		return err
	}
	var diff []string
	for k := range was {
		if _, ok := now[k]; !ok {
			diff = append(diff, k)
		}
	}
	for k, v := range now {
		if w, ok := was[k]; !ok || !reflect.DeepEqual(w, v) {
			diff = append(diff, k)
		}
	}
	if len(diff) == 0 {
		return nil
	}
	slices.Sort(diff)
	var parts []string
	for _, k := range diff {
		parts = append(parts, fmt.Sprintf("%s (checkpoint %v, run.json %v)", k, jsonText(was[k]), jsonText(now[k])))
	}
	return fmt.Errorf("checkpoint %s belongs to another run: its config differs in %s", path, strings.Join(parts, ", "))
}

// jsonText prints a decoded JSON value compactly.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// metricsRow is one row of metrics.csv with its epoch and network parsed.
type metricsRow struct {
	epoch, network int
	line           string
}

// readMetrics returns the rows of a metrics.csv in file order, and the lines
// other than the header that are not rows.
func readMetrics(path string) (rows []metricsRow, bad []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.SplitN(line, ",", 3)
		if line+"\n" == metricsHeader {
			continue
		}
		e, err1 := strconv.Atoi(fields[0])
		if len(fields) < 3 || err1 != nil {
			bad = append(bad, line)
			continue
		}
		n, err := strconv.Atoi(fields[1])
		if err != nil {
			bad = append(bad, line)
			continue
		}
		rows = append(rows, metricsRow{e, n, line})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	return rows, bad, nil
}

// truncateMetrics keeps the metrics rows of the epochs before the
// checkpoint, so a resumed run's metrics.csv equals an uninterrupted one's.
func (t *trainer) truncateMetrics() error {
	path := filepath.Join(t.dir, MetricsFile)
	if _, err := os.Stat(path); err != nil {
		return t.writeMetricsHeader()
	}
	rows, _, err := readMetrics(path) // an unreadable row can only be a torn last append
	if err != nil {
		return err
	}
	var kept strings.Builder
	kept.WriteString(metricsHeader)
	for _, r := range rows {
		if r.epoch < t.epoch {
			kept.WriteString(r.line + "\n")
		}
	}
	return WriteAtomic(path, func(f *os.File) error {
		_, err := f.WriteString(kept.String())
		return err
	})
}

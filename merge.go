package degen

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// MergeShards gathers the run directories of the shards of one sweep (each
// trained with --shard i/n) into the run directory out, as if the whole
// ensemble had trained at once: run.json with every network in index order
// and the config of the whole ensemble, weights.npz, and metrics.csv ordered
// by epoch and network like an unsharded run's. Every shard of the sweep
// must be given once, with the same config apart from the shard index.
// The merged run can be evaluated and analysed; it has no checkpoint, so it
// cannot be resumed (resume the shards instead). A shard that has not
// finished training is refused unless allowUnfinished is true; its networks
// still training are then recorded as not converged.
func MergeShards(out string, dirs []string, allowUnfinished bool) error {
	if len(dirs) == 0 {
		return fmt.Errorf("merge: no shard directories given")
	}
	infos := make([]*RunInfo, len(dirs))
	for i, dir := range dirs {
		info, err := ReadRunInfo(dir)
		if err != nil {
			return err
		}
		infos[i] = info
		if !info.Finished && !allowUnfinished {
			training := 0
			for _, n := range info.Networks {
				if n.Status == Training {
					training++
				}
			}
			return fmt.Errorf("merge: %s has not finished training (%d of %d networks still training): finish it with `degen train --resume %s`, or merge it as it stands with --allow-unfinished",
				dir, training, len(info.Networks), dir)
		}
	}
	cfg := infos[0].Config
	cfg.Shard, cfg.Shards = 0, 1
	seen := map[int]string{}
	for i, info := range infos {
		c := info.Config
		if c.Shards != len(dirs) {
			return fmt.Errorf("merge: %s is shard %d of %d, but %d directories were given", dirs[i], c.Shard, c.Shards, len(dirs))
		}
		if prev, ok := seen[c.Shard]; ok {
			return fmt.Errorf("merge: %s and %s are both shard %d", prev, dirs[i], c.Shard)
		}
		seen[c.Shard] = dirs[i]
		c.Shard, c.Shards = 0, 1
		if !sameConfig(c, cfg) {
			return fmt.Errorf("merge: %s was trained with another config than %s", dirs[i], dirs[0])
		}
	}
	run, err := NewRun(cfg, infos[0].Backend)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	l, p := run.Layout, run.Layout.P
	slotOf := make(map[int]int, len(run.Specs)) // network index -> slot in the merged run
	for s, spec := range run.Specs {
		slotOf[spec.Index] = s
	}
	merged := &RunInfo{Version: Version, Backend: infos[0].Backend, Config: cfg, Knobs: infos[0].Knobs,
		Threshold: infos[0].Threshold, Dims: run.Dims, Finished: true, Networks: make([]NetworkStatus, len(run.Specs))}
	params := make([]float32, len(run.Specs)*p)
	initial := make([]float32, len(run.Specs)*p)
	filled := make([]bool, len(run.Specs))
	for i, info := range infos {
		if info.Backend != merged.Backend {
			merged.Backend = "mixed"
		}
		if info.Detail != "" && !slices.Contains(strings.Split(merged.Detail, " | "), info.Detail) {
			merged.Detail = strings.TrimPrefix(merged.Detail+" | "+info.Detail, " | ")
		}
		merged.Epoch = max(merged.Epoch, info.Epoch)
		merged.Finished = merged.Finished && info.Finished
		s := len(info.Networks)
		w, err := ReadWeights(dirs[i], l, s, "")
		if err != nil {
			return err
		}
		w0, err := ReadWeights(dirs[i], l, s, "_init")
		if err != nil {
			return err
		}
		for k, n := range info.Networks {
			slot, ok := slotOf[n.Index]
			if !ok || filled[slot] || run.Specs[slot] != n.NetworkSpec {
				return fmt.Errorf("merge: %s: network %d does not belong to this sweep or appears twice", dirs[i], n.Index)
			}
			filled[slot] = true
			if n.Status == Training { // only with allowUnfinished
				n.Status = NotConverged
			}
			merged.Networks[slot] = n
			copy(params[slot*p:(slot+1)*p], w[k*p:(k+1)*p])
			copy(initial[slot*p:(slot+1)*p], w0[k*p:(k+1)*p])
		}
	}
	if i := slices.Index(filled, false); i >= 0 {
		return fmt.Errorf("merge: network %d is in no shard", run.Specs[i].Index)
	}
	if err := PrepareDir(out, false); err != nil {
		return err
	}
	if err := mergeMetrics(filepath.Join(out, MetricsFile), dirs); err != nil {
		return err
	}
	if err := WriteWeights(out, l, params, initial); err != nil {
		return err
	}
	return WriteRunInfo(out, merged)
}

// sameConfig compares two configs field by field (Knobs is a map).
func sameConfig(a, b Config) bool {
	ka, kb := a.Knobs, b.Knobs
	a.Knobs, b.Knobs = nil, nil
	return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) && fmt.Sprint(ka) == fmt.Sprint(kb)
}

// mergeMetrics concatenates the shards' metrics.csv rows ordered by epoch,
// then network, the order an unsharded run writes them in.
func mergeMetrics(path string, dirs []string) error {
	var rows []metricsRow
	for _, dir := range dirs {
		file := filepath.Join(dir, MetricsFile)
		r, bad, err := readMetrics(file)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if len(bad) > 0 {
			return fmt.Errorf("merge: %s: bad row %q", file, bad[0])
		}
		rows = append(rows, r...)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].epoch != rows[j].epoch {
			return rows[i].epoch < rows[j].epoch
		}
		return rows[i].network < rows[j].network
	})
	return WriteAtomic(path, func(f *os.File) error {
		w := bufio.NewWriter(f)
		w.WriteString(metricsHeader)
		for _, r := range rows {
			w.WriteString(r.line + "\n")
		}
		return w.Flush()
	})
}

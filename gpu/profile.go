//go:build cuda || cudaemu

package gpu

import (
	"fmt"
	"slices"
	"time"

	"degen"
	"degen/cuda"
	"degen/tasks"
)

// Profile times reps training steps on batch bt and returns the median of
// each part in milliseconds: every kernel alone (device events), the four
// kernels back to back with the batch already on the device, the batch
// upload (host clock), and a whole Step as the training loop calls it (host
// clock: upload, launches, loss download). Parameters change as in training.
func (g *Backend) Profile(bt *tasks.Batch, h *degen.Hyper, reps int) (Timing, error) {
	var tm Timing
	if err := g.dims.CheckBatch(bt); err != nil {
		return tm, fmt.Errorf("gpu: profile: %w", err)
	}
	if err := g.dims.CheckHyper(h, true); err != nil {
		return tm, fmt.Errorf("gpu: profile: %w", err)
	}
	active := make([]bool, g.dims.S)
	for i := range active {
		active[i] = true
	}
	loss := make([]float32, g.dims.S)
	parts := make([][]float64, 7)
	err := g.ctx.Do(func() error {
		timer, err := cuda.NewTimer()
		if err != nil {
			return err
		}
		defer timer.Close()
		for r := 0; r < reps+2; r++ {
			keep := r >= 2 // two warm-up rounds
			t0 := time.Now()
			if err := g.upload(bt); err != nil {
				return err
			}
			if err := g.sync(); err != nil {
				return err
			}
			up := float64(time.Since(t0).Microseconds()) / 1e3
			if _, err := g.uploadHyper(h, active); err != nil {
				return err
			}
			// Each kernel alone, then all four together.
			var one [4]float64
			launches := g.stepLaunches(bt, h)
			for k, f := range launches {
				if err := timer.Start(); err != nil {
					return err
				}
				if err := f(); err != nil {
					return err
				}
				if one[k], err = timer.Stop(); err != nil {
					return fmt.Errorf("%w (%s)", err, g.launched)
				}
			}
			g.launched = g.launched[:0]
			if err := timer.Start(); err != nil {
				return err
			}
			for _, f := range launches {
				if err := f(); err != nil {
					return err
				}
			}
			all, err := timer.Stop()
			if err != nil {
				return err
			}
			g.launched = g.launched[:0]
			t0 = time.Now()
			if err := g.gradient(bt, h, active, 1); err != nil {
				return err
			}
			if err := g.sync(); err != nil {
				return err
			}
			if err := g.loss.Download(loss); err != nil {
				return err
			}
			step := float64(time.Since(t0).Microseconds()) / 1e3
			if keep {
				for k, v := range []float64{one[0], one[1], one[2], one[3], all, up, step} {
					parts[k] = append(parts[k], v)
				}
			}
		}
		return nil
	})
	if err != nil {
		return tm, fmt.Errorf("gpu: profile: %w", err)
	}
	med := func(v []float64) float64 {
		slices.Sort(v)
		return v[len(v)/2]
	}
	tm = Timing{Forward: med(parts[0]), Backward: med(parts[1]), GradWhh: med(parts[2]), Adam: med(parts[3]),
		Kernels: med(parts[4]), Upload: med(parts[5]), Step: med(parts[6])}
	return tm, nil
}

// stepLaunches returns the four launches of a training step (batch and
// hyperparameters already uploaded, nuclear norm off); with the fused
// backward the third (weight gradients) launches nothing.
func (g *Backend) stepLaunches(bt *tasks.Batch, h *degen.Hyper) []func() error {
	return []func() error{
		func() error { return g.forward(bt, nil, g.dy) },
		func() error { return g.backward(bt) },
		func() error { return g.weightGradients(bt) },
		func() error { return g.adamStep(h, nil, 1) },
	}
}

package tasks_test

import (
	"fmt"

	"degen/tasks"
)

// Example builds a task from the registry and fills one batch for an
// ensemble of three networks, each with its own trials.
func Example() {
	task, err := tasks.New("delayed", map[string]float64{"aux": 1, "delay_max": 30})
	if err != nil {
		fmt.Println(err)
		return
	}
	keys := []tasks.Key{{Seed: 1, Network: 0}, {Seed: 1, Network: 1}, {Seed: 1, Network: 2}}
	batch := tasks.NewBatchFor(task, len(keys), 64, false)
	if err := tasks.Generate(task, batch, keys, false); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("N=%d B=%d T=%d I=%d O=%d threshold=%g\n", batch.N, batch.B, batch.T, batch.I, batch.O, task.Threshold())
	fmt.Println("OOD steps:", task.Steps(true))
	_, err = tasks.New("delayed", map[string]float64{"delay": 30})
	fmt.Println(err)
	// Output:
	// N=3 B=64 T=55 I=1 O=2 threshold=0.01
	// OOD steps: 85
	// tasks: delayed: unknown knob "delay" (valid: channels, delay_min, delay_max, aux, pulse, lead, response, fmin, fmax, gap)
}

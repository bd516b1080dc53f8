package tasks

// Task generates trials for one task at fixed knob values.
//
// Every value a task draws comes from a counter-based generator keyed by
// (seed, network, step, trial, ...), so network n's data never depend on how
// many networks train beside it, and the same key gives the same trials on
// every machine.
type Task interface {
	// Name is the registry name ("flipflop", "sine", "delayed", "pathint").
	Name() string
	// Inputs and Outputs are the channel counts I and O.
	Inputs() int
	Outputs() int
	// Steps is the trial length T in distribution; OOD trials may be longer.
	Steps(ood bool) int
	// Threshold is the default training-MSE threshold for convergence.
	Threshold() float64
	// Fill writes trials into slot n of b (b.T must equal Steps(ood)).
	// Key selects the random stream: network is the network's seed index,
	// step the training step (or an evaluation stream).
	Fill(b *Batch, n int, key Key, ood bool)
	// Knobs returns the knob values in use, defaults filled in.
	Knobs() map[string]float64
}

// Key names one stream of the counter-based generator.
type Key struct {
	Seed    uint64 // experiment seed
	Network uint64 // network seed index (not its slot in the ensemble)
	Step    uint64 // training step, or EvalStep for the fixed evaluation set
}

// EvalStep is the step value reserved for fixed evaluation sets.
const EvalStep = ^uint64(0)

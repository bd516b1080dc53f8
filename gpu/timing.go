package gpu

// Timing is what Backend.Profile measures, medians in milliseconds.
type Timing struct {
	Forward  float64 `json:"forward_ms"`  // rnn_forward alone (device events)
	Backward float64 `json:"backward_ms"` // rnn_backward alone
	GradWhh  float64 `json:"grad_whh_ms"` // rnn_grad_whh alone
	Adam     float64 `json:"adam_ms"`     // rnn_adam alone
	Kernels  float64 `json:"kernels_ms"`  // the four kernels back to back, batch on the device
	Upload   float64 `json:"upload_ms"`   // uploading the batch (host clock)
	Step     float64 `json:"step_ms"`     // Step as the training loop calls it (host clock)
}

// TaskTiming is what Backend.ProfileTask measures, medians in milliseconds.
type TaskTiming struct {
	Generate float64 `json:"generate_ms"`  // the task kernel alone (device events)
	StepTask float64 `json:"step_task_ms"` // StepTask as the training loop calls it (host clock)
}

package inject

// TaskError is the opt-in error detail an error callback can receive: give
// its input type a field of this type (or *TaskError), or tag any field
// `hatchetflow:"task_error"`. MageFlow never passes the error on; callbacks
// that declare no such field get exactly the failed task's message.
type TaskError struct {
	// Task is the name of the task that failed.
	Task string `json:"task"`
	// SignatureID is the ID of the failed task's signature.
	SignatureID string `json:"signature_id"`
	// RunID is the Hatchet run ID of the failed task.
	RunID string `json:"run_id"`
	// Attempt is the 1-based number of the final attempt.
	Attempt int `json:"attempt"`
	// Message is the error message of the final attempt.
	Message string `json:"message"`
	// ChainID is the chain whose step failed, when the callback is the chain's error
	// callback; Task and SignatureID then name the failed step.
	ChainID string `json:"chain_id,omitempty"`
	// Cancelled is true when the task (or its chain or swarm) was cancelled rather
	// than failed.
	Cancelled bool `json:"cancelled,omitempty"`
	// Failures is, when a swarm failed because its items' failures reached its
	// StopAfter threshold (Task is then the swarm task), how many of its items had
	// failed when it stopped; items that fail after the stop do not change it. 0
	// otherwise.
	Failures int `json:"failures,omitempty"`
	// Step is, when Task is a workflow of several tasks (a DAG), the task of the
	// workflow that failed; "" otherwise.
	Step string `json:"step,omitempty"`
}

// toMap encodes te as a JSON object with the json names of its fields.
func (te *TaskError) toMap() map[string]any {
	m := map[string]any{
		"task":         te.Task,
		"signature_id": te.SignatureID,
		"run_id":       te.RunID,
		"attempt":      te.Attempt,
		"message":      te.Message,
	}
	if te.ChainID != "" {
		m["chain_id"] = te.ChainID
	}
	if te.Cancelled {
		m["cancelled"] = true
	}
	if te.Step != "" {
		m["step"] = te.Step
	}
	if te.Failures != 0 {
		m["failures"] = te.Failures
	}
	return m
}

// SuccessInput returns the injected part of a success callback's input:
// {f.Return: returnValue}. The value is deep-copied (see [DeepCopy]). A zero
// f.Return means [DefaultReturnField]. Bound kwargs are merged over the
// result with [Merge].
func SuccessInput(f Fields, returnValue any) map[string]any {
	name := f.Return
	if name == "" {
		name = DefaultReturnField
	}
	return map[string]any{name: DeepCopy(returnValue)}
}

// ErrorInput returns the injected part of an error callback's input: a deep
// copy of original (the failed task's message; nil gives an empty map), plus
// {f.Error: te} when f.Error != "" and te != nil, with te encoded as a
// map[string]any keyed by its json names. original is not modified. Bound
// kwargs are merged over the result with [Merge].
func ErrorInput(original map[string]any, f Fields, te *TaskError) map[string]any {
	out := copyObject(original)
	if f.Error != "" && te != nil {
		out[f.Error] = te.toMap()
	}
	return out
}

package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
)

// TaskDef describes a registered task, written by workers at start so that producers
// elsewhere can sign the task by name.
type TaskDef struct {
	// Name is the task name.
	Name string `json:"name"`
	// Schema is the JSON Schema of the task's input.
	Schema json.RawMessage `json:"schema,omitempty"`
	// ReturnField is the input field that receives a parent's return value.
	ReturnField string `json:"return_field"`
	// ErrorField is the input field that receives error details, "" for none.
	ErrorField string `json:"error_field,omitempty"`
	// OutcomeField is the input field that receives a finally callback's outcome, ""
	// when the input type marks none (inject.DefaultOutcomeField is used).
	OutcomeField string `json:"outcome_field,omitempty"`
	// SignalField is the input field that receives the payload of the signal that
	// released a waiting signature, "" when the task marks none.
	SignalField string `json:"signal_field,omitempty"`
	// Retries is how many times the engine retries a failed attempt.
	Retries int `json:"retries"`
	// Output is the JSON Schema of the task's return value, nil when unknown.
	Output json.RawMessage `json:"output,omitempty"`
	// InputType and OutputType are the Go types of the task's input and return value,
	// for error messages ("" when unknown).
	InputType  string `json:"input_type,omitempty"`
	OutputType string `json:"output_type,omitempty"`
	// Kind is how the task runs: [KindTask] ("") for a task whose hatchetflow step
	// starts and ends its signature, [KindDurable] for such a task registered as a
	// Hatchet durable task, [KindWorkflow] for a workflow of several tasks (a DAG) that
	// hatchetflow's end and on-failure steps settle.
	Kind string `json:"kind,omitempty"`
}

// Task kinds of the registry ([TaskDef.Kind]).
const (
	// KindTask is a hatchetflow task: one main step that starts the signature, merges
	// its bound kwargs into the message and ends it.
	KindTask = ""
	// KindDurable is a hatchetflow task registered as a Hatchet durable task.
	KindDurable = "durable"
	// KindWorkflow is a workflow of several tasks: its tasks take the message as the
	// dispatch sends it (bound kwargs merged), and hatchetflow's steps added to it end
	// the signature.
	KindWorkflow = "workflow"
)

// RegisterTasks writes defs to the registry in one command. The registry has no TTL.
func (s *Store) RegisterTasks(ctx context.Context, defs []TaskDef) error {
	if len(defs) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(defs))
	for _, d := range defs {
		b, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("redisstore: encode task %q: %w", d.Name, err)
		}
		args = append(args, d.Name, string(b))
	}
	if err := s.rdb.HSet(ctx, s.RegistryKey(), args...).Err(); err != nil {
		return opError(fmt.Sprintf("register %d tasks", len(defs)), err)
	}
	return nil
}

// LookupTasks reads the definitions of names in one command; names that no worker
// registered are absent from the result.
func (s *Store) LookupTasks(ctx context.Context, names []string) (map[string]TaskDef, error) {
	out := make(map[string]TaskDef, len(names))
	if len(names) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.RegistryKey(), names...).Result()
	if err != nil {
		return nil, opError("read task registry", err)
	}
	r := reply(vals)
	for i := range vals {
		if !r.has(i) { // no worker registered names[i]
			continue
		}
		var d TaskDef
		if err := json.Unmarshal([]byte(r.str(i)), &d); err != nil {
			return nil, fmt.Errorf("redisstore: task %q: bad registry entry: %w", names[i], err)
		}
		out[names[i]] = d
	}
	return out, nil
}

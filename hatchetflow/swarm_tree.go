package hatchetflow

import (
	"encoding/json"
	"fmt"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// swarmOutput is the output schema of a swarm: its results are a list, one per item.
var swarmOutput = json.RawMessage(`{"type":"array"}`)

// swarmDef is the task definition a swarm record is checked as: it takes any object
// (its items' tasks check what they get) and returns a list.
var swarmDef = redisstore.TaskDef{Name: SwarmTask, ReturnField: inject.DefaultReturnField,
	Output: swarmOutput, OutputType: "[]json.RawMessage"}

// swarm compiles a swarm: its callbacks, its items (each with the swarm kwargs as
// defaults, and naming the item it ends), then its record. As a chain step the swarm
// record is the step (a leaf of the chain): its successor is one of its success
// callbacks, and it carries the chain's error callbacks.
func (t *tree) swarm(sb dsl.SwarmBuilder, f frame) (node, error) {
	if f.wait != nil {
		return node{}, &WaitPositionError{Task: SwarmTask, Reason: "a swarm cannot wait; give its items' work a chain that waits instead"}
	}
	id, err := t.newID()
	if err != nil {
		return node{}, err
	}
	defaults := withDefaults(map[string]any(sb.Kwargs()), f.defaults)
	rec := &redisstore.Record{ID: id, Kind: redisstore.KindSwarm, Task: SwarmTask,
		Kwargs: map[string]any(sb.Kwargs()), Status: StatusPending, CreatedAt: t.now,
		ReturnField: inject.DefaultReturnField, Containers: f.containers, FirstLeaf: f.first,
		ChainErrors: f.chainErrs, ChainFinally: f.chainFins, Item: f.item,
		Swarm: &redisstore.SwarmConfig{MaxConcurrency: sb.Concurrency(), StopAfter: sb.StopAfterFailures(),
			MaxItems: sb.ItemLimit(), Closed: !sb.IsOpen()}}
	items, err := t.items(id, 0, sb.Items(), defaults)
	if err != nil {
		return node{}, err
	}
	self := shapeOf(rec, swarmDef)
	for _, it := range items {
		rec.Items = append(rec.Items, it.entry.ref())
		rec.Steps = append(rec.Steps, it.id)
		self.items = append(self.items, it.entry)
	}
	saved := dsl.Saved{ID: id, Task: SwarmTask, Swarm: true}
	if err := t.callbacks(rec, self, &saved, sb.SuccessCallbacks(), sb.ErrorCallbacks(), sb.FinallyCallbacks(), f.next); err != nil {
		return node{}, err
	}
	t.plan.recs = append(t.plan.recs, rec) // after its items and callbacks
	return node{id: id, swarm: true, entry: self, exit: self, leaves: []string{id}, saved: saved}, nil
}

// items compiles the items of swarm id from index first on, with defaults as the
// kwargs they get under their own.
func (t *tree) items(id string, first int, specs []dsl.Spec, defaults map[string]any) ([]node, error) {
	out := make([]node, 0, len(specs))
	for i, s := range specs {
		n, err := t.compile(s, frame{defaults: defaults, item: &redisstore.SwarmItemRef{SwarmID: id, Index: first + i},
			noWait: "it is a swarm item"})
		if err != nil {
			return nil, fmt.Errorf("swarm item %d: %w", first+i, err)
		}
		out = append(out, n)
	}
	return out, nil
}

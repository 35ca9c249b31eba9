package hatchetflow

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// plan is what one Save writes: new records, callbacks and later steps before the
// records that name them, and saved signatures to link into chains.
type plan struct {
	recs  []*redisstore.Record
	links []link
	root  node
	// ifAbsent: the ids are deterministic (a call inside a task), so records that a
	// previous attempt created are kept, and links it made are accepted.
	ifAbsent bool
}

// link makes a saved, pending signature a chain step (redisstore.Store.LinkStep).
type link struct {
	id     string
	fields *redisstore.Record
	kwargs map[string]any
}

// node is a compiled spec: its own id (a signature or a chain), the leaf signature that
// starts it (entry) and the one whose result is its result (exit).
type node struct {
	id          string
	chain       bool
	swarm       bool
	entry, exit shape
	leaves      []string
	saved       dsl.Saved // what Save reports of it
	// status and owner are a stored node's (read to run it).
	status Status
	owner  string
}

// frame is what enclosing chains add to a spec compiled as their step.
type frame struct {
	next       []shape                           // successors: success callbacks of the exit leaf
	chainErrs  []redisstore.ContainerCallbackRef // the enclosing chains' error callbacks
	chainFins  []redisstore.ContainerCallbackRef // the enclosing chains' finally callbacks
	defaults   map[string]any                    // chain kwargs, inner over outer; step kwargs win
	containers []string                          // enclosing chains, innermost first
	first      bool                              // the entry leaf starts a chain
	item       *redisstore.SwarmItemRef          // the spec is this swarm item
	// wait is the event an enclosing chain's After gives the entry leaf; noWait, when
	// set, is why the entry leaf cannot wait (a swarm item's).
	wait   *dsl.EventWait
	noWait string
}

func (f frame) inChain() bool { return len(f.containers) > 0 }

// linked reports whether a saved signature compiled in f must be linked: as a chain
// step or a swarm item it gets fields and kwargs.
func (f frame) linked() bool { return f.inChain() || f.item != nil }

// saved returns the Saved value of the plan's root.
func (p *plan) saved() dsl.Saved { return p.root.saved }

// write saves the plan's records in one pipeline, then links saved steps.
func (c *Client) write(ctx context.Context, p *plan) error {
	save := c.store.SaveTree
	if p.ifAbsent {
		save = c.store.SaveTreeIfAbsent
	}
	if err := save(ctx, p.recs); err != nil {
		return err
	}
	for _, l := range p.links {
		err := c.store.LinkStep(ctx, l.id, l.fields, l.kwargs)
		var ce *redisstore.ContainedError
		if p.ifAbsent && errors.As(err, &ce) && ce.ChainID == l.fields.Containers[0] {
			continue // linked by a previous attempt into the same chain
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// compile validates the tree of spec and returns what saving it writes. Each callback
// and each chain step is checked against what it will receive (see checkFit). A
// non-empty seed makes the ids deterministic.
func (c *Client) compile(ctx context.Context, spec dsl.Spec, seed string) (*plan, error) {
	t, err := c.newTree(ctx, seed, spec)
	if err != nil {
		return nil, err
	}
	root, err := t.compile(spec, frame{})
	if err != nil {
		return nil, err
	}
	t.plan.root = root
	for _, r := range t.plan.recs {
		r.Root = r.ID == root.id
	}
	return t.plan, nil
}

// newTree checks specs and reads what compiling them needs: the tasks they name and
// the stored signatures they refer to.
func (c *Client) newTree(ctx context.Context, seed string, specs ...dsl.Spec) (*tree, error) {
	var names, refs []string
	for _, spec := range specs {
		if err := partsOf(spec).err; err != nil {
			return nil, err
		}
		collect(spec, &names, &refs)
	}
	refRecs, err := c.store.GetMany(ctx, refs)
	if err != nil {
		return nil, err
	}
	// Saved chains are used through their first and last steps.
	var leafIDs []string
	for _, r := range refRecs {
		if r.Kind == redisstore.KindChain && len(r.Leaves) > 0 {
			leafIDs = append(leafIDs, r.Leaves[0], r.Leaves[len(r.Leaves)-1])
		}
	}
	if len(leafIDs) > 0 {
		leaves, err := c.store.GetMany(ctx, leafIDs)
		if err != nil {
			return nil, err
		}
		maps.Copy(refRecs, leaves)
	}
	for _, r := range refRecs {
		if r.Kind == redisstore.KindSignature && len(r.Schema) == 0 {
			names = append(names, r.Task)
		}
	}
	defs, err := c.lookupTasks(ctx, names)
	if err != nil {
		return nil, err
	}
	t := &tree{c: c, defs: defs, refs: refRecs, now: time.Now(), plan: &plan{}, seed: seed}
	t.plan.ifAbsent = seed != ""
	return t, nil
}

// specParts is a spec taken apart for the checks and look-ups before compiling.
type specParts struct {
	// err is why the spec cannot be saved at all (dsl.ErrNilCallback for a nil one).
	err error
	// stored is the id a [dsl.Ref] or [dsl.Saved] refers to.
	stored string
	// lookup is a builder's task, to find in the registry ("" when a Validate type
	// stands for it).
	lookup string
	// nested are a chain's steps, a swarm's items and every callback.
	nested []dsl.Spec
}

// partsOf takes spec apart (the one place besides tree.compile that knows the kinds
// of spec).
func partsOf(spec dsl.Spec) specParts {
	switch s := spec.(type) {
	case dsl.Builder:
		p := specParts{err: s.Err(), nested: slices.Concat(s.SuccessCallbacks(), s.ErrorCallbacks(), s.FinallyCallbacks())}
		if s.ValidatorType() == nil {
			p.lookup = s.Task()
		}
		return p
	case dsl.ChainBuilder:
		return specParts{err: s.Err(), nested: slices.Concat(s.Steps(), s.SuccessCallbacks(), s.ErrorCallbacks(), s.FinallyCallbacks())}
	case dsl.SwarmBuilder:
		return specParts{err: s.Err(), nested: slices.Concat(s.Items(), s.SuccessCallbacks(), s.ErrorCallbacks(), s.FinallyCallbacks())}
	}
	if id, ok := storedID(spec); ok {
		return specParts{stored: id}
	}
	return specParts{err: dsl.ErrNilCallback}
}

// collect gathers the task names to look up and the referenced ids of a tree.
func collect(spec dsl.Spec, names, refs *[]string) {
	p := partsOf(spec)
	if p.stored != "" {
		*refs = append(*refs, p.stored)
	}
	if p.lookup != "" {
		*names = append(*names, p.lookup)
	}
	for _, n := range p.nested {
		collect(n, names, refs)
	}
}

// tree compiles one Save.
type tree struct {
	c    *Client
	defs map[string]redisstore.TaskDef
	refs map[string]*redisstore.Record
	now  time.Time
	plan *plan
	// seed, when set, makes ids deterministic: the n-th id of the tree is a UUIDv5 of
	// seed and n, so a retried attempt compiles the same ids (see InTask).
	seed string
	n    int
}

// idSpace is the UUIDv5 namespace of deterministic signature ids.
var idSpace = uuid.MustParse("5b0c7f0e-8f4e-4d0a-9d0b-6e1f3a2c4b10")

func (t *tree) newID() (string, error) {
	if t.seed == "" {
		return redisstore.NewID()
	}
	t.n++
	return seededID(t.seed, t.n), nil
}

// seededID is the n-th id (from 1) of a tree compiled with seed: the root of a tree
// whose root is a signature is the first.
func seededID(seed string, n int) string {
	return uuid.NewSHA1(idSpace, []byte(fmt.Sprintf("%s/%d", seed, n))).String()
}

func (t *tree) compile(spec dsl.Spec, f frame) (node, error) {
	switch s := spec.(type) {
	case dsl.Builder:
		return t.signature(s, f)
	case dsl.ChainBuilder:
		return t.chain(s, f)
	case dsl.SwarmBuilder:
		return t.swarm(s, f)
	}
	if id, ok := storedID(spec); ok {
		return t.saved(id, f)
	}
	return node{}, dsl.ErrNilCallback
}

// signature compiles a builder into a new record.
func (t *tree) signature(b dsl.Builder, f frame) (node, error) {
	def, override, err := t.c.definition(b, t.defs)
	if err != nil {
		return node{}, err
	}
	kw := withDefaults(map[string]any(b.Kwargs()), f.defaults)
	if err := t.c.checkKwargs(b.Task(), def.Schema, kw); err != nil {
		return node{}, err
	}
	id, err := t.newID()
	if err != nil {
		return node{}, err
	}
	rec := &redisstore.Record{ID: id, Task: b.Task(), Kwargs: kw, Status: StatusPending,
		ReturnField: def.ReturnField, ErrorField: def.ErrorField, OutcomeField: def.OutcomeField, CreatedAt: t.now,
		Containers: f.containers, FirstLeaf: f.first, ChainErrors: f.chainErrs, ChainFinally: f.chainFins, Item: f.item}
	if override {
		rec.Schema = def.Schema
	}
	if rec.Wait, err = t.waitOf(b, def, f); err != nil {
		return node{}, err
	}
	self := shapeOf(rec, def)
	saved := dsl.Saved{ID: id, Task: rec.Task}
	if err := t.callbacks(rec, self, &saved, b.SuccessCallbacks(), b.ErrorCallbacks(), b.FinallyCallbacks(), f.next); err != nil {
		return node{}, err
	}
	t.plan.recs = append(t.plan.recs, rec) // after its callbacks
	return node{id: id, entry: self, exit: self, leaves: []string{id}, saved: saved}, nil
}

// waitOf returns the wait of the signature b compiles to in frame f (task def): its
// own After, or its chain's (f.wait), checked; nil when it does not wait.
func (t *tree) waitOf(b dsl.Builder, def redisstore.TaskDef, f frame) (*redisstore.WaitSpec, error) {
	ev, own := b.Wait()
	switch {
	case own && f.wait != nil:
		return nil, &WaitPositionError{Task: b.Task(), Reason: "the chain's first step waits for an event of its own"}
	case f.wait != nil:
		ev = *f.wait
	case !own:
		return nil, nil
	}
	if f.noWait != "" {
		return nil, &WaitPositionError{Task: b.Task(), Reason: f.noWait}
	}
	if err := ev.Err(); err != nil {
		return nil, err
	}
	if ttl := t.c.store.ActiveTTL(); ev.TimeoutDuration() >= ttl/2 {
		return nil, fmt.Errorf("%w: timeout %v of the wait for event %q is not under half the signatures' active TTL (%v): raise WithActiveTTL",
			ErrUnsupportedOption, ev.TimeoutDuration(), ev.Name(), ttl)
	}
	field := def.SignalField
	if field == "" {
		field = inject.DefaultSignalField
	}
	return &redisstore.WaitSpec{Event: ev.Name(), Key: ev.Key(), Timeout: ev.TimeoutDuration(), Field: field}, nil
}

// callbacks compiles the success, error and finally callbacks of rec (whose shape is
// self), each checked against what it will receive, then adds next (its successors as
// a chain step) to its success callbacks; saved lists what was saved.
func (t *tree) callbacks(rec *redisstore.Record, self shape, saved *dsl.Saved, success, failure, finally []dsl.Spec, next []shape) error {
	for _, branch := range []struct {
		outcome Outcome
		specs   []dsl.Spec
		dst     *[]redisstore.CallbackRef
		out     *[]dsl.Saved
	}{{OutcomeSuccess, success, &rec.OnSuccess, &saved.OnSuccess},
		{OutcomeError, failure, &rec.OnError, &saved.OnError},
		{OutcomeFinally, finally, &rec.Finally, &saved.Finally}} {
		for _, s := range branch.specs {
			cb, err := t.compile(s, frame{})
			if err != nil {
				return err
			}
			if err := checkFit(&t.c.fits, self, cb.entry, branch.outcome); err != nil {
				return err
			}
			*branch.dst = append(*branch.dst, cb.entry.ref())
			*branch.out = append(*branch.out, cb.saved)
		}
	}
	for _, n := range next {
		if err := checkFit(&t.c.fits, self, n, OutcomeSuccess); err != nil {
			return err
		}
		rec.OnSuccess = append(rec.OnSuccess, n.ref())
	}
	return nil
}

// chain compiles a chain: its callbacks, then its steps from the last to the first
// (each step's successor exists before it), then its container record.
func (t *tree) chain(ch dsl.ChainBuilder, f frame) (node, error) {
	id, err := t.newID()
	if err != nil {
		return node{}, err
	}
	defaults := withDefaults(map[string]any(ch.Kwargs()), f.defaults)
	container := &redisstore.Record{ID: id, Kind: redisstore.KindChain, Task: redisstore.KindChain,
		Kwargs: map[string]any(ch.Kwargs()), Status: StatusPending, CreatedAt: t.now, Containers: f.containers,
		Item: f.item}
	saved := dsl.Saved{ID: id, Chain: true}
	var next []shape
	for _, s := range ch.SuccessCallbacks() {
		cb, err := t.compile(s, frame{})
		if err != nil {
			return node{}, err
		}
		next = append(next, cb.entry)
		container.OnSuccess = append(container.OnSuccess, cb.entry.ref())
		saved.OnSuccess = append(saved.OnSuccess, cb.saved)
	}
	next = append(next, f.next...)
	// The chain's error and finally callbacks are carried by every step (the step
	// that ends the chain dispatches them), and kept on the chain's record to show.
	var errNodes, finNodes []node
	chainErrs := append([]redisstore.ContainerCallbackRef(nil), f.chainErrs...)
	chainFins := append([]redisstore.ContainerCallbackRef(nil), f.chainFins...)
	for _, branch := range []struct {
		specs []dsl.Spec
		nodes *[]node
		dst   *[]redisstore.CallbackRef
		out   *[]dsl.Saved
		carry *[]redisstore.ContainerCallbackRef
	}{{ch.ErrorCallbacks(), &errNodes, &container.OnError, &saved.OnError, &chainErrs},
		{ch.FinallyCallbacks(), &finNodes, &container.Finally, &saved.Finally, &chainFins}} {
		for _, s := range branch.specs {
			cb, err := t.compile(s, frame{})
			if err != nil {
				return node{}, err
			}
			*branch.nodes = append(*branch.nodes, cb)
			*branch.dst = append(*branch.dst, cb.entry.ref())
			*branch.out = append(*branch.out, cb.saved)
			*branch.carry = append(*branch.carry, redisstore.ContainerCallbackRef{CallbackRef: cb.entry.ref(), ContainerID: id})
		}
	}
	steps := ch.Steps()
	nodes := make([]node, len(steps))
	wait := f.wait
	if ev, ok := ch.Wait(); ok {
		if wait != nil {
			return node{}, &WaitPositionError{Reason: "a chain whose enclosing chain waits for an event waits for one of its own"}
		}
		wait = &ev
	}
	for i := len(steps) - 1; i >= 0; i-- {
		sf := frame{next: next, chainErrs: chainErrs, chainFins: chainFins, defaults: defaults,
			containers: append([]string{id}, f.containers...), first: i == 0}
		if i < len(steps)-1 {
			sf.next = []shape{nodes[i+1].entry}
		}
		if i == 0 { // the chain's wait, and where it cannot wait, are its first step's
			sf.wait, sf.noWait = wait, f.noWait
		}
		n, err := t.compile(steps[i], sf)
		if err != nil {
			return node{}, err
		}
		nodes[i] = n
	}
	for _, n := range nodes {
		container.Steps = append(container.Steps, n.id)
		container.Leaves = append(container.Leaves, n.leaves...)
	}
	// The chain's error and finally callbacks get the chain's input, kept by its
	// first step.
	first := container.Leaves[0]
	for _, r := range t.plan.recs {
		setFirstLeaf(r.ChainErrors, id, first)
		setFirstLeaf(r.ChainFinally, id, first)
	}
	for _, l := range t.plan.links {
		setFirstLeaf(l.fields.ChainErrors, id, first)
		setFirstLeaf(l.fields.ChainFinally, id, first)
	}
	for _, cb := range errNodes {
		if err := checkFit(&t.c.fits, nodes[0].entry, cb.entry, OutcomeError); err != nil {
			return node{}, err
		}
	}
	for _, cb := range finNodes {
		if err := checkFit(&t.c.fits, nodes[0].entry, cb.entry, OutcomeFinally); err != nil {
			return node{}, err
		}
	}
	t.plan.recs = append(t.plan.recs, container)
	saved.Task = nodes[0].entry.rec.Task
	return node{id: id, chain: true, entry: nodes[0].entry, exit: nodes[len(nodes)-1].exit, leaves: container.Leaves, saved: saved}, nil
}

func setFirstLeaf(refs []redisstore.ContainerCallbackRef, container, first string) {
	for i := range refs {
		if refs[i].ContainerID == container {
			refs[i].FirstLeafID = first
		}
	}
}

// saved compiles a reference to a stored signature or chain: as a callback it is
// used as it is; as a chain step a signature is linked into the chain.
func (t *tree) saved(id string, f frame) (node, error) {
	r := t.refs[id]
	if r == nil {
		return node{}, &SignatureNotFoundError{ID: id, Callback: true}
	}
	if err := t.savedWait(r, f); err != nil {
		return node{}, err
	}
	if r.Kind == redisstore.KindSwarm {
		if f.linked() {
			return node{}, fmt.Errorf("%w: swarm %q", ErrSavedContainerStep, id)
		}
		self := t.shape(r)
		return node{id: id, swarm: true, entry: self, exit: self, leaves: []string{id},
			saved: dsl.Saved{ID: id, Task: r.Task, Swarm: true}}, nil
	}
	if r.Kind == redisstore.KindChain {
		if f.linked() {
			return node{}, fmt.Errorf("%w: chain %q", ErrSavedChainStep, id)
		}
		entry, exit := t.refs[r.Leaves[0]], t.refs[r.Leaves[len(r.Leaves)-1]]
		if entry == nil || exit == nil {
			return node{}, &SignatureNotFoundError{ID: id, Callback: true}
		}
		return node{id: id, chain: true, entry: t.shape(entry), exit: t.shape(exit), leaves: r.Leaves,
			saved: dsl.Saved{ID: id, Task: entry.Task, Chain: true}}, nil
	}
	self := t.shape(r)
	if f.inChain() && t.seed != "" && len(r.Containers) > 0 && r.Containers[0] == f.containers[0] {
		// A retried attempt: a previous one linked it into this very chain.
		return node{id: id, entry: self, exit: self, leaves: []string{id}, saved: dsl.Saved{ID: id, Task: r.Task}}, nil
	}
	if f.item != nil && t.seed != "" && r.Item != nil && *r.Item == *f.item {
		// A retried attempt: a previous one linked it as this very item.
		return node{id: id, entry: self, exit: self, leaves: []string{id}, saved: dsl.Saved{ID: id, Task: r.Task}}, nil
	}
	if !f.linked() {
		return node{id: id, entry: self, exit: self, leaves: []string{id}, saved: dsl.Saved{ID: id, Task: r.Task}}, nil
	}
	if r.Status != StatusPending {
		return node{}, &NotPendingError{ID: id, Status: r.Status, RunID: r.RunID}
	}
	if len(r.Containers) > 0 {
		return node{}, &AlreadyInChainError{ID: id, ChainID: r.Containers[0]}
	}
	if r.Item != nil {
		return node{}, &AlreadyInChainError{ID: id, ChainID: r.Item.SwarmID}
	}
	def := t.defs[r.Task]
	if len(r.Schema) > 0 {
		def.Schema = r.Schema
	}
	defaults := map[string]any{}
	for k, v := range f.defaults {
		if _, own := r.Kwargs[k]; !own {
			defaults[k] = v
		}
	}
	if err := t.c.checkKwargs(r.Task, def.Schema, defaults); err != nil {
		return node{}, err
	}
	fields := &redisstore.Record{Containers: f.containers, FirstLeaf: f.first, ChainErrors: f.chainErrs,
		ChainFinally: f.chainFins, Item: f.item}
	for _, next := range f.next {
		if err := checkFit(&t.c.fits, self, next, OutcomeSuccess); err != nil {
			return node{}, err
		}
		fields.OnSuccess = append(fields.OnSuccess, next.ref())
	}
	t.plan.links = append(t.plan.links, link{id: id, fields: fields, kwargs: defaults})
	return node{id: id, entry: self, exit: self, leaves: []string{id}, saved: dsl.Saved{ID: id, Task: r.Task}}, nil
}

// savedWait refuses a wait in frame f that the stored record r cannot take: a chain's
// After given to a saved signature (its record is written already), or a saved
// signature (or chain whose first step) waits where nothing may wait.
func (t *tree) savedWait(r *redisstore.Record, f frame) error {
	if f.wait != nil {
		return &WaitPositionError{Task: r.Task, Reason: "a saved signature (a Ref or Saved) cannot take its chain's After; give the step After before saving it"}
	}
	entry := r
	if r.Kind == redisstore.KindChain && len(r.Leaves) > 0 {
		entry = t.refs[r.Leaves[0]]
	}
	if f.noWait != "" && entry != nil && entry.Wait != nil {
		return &WaitPositionError{Task: entry.Task, Reason: f.noWait}
	}
	return nil
}

// shape returns the shape of a stored signature.
func (t *tree) shape(r *redisstore.Record) shape {
	if r.Kind == redisstore.KindSwarm {
		return shapeOf(r, swarmDef)
	}
	def := t.defs[r.Task]
	if len(r.Schema) > 0 {
		def = redisstore.TaskDef{Name: r.Task, Schema: r.Schema}
	}
	return shapeOf(r, def)
}

// withDefaults returns own with every key of defaults it lacks: a step's own kwargs
// win over its chains' kwargs.
func withDefaults(own, defaults map[string]any) map[string]any {
	if len(defaults) == 0 {
		return own
	}
	out := make(map[string]any, len(own)+len(defaults))
	maps.Copy(out, defaults)
	maps.Copy(out, own)
	return out
}

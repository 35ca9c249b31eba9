package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/inject"
	"github.com/hatchetflow/go/redisstore"
)

// SaveSignature persists the tree of spec (a [dsl.Builder]: the signature and its
// nested callbacks; or a [dsl.ChainBuilder]: the chain, its steps and every callback)
// and returns the saved root. It implements [dsl.Backend]; call it as
// b.Save(ctx, client).
//
// Every task in the tree must be registered by a worker (or carry a validator from
// Validate), bound kwargs must match the task's input schema, every callback must fit
// what it will receive, and every [dsl.Ref] must name a stored signature; otherwise a
// typed error is returned and nothing is written. The write is one Redis round trip
// whatever the size of the tree; looking up the task registry (cached per client) and
// referenced signatures may add one each, and each saved signature used as a chain
// step one more.
func (c *Client) SaveSignature(ctx context.Context, spec dsl.Spec) (dsl.Saved, error) {
	p, err := c.compile(ctx, spec, "")
	if err != nil {
		return dsl.Saved{}, err
	}
	if err := c.write(ctx, p); err != nil {
		return dsl.Saved{}, err
	}
	return p.saved(), nil
}

// storedID returns the id of a spec that refers to a stored signature, chain or swarm
// (a [dsl.Ref] or a [dsl.Saved]); ok is false for a builder.
func storedID(s dsl.Spec) (id string, ok bool) {
	switch v := s.(type) {
	case dsl.Ref:
		return string(v), true
	case dsl.Saved:
		return v.ID, true
	}
	return "", false
}

// definition returns the task definition a builder is checked against: its validator
// override, or the registered task. override reports the former.
func (c *Client) definition(b dsl.Builder, defs map[string]redisstore.TaskDef) (redisstore.TaskDef, bool, error) {
	if t := b.ValidatorType(); t != nil {
		schema, err := inject.SchemaOf(t)
		if err != nil {
			return redisstore.TaskDef{}, false, wrap(err, "validator for %q", b.Task())
		}
		f := inject.FieldsOf(t)
		return redisstore.TaskDef{Name: b.Task(), Schema: schema, ReturnField: f.Return, ErrorField: f.Error,
			OutcomeField: f.Outcome, SignalField: f.Signal}, true, nil
	}
	d, ok := defs[b.Task()]
	if !ok {
		return redisstore.TaskDef{}, false, &UnknownTaskError{Task: b.Task()}
	}
	return d, false, nil
}

// checkKwargs enforces the size limit and checks kwargs against schema, ignoring
// "required" (kwargs are a partial message).
func (c *Client) checkKwargs(task string, schema json.RawMessage, kw map[string]any) error {
	if len(kw) == 0 {
		return nil
	}
	raw, err := json.Marshal(kw)
	if err != nil {
		return fmt.Errorf("hatchetflow: kwargs for task %q: %w", task, err)
	}
	if c.cfg.MaxKwargs > 0 && len(raw) > c.cfg.MaxKwargs {
		return &KwargsTooLargeError{Task: task, Size: len(raw), Limit: c.cfg.MaxKwargs}
	}
	s, err := c.compiled(schema)
	if err != nil || s == nil {
		return err
	}
	return withTask(s.ValidatePartial(kw), task)
}

// withTask names the task in a validation error.
func withTask(err error, task string) error {
	var ve *inject.ValidationError
	if errors.As(err, &ve) && ve.Task == "" {
		ve.Task = task
	}
	return err
}

// compiled returns the compiled form of a schema document, compiling it once.
func (c *Client) compiled(doc json.RawMessage) (*inject.Schema, error) {
	if len(doc) == 0 {
		return nil, nil
	}
	if s, ok := c.schemas.Load(string(doc)); ok {
		return s.(*inject.Schema), nil
	}
	s, err := inject.CompileSchema(doc)
	if err != nil {
		return nil, err
	}
	c.schemas.Store(string(doc), s)
	return s, nil
}

// lookupTasks resolves task names: tasks registered on this client first, then the
// registry cache, then one read of the Redis registry for the rest.
func (c *Client) lookupTasks(ctx context.Context, names []string) (map[string]redisstore.TaskDef, error) {
	out := make(map[string]redisstore.TaskDef, len(names))
	var missing []string
	now := time.Now()
	for _, n := range names {
		if _, done := out[n]; done {
			continue
		}
		if d, ok := c.localTask(n); ok {
			out[n] = d.registryEntry()
			continue
		}
		if v, ok := c.registry.Load(n); ok && now.Before(v.(cachedDef).expires) {
			out[n] = v.(cachedDef).def
			continue
		}
		missing = append(missing, n)
	}
	if len(missing) == 0 {
		return out, nil
	}
	found, err := c.store.LookupTasks(ctx, missing)
	if err != nil {
		return nil, err
	}
	for _, n := range missing {
		d, ok := found[n]
		if !ok {
			return nil, &UnknownTaskError{Task: n}
		}
		out[n] = d
		if c.cfg.RegistryTTL > 0 {
			c.registry.Store(n, cachedDef{def: d, expires: now.Add(c.cfg.RegistryTTL)})
		}
	}
	return out, nil
}

// schemaOf returns the input schema a saved signature is checked against: its
// validator override, else its task's registered schema.
func (c *Client) schemaOf(ctx context.Context, rec *redisstore.Record) (json.RawMessage, error) {
	if len(rec.Schema) > 0 {
		return rec.Schema, nil
	}
	if rec.Kind == redisstore.KindSwarm {
		return nil, nil // its items' tasks check what they get
	}
	defs, err := c.lookupTasks(ctx, []string{rec.Task})
	if err != nil {
		return nil, err
	}
	return defs[rec.Task].Schema, nil
}

// UpdateKwargs sets top-level bound kwargs of a saved, pending signature after
// creation (MageFlow's kwargs.aupdate), checked against the task's schema. Concurrent
// updates of different keys lose nothing. A signature that already started or ended
// gives a [*NotPendingError]; kwargs that would grow past [WithMaxKwargsBytes] (the
// stored kwargs with the update, measured as one JSON object) give a
// [*KwargsTooLargeError]; a chain's or swarm's id [ErrNotASignature]. Nothing is
// written on error.
func (c *Client) UpdateKwargs(ctx context.Context, id string, kw dsl.KW) error {
	if !redisstore.ValidID(id) {
		return fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	rec, err := c.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if rec.Kind != redisstore.KindSignature {
		// A container's kwargs were applied to its steps or items when it was saved:
		// changing them now would change nothing that runs.
		return fmt.Errorf("%w: %q is a %s; update its steps' or items' kwargs", ErrNotASignature, id, rec.Kind)
	}
	if rec.Status != StatusPending {
		return &NotPendingError{ID: id, Status: rec.Status, RunID: rec.RunID}
	}
	schema, err := c.schemaOf(ctx, rec)
	if err != nil {
		return err
	}
	m := normalize(map[string]any(kw))
	if err := c.checkKwargs(rec.Task, schema, m); err != nil {
		return err
	}
	// The store re-checks status and total size in the same script that writes, so a
	// concurrent start or update cannot slip between.
	err = c.store.UpdateKwargs(ctx, id, m, max(c.cfg.MaxKwargs, 0))
	var se *redisstore.SizeError
	if errors.As(err, &se) {
		return &KwargsTooLargeError{Task: rec.Task, Size: se.Size, Limit: se.Limit}
	}
	return err
}

// Signature reads a saved signature in one round trip: status, kwargs, callbacks,
// result or error, owner run and attempt. A chain's id gives [ErrNotASignature]: read
// chains with [Client.Chain].
func (c *Client) Signature(ctx context.Context, id string) (*Signature, error) {
	if !redisstore.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSignatureID, id)
	}
	r, err := c.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch r.Kind {
	case redisstore.KindChain:
		return nil, fmt.Errorf("%w: %q is a chain (use Client.Chain)", ErrNotASignature, id)
	case redisstore.KindSwarm:
		return nil, fmt.Errorf("%w: %q is a swarm (use Client.Swarm)", ErrNotASignature, id)
	}
	return signatureOf(r), nil
}

// normalize makes m JSON-shaped (what the wire would deliver): a copy of m as
// encoding it to JSON and decoding it again would give. Maps, slices, strings, bools,
// float64s and integers, the usual contents, are copied directly (see jsonCopy);
// anything else takes the round trip. Values that do not encode are left for the
// encoder to report.
func normalize(m map[string]any) map[string]any {
	if m == nil {
		return nil // encodes as null, which decodes to a nil map
	}
	if out, ok := jsonCopy(m); ok {
		return out.(map[string]any)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out map[string]any
	if json.Unmarshal(raw, &out) != nil {
		return m
	}
	return out
}

// jsonCopy returns the value that encoding v to JSON and decoding the result into an
// any gives, when v is made only of what that round trip keeps or converts exactly:
// map[string]any and []any (copied; nil ones decode as nil), strings that are valid
// UTF-8 (invalid bytes would become U+FFFD), bools, nil, finite float64s (the shortest
// encoding decodes to the same float64) and integers (encoded exactly, decoded to the
// nearest float64, as a conversion rounds them). ok is false for anything else
// (float32, whose encoding is shortest for 32 bits; named types; types with their own
// encoding; NaN and infinities, which do not encode): the caller takes the round trip.
func jsonCopy(v any) (out any, ok bool) {
	switch x := v.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case map[string]any:
		if x == nil {
			return nil, true
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return nil, false
			}
			c, ok := jsonCopy(e)
			if !ok {
				return nil, false
			}
			m[k] = c
		}
		return m, true
	case []any:
		if x == nil {
			return nil, true
		}
		l := make([]any, len(x))
		for i, e := range x {
			c, ok := jsonCopy(e)
			if !ok {
				return nil, false
			}
			l[i] = c
		}
		return l, true
	}
	return nil, false
}

// toObject turns an input message (a map or a struct) into a JSON object map.
func toObject(input any) (map[string]any, error) {
	if input == nil {
		return map[string]any{}, nil
	}
	if m, ok := input.(map[string]any); ok {
		return normalize(m), nil
	}
	if m, ok := input.(dsl.KW); ok {
		return normalize(m), nil
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("hatchetflow: encode input: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || out == nil {
		return nil, fmt.Errorf("%w, got %s", ErrNotObject, kindOf(input))
	}
	return out, nil
}

func kindOf(v any) string { return reflect.TypeOf(v).String() }

package hatchetflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/internal/engine"
	"github.com/hatchetflow/go/redisstore"
)

// A standing signature (WithStandingSignature) is a template for the runs of a task
// that carry no signature of their own: runs a cron, an event or a plain Hatchet
// caller started. The main step of such a run saves the template as a new signature
// whose ids derive from the workflow run id (the same on every attempt and every
// worker, so a retry writes nothing twice), then runs it through the one signed-run
// path: start, user code, finish or failure, callbacks. The reconciler finds the
// signature of such a run from the run id alone (StandingSignatureID).

// standingSeed is the seed of the ids of run runID's standing signature: unlike a
// TaskBackend's seeds (run id, then "/"), it cannot meet one.
func standingSeed(runID string) string { return "standing/" + runID }

// StandingSignatureID returns the id of the signature that a task registered with
// [WithStandingSignature] saves for its run runID when that run carries no signature
// of its own (a cron's, an event's, a plain Hatchet caller's run): read it with
// [Client.Signature] once the run started. Any other run has no signature of that id.
func StandingSignatureID(runID string) string { return seededID(standingSeed(runID), 1) }

// checkStanding checks the standing signature of task name, whose input schema is
// schema, as far as NewTask can: once given, of this task, without Validate, with no
// saved signatures in it, not waiting for an event, its kwargs fitting the schema. Its callbacks are checked by
// RegisterTasks (checkStandingTrees), when the tasks they name are known.
func (c *Client) checkStanding(cfg *taskConfig, name string, schema json.RawMessage) error {
	if len(cfg.standing) == 0 {
		return nil
	}
	fail := func(err error) error { return &StandingSignatureError{Task: name, Err: err} }
	if len(cfg.standing) > 1 {
		return fail(&ConflictingOptionError{Task: name, Option: "standing signature", Detail: "WithStandingSignature given more than once"})
	}
	b := cfg.standing[0]
	if err := b.Err(); err != nil {
		return fail(err)
	}
	if b.Task() != name {
		return fail(fmt.Errorf("%w: it signs %q", ErrWrongTask, b.Task()))
	}
	if b.ValidatorType() != nil {
		return fail(errors.New("made with Validate: the task's own input schema applies"))
	}
	if _, waits := b.Wait(); waits {
		return fail(&WaitPositionError{Task: name, Reason: "a standing signature belongs to a run that is already running"})
	}
	if id := firstStored(b); id != "" {
		return fail(fmt.Errorf("refers to saved signature %q: a standing signature is saved anew for every run, a saved one runs once", id))
	}
	if err := c.checkKwargs(name, schema, map[string]any(b.Kwargs())); err != nil {
		return fail(err)
	}
	return nil
}

// firstStored returns the id of the first saved signature (a dsl.Ref or dsl.Saved)
// in the tree of spec, or "".
func firstStored(spec dsl.Spec) string {
	p := partsOf(spec)
	if p.stored != "" {
		return p.stored
	}
	for _, n := range p.nested {
		if id := firstStored(n); id != "" {
			return id
		}
	}
	return ""
}

// checkStandingTrees compiles (without writing) the standing signature of every
// registered task that has one: each callback must name a known task and fit what it
// will receive, as Save checks a signature.
func (c *Client) checkStandingTrees(ctx context.Context) error {
	for _, def := range c.registeredTasks() {
		if len(def.cfg.standing) == 0 {
			continue
		}
		if _, err := c.compile(ctx, def.cfg.standing[0], ""); err != nil {
			if errors.Is(err, redisstore.ErrUnavailable) {
				return err
			}
			return &StandingSignatureError{Task: def.name, Err: err}
		}
	}
	return nil
}

// runSignature returns the signature the run under hctx executes for task def: the one
// its metadata names, else, for a task with a standing signature, the standing one's
// id (standing is then true), else "".
func runSignature(hctx hatchet.Context, def *taskDef) (id string, standing bool) {
	if id := hctx.AdditionalMetadata()[engine.MetaSignature]; id != "" {
		return id, false
	}
	if len(def.cfg.standing) == 0 {
		return "", false
	}
	return StandingSignatureID(hctx.WorkflowRunId()), true
}

// saveStanding saves the standing signature of task def for run runID, unless an
// earlier attempt (or another worker) did: the ids are run runID's, and records that
// exist are kept. It retries through a short Redis outage; a template that no longer
// saves (a callback's task left the registry) fails the run for good.
func (c *Client) saveStanding(ctx context.Context, def *taskDef, runID string) error {
	var refused error
	err := c.retrying(ctx, "save standing", func() error {
		p, err := c.compile(ctx, def.cfg.standing[0], standingSeed(runID))
		if err != nil && !errors.Is(err, redisstore.ErrUnavailable) {
			refused = err
			return nil
		}
		if err != nil {
			return err
		}
		return c.write(ctx, p)
	})
	if refused != nil {
		c.log.Warn("hatchetflow: the task's standing signature does not save; user code not called",
			"task", def.name, "run", runID, "error", refused)
		return NonRetryable(&StandingSignatureError{Task: def.name, Err: refused})
	}
	return err
}

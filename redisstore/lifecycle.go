package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
)

// StartOutcome says what [Store.Start] found.
type StartOutcome string

// Outcomes of [Store.Start].
const (
	// Started: the signature was pending and is now active for this run.
	Started StartOutcome = "started"
	// Resumed: already active for this run (a retry of the same run).
	Resumed StartOutcome = "resumed"
	// Exhausted: active for this run, whose attempts already called user code as many
	// times as StartWithInput's maxCalls allows: this attempt must not call it.
	Exhausted StartOutcome = "exhausted"
	// Busy: active for another run; this run must not execute user code.
	Busy StartOutcome = "busy"
	// AlreadyDone: the signature ended successfully; Record.Result holds the result.
	AlreadyDone StartOutcome = "done"
	// AlreadyFailed: the signature failed.
	AlreadyFailed StartOutcome = "failed"
	// Held: the signature is suspended; the run's input is held for Resume.
	Held StartOutcome = "held"
)

// startCmd moves a signature pending→active for one engine run and returns it.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base.
// ARGV[1] run id, ARGV[2] active TTL in ms (refreshed on start), ARGV[3] attempt
// number (1-based), recorded when this run may execute, ARGV[4] the run's input ("":
// none), kept in "in" when the run starts the signature and held in "hin" when the
// signature is suspended, ARGV[5] (optional) how many times user code may be called
// for the signature (1 + the task's retries; 0 or absent: no limit). "nc" counts the
// calls: 1 when a run starts the signature, +1 for each attempt of that run admitted
// again.
// Returns {outcome, record field/value list, kwargs field/value list}, outcome one of:
//
//	"missing"  no record (never saved, expired or deleted); the lists are absent
//	"started"  was pending; now active and owned by ARGV[1]
//	"resumed"  already active and owned by ARGV[1]: a retry within the same run
//	"exhausted" active and owned by ARGV[1], but user code was called ARGV[5] times
//	           already: the attempt is beyond the task's retries (nothing changed)
//	"busy"     active and owned by another run
//	"done", "failed", "cancelled"  already ended; the record carries the result or error
//	"held"     suspended: the run's input is held (the first one only) for Resume,
//	           and "hr" names the run
var startCmd = redis.NewScript(ixLua + `
local h = redis.call('HMGET', KEYS[1], 's', 'rid', 'nc', 'ca', 't')
local st, owner = h[1], h[2]
if not st and redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local outcome = st
if st == 'pending' then
  local now = ixnow()
  if ARGV[4] and ARGV[4] ~= '' then
    redis.call('HSET', KEYS[1], 's', 'active', 'ls', 'pending', 'rid', ARGV[1], 'at', ARGV[3], 'nc', '1', 'in', ARGV[4])
  else
    redis.call('HSET', KEYS[1], 's', 'active', 'ls', 'pending', 'rid', ARGV[1], 'at', ARGV[3], 'nc', '1')
  end
  redis.call('HSETNX', KEYS[1], 'ta', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  ixmove('pending', 'active', h[4] or '0', h[5] or '', tonumber(ARGV[2]), now)
  outcome = 'started'
elseif st == 'active' then
  local max = tonumber(ARGV[5] or '0')
  if owner == ARGV[1] and max > 0 and tonumber(h[3] or '0') >= max then
    outcome = 'exhausted'
  elseif owner == ARGV[1] then
    redis.call('HSET', KEYS[1], 'at', ARGV[3])
    redis.call('HINCRBY', KEYS[1], 'nc', 1)
    outcome = 'resumed'
  else
    outcome = 'busy'
  end
elseif st == 'suspended' then
  if ARGV[4] and ARGV[4] ~= '' then redis.call('HSETNX', KEYS[1], 'hin', ARGV[4]) end
  redis.call('HSET', KEYS[1], 'hr', ARGV[1])
  outcome = 'held'
end
return {outcome, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

// Start moves signature id pending→active for runID in one round trip and returns the
// record with its kwargs; attempt (1-based) is recorded when the run may execute. A
// missing signature returns a [*NotFoundError].
func (s *Store) Start(ctx context.Context, id, runID string, attempt int) (StartOutcome, *Record, error) {
	return s.StartWithInput(ctx, id, runID, attempt, nil, 0)
}

// StartWithInput is [Store.Start] that also keeps input (the run's input) as the
// record's Input when the run starts it, and holds it when the signature is
// suspended: outcome [Held] ([Store.Resume] returns it). maxCalls > 0 bounds how many
// attempts of the owning run are admitted to call user code (1 + the task's retries):
// one more gets outcome [Exhausted]. The count lives on the record, so it holds
// whatever attempt number the engine reports.
//
// With [WithReplicaAcks], an error matching [ErrReplication] comes with the outcome
// and record the master applied (nil for the other errors): calling Start again for
// the same attempt is not a no-op (it counts one more call), so a caller waits for
// the replicas with [Store.AwaitReplicas] instead.
func (s *Store) StartWithInput(ctx context.Context, id, runID string, attempt int, input json.RawMessage, maxCalls int) (StartOutcome, *Record, error) {
	args := []any{runID, ms(s.activeTTL), attempt, []byte(input), maxCalls}
	cmd := s.eval(ctx, startCmd, s.recordKeys(id), args...)
	var notReplicated *ReplicationError
	if err := cmd.Err(); errors.As(err, &notReplicated) {
		// Applied on the master: report what it did with the error, since running
		// it again is not a no-op ("resumed" counts one more call).
		if res, ok := cmd.Val().([]any); ok && reply(res).code() != "missing" {
			if rec, perr := parseRecordReply(id, reply(res).list(1), reply(res).list(2)); perr == nil {
				return StartOutcome(reply(res).code()), rec, opError(fmt.Sprintf("start %q", id), err)
			}
		}
	}
	res, err := cmd.Slice()
	if err != nil {
		return "", nil, opError(fmt.Sprintf("start %q", id), err)
	}
	r := reply(res)
	code := r.code()
	if code == "missing" {
		return "", nil, &NotFoundError{ID: id}
	}
	rec, err := parseRecordReply(id, r.list(1), r.list(2))
	if err != nil {
		return "", nil, err
	}
	return StartOutcome(code), rec, nil
}

// Transition is the result of a finishing transition.
type Transition struct {
	// Repeated is true when the same run had already made this transition; nothing
	// changed.
	Repeated bool
	// Record is the signature after the transition (its kwargs are set by Fail only).
	Record *Record
	// Later maps each chain the signature is a step of (FinishOptions.Containers) to
	// the steps after it, read by Finish: empty for a chain's last step.
	Later map[string][]string
	// Items maps each of those chains that is a swarm item to the item it ends.
	Items map[string]SwarmItemRef
}

// FinishOptions are the chain parts of [Store.Finish]. A nil *FinishOptions means a
// plain signature.
type FinishOptions struct {
	// Input is the run input, kept when the signature is a chain's first step.
	Input json.RawMessage
	// Containers are the chains the signature is a step of: their steps are read in
	// the same round trip, and Transition.Later lists the ones after it.
	Containers []string
}

// finishCmd moves a signature active→done for its owner run, keeps the result and
// gives both keys the done TTL.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base.
// ARGV[1] run id, ARGV[2] result JSON, ARGV[3] done TTL in ms, ARGV[4] (optional) the
// run input, kept in "in" when the record is a chain's first step ("fi").
// Returns {code, record field/value list}, code one of:
//
//	"ok"       active→done for ARGV[1]
//	"repeat"   already done by ARGV[1]: nothing changed
//	"refused"  any other state (the list shows which)
//	"missing"  no record
var finishCmd = redis.NewScript(ixLua + `
local h = redis.call('HMGET', KEYS[1], 's', 'rid', 'fi', 'ca', 't')
local st, owner = h[1], h[2]
if not st and redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local code = 'refused'
if st == 'active' and owner == ARGV[1] then
  local now = ixnow()
  if ARGV[4] and h[3] == '1' then
    redis.call('HSET', KEYS[1], 's', 'done', 'ls', 'active', 'res', ARGV[2], 'te', now, 'in', ARGV[4])
  else
    redis.call('HSET', KEYS[1], 's', 'done', 'ls', 'active', 'res', ARGV[2], 'te', now)
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  ixmove('active', 'done', h[4] or '0', h[5] or '', tonumber(ARGV[3]), now)
  code = 'ok'
elseif st == 'done' and owner == ARGV[1] then
  code = 'repeat'
end
return {code, redis.call('HGETALL', KEYS[1])}
`)

// Finish moves signature id active→done for runID, keeps result (JSON) and gives the
// signature the done TTL, in one round trip (one pipeline with the chains' step lists
// when opts names containers).
func (s *Store) Finish(ctx context.Context, id, runID string, result json.RawMessage, opts *FinishOptions) (*Transition, error) {
	if opts == nil {
		opts = &FinishOptions{}
	}
	args := []any{runID, []byte(result), ms(s.doneTTL)}
	if len(opts.Input) > 0 {
		args = append(args, []byte(opts.Input))
	}
	if len(opts.Containers) == 0 { // one script: no pipeline
		res, err := s.eval(ctx, finishCmd, s.recordKeys(id), args...).Slice()
		if err != nil {
			return nil, opError(fmt.Sprintf("finish %q", id), err)
		}
		return s.transition(id, runID, flowtype.StatusDone, res)
	}
	leaves := make([]*redis.SliceCmd, len(opts.Containers))
	cmds, err := s.pipelineScripts(ctx, finishCmd, []scriptCall{{keys: s.recordKeys(id), args: args}}, func(p redis.Pipeliner) {
		for i, c := range opts.Containers {
			leaves[i] = p.HMGet(ctx, s.SignatureKey(c), fLeaves, fSwarmItem)
		}
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, opError(fmt.Sprintf("finish %q", id), err)
	}
	res, err := cmds[0].Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("finish %q", id), err)
	}
	tr, err := s.transition(id, runID, flowtype.StatusDone, res)
	if err != nil {
		return nil, err
	}
	if len(leaves) > 0 {
		tr.Later = map[string][]string{}
	}
	for i, l := range leaves {
		v := reply(l.Val()) // HMGET: leaves, swarm item
		ids := splitList(v.str(0))
		if j := slices.Index(ids, id); j >= 0 {
			tr.Later[opts.Containers[i]] = ids[j+1:]
		}
		if sw := v.str(1); sw != "" {
			if ref := decodeSwarmItem(sw); ref != nil {
				if tr.Items == nil {
					tr.Items = map[string]SwarmItemRef{}
				}
				tr.Items[opts.Containers[i]] = *ref
			}
		}
	}
	return tr, nil
}

// retryCmd moves a failed or cancelled signature back to pending, so it can run
// again: its run, attempt, call count, error, result and end time are cleared, the
// retry is counted, and both keys get the active TTL again. Dispatch markers stay, so
// a callback that ran for the first end never runs again.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base.
// ARGV[1] active TTL in ms.
// Returns {code, record field/value list, kwargs field/value list}, code one of
// "ok" (moved), "refused" (not failed or cancelled: the list shows its status),
// "missing" (no lists).
var retryCmd = redis.NewScript(ixLua + `
local h = redis.call('HMGET', KEYS[1], 's', 'ca', 't', 'k')
local st = h[1]
if not st and redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local code = 'refused'
if (st == 'failed' or st == 'cancelled') and h[4] ~= 'chain' and h[4] ~= 'swarm' then
  local now = ixnow()
  redis.call('HDEL', KEYS[1], 'rid', 'at', 'nc', 'err', 'res', 'te', 'hr', 'hin', 'hold', 'sch', 'wr')
  redis.call('HSET', KEYS[1], 's', 'pending', 'ls', st, 'rta', now)
  redis.call('HINCRBY', KEYS[1], 'rc', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
  ixmove(st, 'pending', h[2] or '0', h[3] or '', tonumber(ARGV[1]), now)
  code = 'ok'
end
return {code, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

// Retry moves signature id, failed or cancelled, back to pending with the active TTL
// in one round trip (see retryCmd), and returns it. Anything else is refused with a
// [*TransitionError]; a missing record gives a [*NotFoundError].
func (s *Store) Retry(ctx context.Context, id string) (*Record, error) {
	res, err := s.eval(ctx, retryCmd, s.recordKeys(id), ms(s.activeTTL)).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("retry %q", id), err)
	}
	tr, err := s.transition(id, "", flowtype.StatusPending, res)
	if err != nil {
		return nil, err
	}
	return tr.Record, nil
}

// failCmd moves a signature to failed: from active for its owner run, or from
// pending (the run failed before it could start, e.g. a schedule timeout), and gives
// both keys the done TTL.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base.
// ARGV[1] run id, ARGV[2] error message, ARGV[3] done TTL in ms.
// Returns {code, record field/value list, kwargs field/value list}, code one of
// "ok", "repeat" (already failed by ARGV[1]), "refused", "missing" (no lists).
var failCmd = redis.NewScript(ixLua + `
local h = redis.call('HMGET', KEYS[1], 's', 'rid', 'ca', 't')
local st, owner = h[1], h[2]
if not st and redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local code = 'refused'
if (st == 'active' and owner == ARGV[1]) or st == 'pending' then
  local now = ixnow()
  redis.call('HSET', KEYS[1], 's', 'failed', 'ls', st, 'rid', ARGV[1], 'err', ARGV[2], 'te', now)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  ixmove(st, 'failed', h[3] or '0', h[4] or '', tonumber(ARGV[3]), now)
  code = 'ok'
elseif st == 'failed' and owner == ARGV[1] then
  code = 'repeat'
end
return {code, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

// Fail moves signature id to failed for runID (from active for that run, or from
// pending), records message and gives it the done TTL, in one round trip. The
// returned record includes the kwargs, so the message the task received can be rebuilt.
func (s *Store) Fail(ctx context.Context, id, runID, message string) (*Transition, error) {
	res, err := s.eval(ctx, failCmd, s.recordKeys(id),
		runID, message, ms(s.doneTTL)).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("fail %q", id), err)
	}
	return s.transition(id, runID, flowtype.StatusFailed, res)
}

func (s *Store) transition(id, runID string, to flowtype.Status, res reply) (*Transition, error) {
	code := res.code()
	if code == "missing" {
		return nil, &NotFoundError{ID: id}
	}
	rec, err := parseRecordReply(id, res.list(1), res.list(2)) // finishCmd has no kwargs list
	if err != nil {
		return nil, err
	}
	switch code {
	case "ok":
		return &Transition{Record: rec}, nil
	case "repeat":
		return &Transition{Repeated: true, Record: rec}, nil
	default:
		return nil, &TransitionError{ID: id, From: rec.Status, To: to, RunID: runID, OwnerRunID: rec.RunID}
	}
}

// markCmd records dispatch markers on an existing record and never creates a key
// (a plain HSET on an expired record would leave a key without TTL).
//
// KEYS[1] record hash.
// ARGV field/value pairs: "d:<outcome>:<callback id>" → dispatched run id, or "in" →
// the message a callback was dispatched with (see Record.Input).
// Returns 1 when written, 0 when the record is missing.
var markCmd = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`)

// MarkDispatched records that callbacks of signature id were dispatched for outcome
// (callback id → dispatched run id) and keeps on each callback's record the message it
// was dispatched with (inputs: callback id → JSON object; see Record.Input), gives the callbacks of the branch that will never
// run the done TTL (only ever lowering a TTL) and the signatures in keepAlive the
// active TTL again (only ever raising it: later steps of a chain that advances), in
// one pipelined round trip, which also moves the records of the chains in containers
// along (see containerCmd). Markers are never written to a missing record.
func (s *Store) MarkDispatched(ctx context.Context, id string, outcome flowtype.Outcome, runs map[string]string, inputs map[string]json.RawMessage, deadBranch, keepAlive []string, containers ...ContainerUpdate) error {
	return s.MarkDispatchedMany(ctx, id, map[flowtype.Outcome]map[string]string{outcome: runs}, inputs, deadBranch, keepAlive, containers...)
}

// MarkDispatchedMany is [Store.MarkDispatched] for the callbacks of several outcomes
// dispatched together (runs: outcome → callback id → run id; a branch and the
// finally callbacks that go out with it), still in one pipelined round trip.
func (s *Store) MarkDispatchedMany(ctx context.Context, id string, runs map[flowtype.Outcome]map[string]string, inputs map[string]json.RawMessage, deadBranch, keepAlive []string, containers ...ContainerUpdate) error {
	n := 0
	for _, r := range runs {
		n += len(r)
	}
	if n == 0 && len(deadBranch) == 0 && len(keepAlive) == 0 && len(containers) == 0 {
		return nil
	}
	var calls []scriptCall
	if n > 0 {
		args := make([]any, 0, 2*n)
		for outcome, byCB := range runs {
			for cb, run := range byCB {
				args = append(args, markerPrefix+DispatchKey(outcome, cb), run)
				if in := inputs[cb]; len(in) > 0 {
					calls = append(calls, scriptCall{keys: []string{s.SignatureKey(cb)}, args: []any{fInput, []byte(in)}})
				}
			}
		}
		calls = append(calls, scriptCall{keys: []string{s.SignatureKey(id)}, args: args})
	}
	for _, cb := range deadBranch {
		calls = append(calls, scriptCall{script: ttlCmd, keys: s.recordKeys(cb), args: []any{ms(s.doneTTL), "lt"}})
	}
	for _, k := range keepAlive {
		calls = append(calls, scriptCall{script: ttlCmd, keys: s.recordKeys(k), args: []any{ms(s.activeTTL), "gt"}})
	}
	calls = append(calls, s.containerCalls(containers)...)
	_, err := s.pipelineScripts(ctx, markCmd, calls, nil)
	if err != nil {
		return opError(fmt.Sprintf("mark dispatched for %q", id), err)
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// KeepInput keeps input (a JSON object) as the Input of the stored signature id that a
// run is about to start (see Record.Input), in one round trip; a missing record is
// left missing.
func (s *Store) KeepInput(ctx context.Context, id string, input json.RawMessage) error {
	if err := s.eval(ctx, markCmd, []string{s.SignatureKey(id)}, fInput, []byte(input)).Err(); err != nil {
		return opError(fmt.Sprintf("keep input of %q", id), err)
	}
	return nil
}

// KeepSchedule records scheduleID as the engine schedule that will create the run of
// the stored signature id (see Record.ScheduleID), in one round trip; a missing
// record is left missing.
func (s *Store) KeepSchedule(ctx context.Context, id, scheduleID string) error {
	if err := s.eval(ctx, markCmd, []string{s.SignatureKey(id)}, fSchedule, scheduleID).Err(); err != nil {
		return opError(fmt.Sprintf("keep schedule of %q", id), err)
	}
	return nil
}

// linkCmd makes a saved, pending signature a step of a chain: it adds record fields
// (the next step as a success callback, the chain's error callbacks, the container
// list, the first-step flag) and the chain's kwargs under the step's own (HSETNX:
// the step's kwargs win), and refreshes both keys' TTL.
//
// A linked step is no longer the top of a tree: it leaves the root index.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base.
// ARGV[1] TTL in ms, ARGV[2] n = number of record field/value pairs, then n record
// pairs, then the kwargs pairs (possibly none).
// Returns {code, ...}, code one of:
//
//	"ok"                 linked
//	"missing"            no record
//	"status", s          not pending (status s): a step that ran cannot join a chain
//	"contained", c       already a step of chain c, or an item of swarm c: a signature
//	                     belongs to one container
var linkCmd = redis.NewScript(ixLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local cid = redis.call('HGET', KEYS[1], 'cid')
if cid then return {'contained', cid} end
local sw = redis.call('HGET', KEYS[1], 'sw')
if sw then return {'contained', string.match(sw, '^[^/]*')} end
local st = redis.call('HGET', KEYS[1], 's')
if st ~= 'pending' then return {'status', st} end
local n = tonumber(ARGV[2])
local rec = {}
for i = 3, 2 + 2 * n do rec[#rec + 1] = ARGV[i] end
if #rec > 0 then redis.call('HSET', KEYS[1], unpack(rec)) end
for i = 3 + 2 * n, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
redis.call('ZREM', IX .. ':root', ixid())
ixkeep()
return {'ok'}
`)

// LinkStep makes the saved, pending signature id a step of a chain: fields are record
// field/value pairs to add (see [Record]), kwargs the chain's kwargs, set only where the
// step has none of its own. One round trip. A missing signature gives a
// [*NotFoundError]; one that is not pending a [*NotPendingError]; one already in a
// chain a [*ContainedError].
func (s *Store) LinkStep(ctx context.Context, id string, rec *Record, kwargs map[string]any) error {
	f, err := rec.linkFields()
	if err != nil {
		return err
	}
	kw, err := kwargsFields(kwargs)
	if err != nil {
		return err
	}
	args := append([]any{ms(s.activeTTL), len(f) / 2}, f...)
	args = append(args, kw...)
	res, err := s.eval(ctx, linkCmd, s.recordKeys(id), args...).Slice()
	if err != nil {
		return opError(fmt.Sprintf("link %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		return nil
	case "missing":
		return &NotFoundError{ID: id}
	case "status":
		return &NotPendingError{ID: id, Status: flowtype.Status(r.str(1))}
	default:
		chains := append(splitList(r.str(1)), "")
		return &ContainedError{ID: id, ChainID: chains[0]}
	}
}

// cancelCmd cancels a signature or container that has not ended: any status but done,
// failed and cancelled becomes cancelled, with reason as its error, and the keys get
// the done TTL. A swarm is also stopped (no item is claimed any more), and its queued
// items end failed with reason as their error, in the same script.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] a swarm's item hash (any key of
// the slot for others), KEYS[4] index base. ARGV[1] done TTL in ms, ARGV[2] reason.
// Returns {"ok", previous status, record pairs, kwargs pairs, first queued index},
// {"ended", status, record pairs, kwargs pairs} (nothing changed: the status is the
// one it ended with), or {"missing"}. The first queued index is a swarm's: items from
// it on were queued (-1 for others).
var cancelCmd = redis.NewScript(ixLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if ended(st) then
  return {'ended', st, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
end
redis.call('HSET', KEYS[1], 's', 'cancelled', 'ls', st, 'err', ARGV[2], 'te', ixnow())
local nx = -1
if redis.call('HGET', KEYS[1], 'k') == 'swarm' then
  redis.call('HSET', KEYS[1], 'sp', '1')
  nx = tonumber(redis.call('HGET', KEYS[1], 'nx') or '0')
  local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
  for i = nx, n - 1 do redis.call('HSET', KEYS[3], 's' .. i, 'f\31' .. ARGV[2]) end
  if n > nx then
    redis.call('HINCRBY', KEYS[1], 'nf', n - nx)
    redis.call('HSET', KEYS[1], 'nx', n)
  end
  if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
ixstatus(st, 'cancelled')
return {'ok', st, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]), nx}
`)

// Cancelled is what [Store.Cancel] did.
type Cancelled struct {
	// Record is the record after the cancel; Previous the status it had.
	Record   *Record
	Previous flowtype.Status
	// QueuedFrom is, for a swarm, the index of its first item that was still queued:
	// those items ended failed in the same script. -1 for others.
	QueuedFrom int
}

// Cancel moves signature or container id to cancelled unless it ended, in one round
// trip (a swarm's queued items end failed in the same script). One that ended gives a
// [*NotPendingError] with its final status; a missing one a [*NotFoundError].
func (s *Store) Cancel(ctx context.Context, id, reason string) (*Cancelled, error) {
	res, err := s.eval(ctx, cancelCmd, s.withIndex(id, s.SignatureKey(id), s.KwargsKey(id), s.SwarmItemsKey(id)),
		ms(s.doneTTL), reason).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("cancel %q", id), err)
	}
	return s.cancelled(id, res)
}

func (s *Store) cancelled(id string, res reply) (*Cancelled, error) {
	code := res.code()
	if code == "missing" || len(res) < 4 {
		return nil, &NotFoundError{ID: id}
	}
	prev := res.str(1)
	rec, err := parseRecordReply(id, res.list(2), res.list(3))
	if err != nil {
		return nil, err
	}
	if code == "ended" {
		return nil, &NotPendingError{ID: id, Status: flowtype.Status(prev), RunID: rec.RunID}
	}
	return &Cancelled{Record: rec, Previous: flowtype.Status(prev), QueuedFrom: int(res.int(4))}, nil
}

// CancelMany cancels signatures (see [Store.Cancel]) in one pipeline, for what never
// started; it reports how many it cancelled (others had ended or are gone).
func (s *Store) CancelMany(ctx context.Context, ids []string, reason string) (int, error) {
	calls := make([]scriptCall, len(ids))
	for i, id := range ids {
		calls[i] = scriptCall{keys: s.withIndex(id, s.SignatureKey(id), s.KwargsKey(id), s.SwarmItemsKey(id)), args: []any{ms(s.doneTTL), reason}}
	}
	var n int
	cmds, err := s.pipelineScripts(ctx, cancelCmd, calls, nil)
	if err != nil {
		return 0, opError(fmt.Sprintf("cancel %d signatures", len(ids)), err)
	}
	for _, c := range cmds {
		if res, err := c.Slice(); err == nil && reply(res).code() == "ok" {
			n++
		}
	}
	return n, nil
}

// suspendCmd suspends a signature or container that has not ended. A pending one (or
// an active swarm) becomes suspended; an active signature keeps running and gets the
// hold flag: its finish or failure then holds its callbacks until Resume.
//
// KEYS[1] record hash, KEYS[2] index base. Returns {code, status}: "suspended" (status was pending, or
// a swarm's), "held" (active: callbacks held), "already" (suspended or held already),
// "ended" (done, failed or cancelled), or {"missing"}.
var suspendCmd = redis.NewScript(ixLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if st == 'suspended' or redis.call('HGET', KEYS[1], 'hold') == '1' then return {'already', st} end
if st == 'pending' or (st == 'active' and redis.call('HGET', KEYS[1], 'k') == 'swarm') then
  redis.call('HSET', KEYS[1], 's', 'suspended', 'ls', st)
  ixstatus(st, 'suspended')
  return {'suspended', st}
end
if st == 'active' then
  redis.call('HSET', KEYS[1], 'hold', '1')
  return {'held', st}
end
return {'ended', st}
`)

// resumeCmd resumes what suspendCmd suspended.
//
// KEYS[1] record hash, KEYS[2] a swarm's item hash, KEYS[3] index base. ARGV[1] now
// (unix ms).
// Returns {code, ...}:
//
//	"resumed", status, held input        suspended → status (pending; a swarm's
//	                                     previous one); the held run input or ""
//	"released", status                   the hold flag cleared: status is where the
//	                                     run got to (active, done, failed); callbacks
//	                                     of done or failed must be dispatched now
//	"not-suspended", status / "missing"
var resumeCmd = redis.NewScript(ixLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if st == 'suspended' then
  local back = redis.call('HGET', KEYS[1], 'ls') or 'pending'
  local held = redis.call('HGET', KEYS[1], 'hin') or ''
  redis.call('HSET', KEYS[1], 's', back, 'ls', 'suspended')
  redis.call('HDEL', KEYS[1], 'hin')
  ixstatus('suspended', back)
  return {'resumed', back, held}
end
if redis.call('HGET', KEYS[1], 'hold') == '1' then
  redis.call('HDEL', KEYS[1], 'hold')
  return {'released', st}
end
return {'not-suspended', st}
`)

// SuspendResult says what [Store.Suspend] did.
type SuspendResult string

// Results of [Store.Suspend].
const (
	// Suspended: it was pending (or an active swarm) and is suspended now.
	Suspended SuspendResult = "suspended"
	// HeldActive: it is active; its run goes on and its callbacks are held.
	HeldActive SuspendResult = "held"
	// AlreadySuspended: nothing changed.
	AlreadySuspended SuspendResult = "already"
)

// Suspend suspends signature or swarm id in one round trip (see suspendCmd). One that
// ended gives a [*NotPendingError].
func (s *Store) Suspend(ctx context.Context, id string) (SuspendResult, error) {
	res, err := s.eval(ctx, suspendCmd, s.withIndex(id, s.SignatureKey(id))).Slice()
	if err != nil {
		return "", opError(fmt.Sprintf("suspend %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "missing":
		return "", &NotFoundError{ID: id}
	case "ended":
		return "", &NotPendingError{ID: id, Status: flowtype.Status(r.str(1))}
	}
	return SuspendResult(r.code()), nil
}

// ResumeResult is what [Store.Resume] did.
type ResumeResult struct {
	// Resumed is true when it was suspended: Status is the status it has again, Held
	// the run input a run brought while it was suspended (nil for none).
	Resumed bool
	Status  flowtype.Status
	Held    json.RawMessage
	// Released is true when an active signature's hold was lifted: Status is where
	// its run got to.
	Released bool
}

// Resume resumes signature or swarm id in one round trip (see resumeCmd). One that is
// neither suspended nor held gives a [*NotPendingError] with its status.
func (s *Store) Resume(ctx context.Context, id string) (*ResumeResult, error) {
	res, err := s.eval(ctx, resumeCmd, s.withIndex(id, s.SignatureKey(id), s.SwarmItemsKey(id)), time.Now().UnixMilli()).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("resume %q", id), err)
	}
	r := reply(res)
	st := flowtype.Status(r.str(1))
	switch r.code() {
	case "missing":
		return nil, &NotFoundError{ID: id}
	case "resumed":
		out := &ResumeResult{Resumed: true, Status: st}
		if h := r.str(2); h != "" {
			out.Held = json.RawMessage(h)
		}
		return out, nil
	case "released":
		return &ResumeResult{Released: true, Status: st}, nil
	}
	return nil, &NotPendingError{ID: id, Status: st}
}

// suspendRunningCmd suspends an active signature whose run is being cancelled, so that
// Resume reruns it: active for run ARGV[1] → suspended (back to pending on Resume) with
// the run's input held.
//
// KEYS[1] record hash, KEYS[2] index base. ARGV[1] run id, ARGV[2] the run's input JSON.
// Returns {"ok"}, {"refused", status, owner run} (not active for that run), or
// {"missing"}.
var suspendRunningCmd = redis.NewScript(ixLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
local owner = redis.call('HGET', KEYS[1], 'rid') or ''
if st ~= 'active' or owner ~= ARGV[1] then return {'refused', st, owner} end
redis.call('HSET', KEYS[1], 's', 'suspended', 'ls', 'pending', 'hin', ARGV[2])
redis.call('HDEL', KEYS[1], 'hold')
ixstatus('active', 'suspended')
return {'ok'}
`)

// SuspendRunning moves signature id from active for runID to suspended, holding input
// for Resume (which dispatches it as a new run), in one round trip. Another status or
// owner gives a [*NotPendingError].
func (s *Store) SuspendRunning(ctx context.Context, id, runID string, input json.RawMessage) error {
	res, err := s.eval(ctx, suspendRunningCmd, s.withIndex(id, s.SignatureKey(id)), runID, string(input)).Slice()
	if err != nil {
		return opError(fmt.Sprintf("suspend %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		return nil
	case "missing":
		return &NotFoundError{ID: id}
	default:
		return &NotPendingError{ID: id, Status: flowtype.Status(r.str(1)), RunID: r.str(2)}
	}
}

// waitingCmd records the run that waits for a signature's event (see
// Record.WaitRunID), while the signature has not started: pending, or suspended (a
// suspended signature's wait goes on; the run it releases is held for Resume).
//
// KEYS[1] record hash.
// ARGV[1] the waiting run's id.
// Returns {code, record field/value list}, code one of "ok" (recorded), "refused"
// (the signature started or ended: nothing to wait for), "missing" (no lists).
var waitingCmd = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 's')
if not st then return {'missing'} end
local code = 'refused'
if st == 'pending' or st == 'suspended' then
  redis.call('HSET', KEYS[1], 'wr', ARGV[1])
  code = 'ok'
end
return {code, redis.call('HGETALL', KEYS[1])}
`)

// MarkWaiting records runID as the run that waits for the event of signature id
// (Record.WaitRunID) and returns the record, in one round trip. A signature that
// started or ended has nothing to wait for: a [*TransitionError] (matching
// [ErrTransition]) whose From is its status. A missing one gives a [*NotFoundError].
func (s *Store) MarkWaiting(ctx context.Context, id, runID string) (*Record, error) {
	res, err := s.eval(ctx, waitingCmd, []string{s.SignatureKey(id)}, runID).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("mark %q waiting", id), err)
	}
	r := reply(res)
	if r.code() == "missing" {
		return nil, &NotFoundError{ID: id}
	}
	rec, err := parseRecordReply(id, r.list(1), nil)
	if err != nil {
		return nil, err
	}
	if r.code() != "ok" {
		return nil, &TransitionError{ID: id, From: rec.Status, To: flowtype.StatusPending, RunID: runID, OwnerRunID: rec.RunID}
	}
	return rec, nil
}

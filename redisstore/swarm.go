package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
)

// KindSwarm is the kind of a swarm container: items that run side by side, at most
// MaxConcurrency at a time.
const KindSwarm = "swarm"

// SwarmConfig is the configuration a swarm record carries.
type SwarmConfig struct {
	// MaxConcurrency bounds the items running at once (claimed or dispatched and not
	// ended); 0 means no bound.
	MaxConcurrency int
	// StopAfter fails the swarm when that many items failed; 0 means never.
	StopAfter int
	// MaxItems bounds how many items the swarm may ever hold; 0 means no bound.
	MaxItems int
	// Closed is true when no item may be added; the swarm ends only once closed.
	Closed bool
}

// SwarmItemRef names the swarm item a record ends: a signature, chain or swarm that is
// item Index of swarm SwarmID. Its success (a chain's: its last step's) ends the item
// done, its failure (a chain's: any step's) ends it failed.
type SwarmItemRef struct {
	SwarmID string
	Index   int
}

// SwarmItem is one item as a swarm holds it: the entry signature to dispatch and its
// state.
type SwarmItem struct {
	// Index is the item's position in the swarm, from 0.
	Index int
	// Ref is the item's entry: the signature (a chain's first step, a swarm's own
	// record) that starts it.
	Ref CallbackRef
	// State is the item's state; RunID the run that ended it, once it ended.
	State ItemState
	RunID string
	// ClaimedAt is when the item was claimed (unix ms), while it is ItemClaimed.
	ClaimedAt int64
	// Result is a done item's return value; Error a failed item's message.
	Result json.RawMessage
	Error  string
}

// ItemState is the state of one swarm item.
type ItemState string

// States of a swarm item: queued → claimed (counted as running: dispatched, or about
// to be) → done or failed. Which run a claimed item runs as is its entry signature's
// (its record's RunID, set when the run starts it), so dispatching costs the swarm no
// write.
const (
	ItemQueued  ItemState = "queued"
	ItemClaimed ItemState = "claimed"
	ItemDone    ItemState = "done"
	ItemFailed  ItemState = "failed"
)

// SwarmCounts are a swarm's item counts, each kept by the transitions that change an
// item's state (never by decrementing on an event that did not change one).
type SwarmCounts struct {
	Items, Next, Running, Done, Failed int
	// Stopped is set when the failures reached StopAfter; Complete once the closed
	// swarm's items all ended below it.
	Stopped, Complete bool
	// StopFailures is Failed as it was when the swarm stopped, kept by the transition
	// that stopped it (0 until then): items that fail after the stop count in Failed
	// only. A cancel stops a swarm without setting it.
	StopFailures int
}

// SwarmItemsKey returns the key of swarm id's item hash; it shares the record's slot,
// so every transition of a swarm is one script on one slot.
func (s *Store) SwarmItemsKey(id string) string { return s.SignatureKey(id) + ":it" }

// Swarm record fields (in the record hash) and item hash fields.
const (
	fMaxConc   = "mc"
	fStopAfter = "sa"
	fMaxItems  = "mi"
	fClosed    = "cl"
	fNumItems  = "n"
	fNext      = "nx"
	fRunning   = "nr"
	fNumDone   = "nd"
	fNumFailed = "nf"
	fStopped   = "sp"
	fStopFails = "sf" // the failure count the swarm stopped at
	fComplete  = "cp"
	fSwarmItem = "sw" // the swarm item a record ends: "<swarm id>/<index>"
	fRequeued  = "rq" // indexes of failed items a retry queued again, comma-separated
)

func (c SwarmConfig) fields(items int) []any {
	closed := "0"
	if c.Closed {
		closed = "1"
	}
	return []any{fMaxConc, strconv.Itoa(c.MaxConcurrency), fStopAfter, strconv.Itoa(c.StopAfter),
		fMaxItems, strconv.Itoa(c.MaxItems), fClosed, closed, fNumItems, strconv.Itoa(items),
		fNext, "0", fRunning, "0", fNumDone, "0", fNumFailed, "0"}
}

func encodeSwarmItem(ref SwarmItemRef) string { return ref.SwarmID + "/" + strconv.Itoa(ref.Index) }

func decodeSwarmItem(v string) *SwarmItemRef {
	id, idx, ok := strings.Cut(v, "/")
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(idx)
	if err != nil {
		return nil
	}
	return &SwarmItemRef{SwarmID: id, Index: n}
}

// defaultReturnField is inject.DefaultReturnField, the return field of most tasks: an
// item ref leaves it out (16 bytes per item).
const defaultReturnField = "mageflow_results"

// encodeItemRef is an item hash "<index>" value: the entry's id, task, return field
// ("" for the default) and error field.
func encodeItemRef(cb CallbackRef) string {
	rf := cb.ReturnField
	if rf == defaultReturnField {
		rf = ""
	}
	return cb.ID + sep + cb.Task + sep + rf + sep + cb.ErrorField
}

func decodeItemRef(v string) (CallbackRef, error) {
	p := strings.Split(v, sep)
	if len(p) != 4 {
		return CallbackRef{}, fmt.Errorf("malformed swarm item %q", v)
	}
	rf := p[2]
	if rf == "" {
		rf = defaultReturnField
	}
	return CallbackRef{ID: p[0], Task: p[1], ReturnField: rf, ErrorField: p[3]}, nil
}

// swarmLua is shared by the swarm scripts. KEYS[1] is the swarm record, KEYS[2] its
// item hash. Item hash fields: "<i>" the entry ref, "s<i>" the state ("c<ms>" claimed
// at, "d<run id>\x1f<result>" done, "f<run id>\x1f<error>" failed, the run being the
// one that ended it; absent: queued). One field per state keeps an ended item small.
//
// claim(now) claims queued items while fewer than mc run, unless the swarm is
// stopped: first the items a retry queued again ("rq", comma-separated indexes), then
// the next ones in order; it returns {index, ref, ...}. complete() reports whether the closed
// swarm has all its items ended below the failure threshold, and sets "cp". ended(st)
// comes from statusLua.
var swarmLua = statusLua() + `
local function num(f) return tonumber(redis.call('HGET', KEYS[1], f) or '0') end
local function claim(now)
  local out = {}
  if redis.call('HGET', KEYS[1], 'sp') == '1' then return out end
  local mc, n, nx, nr = num('mc'), num('n'), num('nx'), num('nr')
  local rq = redis.call('HGET', KEYS[1], 'rq')
  if rq and rq ~= '' then
    local rest = {}
    for idx in string.gmatch(rq, '[^,]+') do
      if mc == 0 or nr < mc then
        redis.call('HSET', KEYS[2], 's' .. idx, 'c' .. now)
        out[#out + 1] = tonumber(idx)
        out[#out + 1] = redis.call('HGET', KEYS[2], idx)
        nr = nr + 1
      else
        rest[#rest + 1] = idx
      end
    end
    local left = table.concat(rest, ',')
    redis.call('HSET', KEYS[1], 'rq', left)
  end
  while nx < n and (mc == 0 or nr < mc) do
    redis.call('HSET', KEYS[2], 's' .. nx, 'c' .. now)
    out[#out + 1] = nx
    out[#out + 1] = redis.call('HGET', KEYS[2], tostring(nx))
    nx = nx + 1
    nr = nr + 1
  end
  redis.call('HSET', KEYS[1], 'nx', nx, 'nr', nr)
  return out
end
local function complete()
  if redis.call('HGET', KEYS[1], 'cl') ~= '1' or redis.call('HGET', KEYS[1], 'sp') == '1' then return false end
  if num('nd') + num('nf') < num('n') then return false end
  redis.call('HSET', KEYS[1], 'cp', '1')
  return true
end
`

// swarmClaimCmd starts a started swarm's items.
//
// KEYS[1] swarm record, KEYS[2] item hash.
// ARGV[1] now (unix ms), ARGV[2] active TTL in ms, ARGV[3] the swarm's run input, kept
// in "in" unless already there.
// Returns {code, ...}:
//
//	"ok", {index, ref, ...}   claimed items to dispatch (possibly none)
//	"complete"                closed and empty, or every item already ended
//	"status", s               the swarm is not active
//	"missing"                 no record
var swarmClaimCmd = redis.NewScript(swarmLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if st ~= 'active' then return {'status', st} end
redis.call('HSETNX', KEYS[1], 'in', ARGV[3])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
local claimed = claim(ARGV[1])
if complete() then return {'complete'} end
return {'ok', claimed}
`)

// swarmItemEndCmd ends one item: the one transition per item event. An item that has
// ended already changes nothing, so a duplicate event is harmless.
//
// KEYS[1] swarm record, KEYS[2] item hash.
// ARGV[1] item index, ARGV[2] item entry id (checked unless ""), ARGV[3] "d" done or "f"
// failed, ARGV[4] result JSON (done) or error message (failed), ARGV[5] now (unix ms),
// ARGV[6] the run that ended it.
// Returns {code, ...}:
//
//	"ok", {index, ref, ...}, in    ended; claimed items to dispatch next, and (when
//	                               there are any) the swarm's run input
//	"complete", {}                 ended, and it was the closed swarm's last one
//	"stopped", failures, {}        ended failed, and failures reached the threshold:
//	                               the swarm is stopped ("sp") and failures is kept
//	                               in "sf", the count it stopped at
//	"dup"                          the item had ended already: nothing changed
//	"missing" / "unknown"          no swarm record / no such item
var swarmItemEndCmd = redis.NewScript(swarmLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local i = ARGV[1]
local ref = redis.call('HGET', KEYS[2], i)
if not ref or (ARGV[2] ~= '' and string.sub(ref, 1, #ARGV[2]) ~= ARGV[2]) then return {'unknown'} end
local s = redis.call('HGET', KEYS[2], 's' .. i)
local c = s and string.sub(s, 1, 1)
if c == 'd' or c == 'f' then return {'dup'} end
if s then redis.call('HINCRBY', KEYS[1], 'nr', -1) end
redis.call('HSET', KEYS[2], 's' .. i, ARGV[3] .. ARGV[6] .. '\31' .. ARGV[4])
if ARGV[3] == 'd' then
  redis.call('HINCRBY', KEYS[1], 'nd', 1)
else
  local nf = redis.call('HINCRBY', KEYS[1], 'nf', 1)
  local sa = num('sa')
  if sa > 0 and nf >= sa and redis.call('HGET', KEYS[1], 'sp') ~= '1' then
    redis.call('HSET', KEYS[1], 'sp', '1', 'sf', nf)
    return {'stopped', nf, {}}
  end
end
if redis.call('HGET', KEYS[1], 's') ~= 'active' then return {'ok', {}} end
local claimed = claim(ARGV[5])
if complete() then return {'complete', {}} end
if #claimed == 0 then return {'ok', claimed} end
return {'ok', claimed, redis.call('HGET', KEYS[1], 'in') or ''}
`)

// swarmAddCmd appends items to an open swarm.
//
// KEYS[1] swarm record, KEYS[2] item hash.
// ARGV[1] active TTL in ms, ARGV[2] now (unix ms), ARGV[3] "1" to close the swarm
// after adding, ARGV[4] the index the first item must get ("" for any: the items'
// records name their index, so a concurrent add makes the caller compile again), then
// the encoded entry refs.
// Returns {code, ...}:
//
//	"ok", first index, {index, ref, ...}, in   added; claimed items to dispatch, the run input
//	                                       (a swarm that is not active: "ok", first index, {})
//	"complete"                             closed by this call with every item ended
//	"closed"                               the swarm is closed
//	"status", s                            the swarm ended (done, failed, cancelled)
//	"full", n, max                         n items already, max allowed
//	"moved", n                             the swarm holds n items, not ARGV[4]
//	"missing"                              no record
var swarmAddCmd = redis.NewScript(swarmLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if ended(st) then return {'status', st} end
if redis.call('HGET', KEYS[1], 'cl') == '1' then return {'closed'} end
local n, mi = num('n'), num('mi')
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= n then return {'moved', n} end
local k = #ARGV - 4
if mi > 0 and n + k > mi then return {'full', n, mi} end
for j = 1, k do redis.call('HSET', KEYS[2], tostring(n + j - 1), ARGV[4 + j]) end
redis.call('HSET', KEYS[1], 'n', n + k)
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'cl', '1') end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
if st ~= 'active' then return {'ok', n, {}} end
local claimed = claim(ARGV[2])
if complete() then return {'complete'} end
return {'ok', n, claimed, redis.call('HGET', KEYS[1], 'in') or ''}
`)

// swarmRetryCmd runs a failed swarm again: its failed items are queued again (their
// state cleared, the failure count lowered, their indexes in "rq"), the stop and
// completion marks and the error are cleared, the swarm is active again with the active
// TTL, the retry is counted, and items are claimed.
//
// KEYS[1] swarm record, KEYS[2] item hash, KEYS[3] index base.
// ARGV[1] now (unix ms), ARGV[2] active TTL in ms.
// Returns {code, ...}:
//
//	"ok", {index, ref, ...}, in, {index, ...}   claimed items to dispatch, the run
//	                                          input, the indexes queued again
//	"status", s                               the swarm is not failed
//	"missing"                                 no record
var swarmRetryCmd = redis.NewScript(ixLua + swarmLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if st ~= 'failed' then return {'status', st} end
local again, n = {}, num('n')
for i = 0, n - 1 do
  local s = redis.call('HGET', KEYS[2], 's' .. i)
  if s and string.sub(s, 1, 1) == 'f' then
    redis.call('HDEL', KEYS[2], 's' .. i)
    again[#again + 1] = i
  end
end
local rq = redis.call('HGET', KEYS[1], 'rq') or ''
for _, i in ipairs(again) do
  if rq == '' then rq = tostring(i) else rq = rq .. ',' .. i end
end
local now = ixnow()
redis.call('HINCRBY', KEYS[1], 'nf', -#again)
redis.call('HDEL', KEYS[1], 'sp', 'sf', 'cp', 'err', 'te', 'res')
redis.call('HSET', KEYS[1], 's', 'active', 'ls', st, 'rq', rq, 'rta', now)
redis.call('HINCRBY', KEYS[1], 'rc', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
ixmove(st, 'active', redis.call('HGET', KEYS[1], 'ca') or '0', redis.call('HGET', KEYS[1], 't') or '', tonumber(ARGV[2]), now)
local claimed = claim(ARGV[1])
return {'ok', claimed, redis.call('HGET', KEYS[1], 'in') or '', again}
`)

// SwarmRetry runs the failed swarm id again (see swarmRetryCmd) in one round trip: it
// returns the items to dispatch now and the indexes of the failed items queued again.
// A swarm that is not failed gives a [*NotPendingError].
func (s *Store) SwarmRetry(ctx context.Context, id string, nowMS int64) (*ItemEnd, []int, error) {
	res, err := s.eval(ctx, swarmRetryCmd, s.withIndex(id, s.swarmKeys(id)...), nowMS, ms(s.activeTTL)).Slice()
	if err != nil {
		return nil, nil, opError(fmt.Sprintf("retry swarm %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		claimed, err := parseClaimed(r.list(1))
		if err != nil {
			return nil, nil, err
		}
		var again []int
		for _, v := range r.list(3) {
			if n, ok := v.(int64); ok {
				again = append(again, int(n))
			}
		}
		return &ItemEnd{Claimed: claimed, Input: json.RawMessage(r.str(2))}, again, nil
	case "missing":
		return nil, nil, &NotFoundError{ID: id}
	default:
		return nil, nil, &NotPendingError{ID: id, Status: flowtype.Status(r.str(1))}
	}
}

// swarmCloseCmd closes a swarm: no item may be added, and it ends once its items did.
//
// KEYS[1] swarm record, KEYS[2] item hash.
// Returns {"ok"}, {"complete"} (active and every item ended), {"status", s} (ended)
// or {"missing"}. Closing a closed swarm is "ok".
var swarmCloseCmd = redis.NewScript(swarmLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if ended(st) then return {'status', st} end
redis.call('HSET', KEYS[1], 'cl', '1')
if st == 'active' and complete() then return {'complete'} end
return {'ok'}
`)

// ItemEnd is what [Store.SwarmItemEnd] and friends report.
type ItemEnd struct {
	// Duplicate is true when the item had ended already: nothing changed.
	Duplicate bool
	// Claimed are items to dispatch now.
	Claimed []SwarmItem
	// Input is the swarm's run input, the base input of the claimed items.
	Input json.RawMessage
	// Complete is true when the swarm's items all ended and it must succeed;
	// Stopped when its failures reached the threshold and it must fail. Failures is
	// then the failure count it stopped at (kept as [SwarmCounts].StopFailures).
	Complete, Stopped bool
	Failures          int
}

func (s *Store) swarmKeys(id string) []string {
	return []string{s.SignatureKey(id), s.SwarmItemsKey(id)}
}

// parseClaimed decodes the {index, ref, ...} list of claimed items a swarm script
// returns.
func parseClaimed(list reply) ([]SwarmItem, error) {
	var out []SwarmItem
	for i := 0; i+1 < len(list); i += 2 {
		ref, err := decodeItemRef(list.str(i + 1))
		if err != nil {
			return nil, err
		}
		out = append(out, SwarmItem{Index: int(list.int(i)), Ref: ref, State: ItemClaimed})
	}
	return out, nil
}

// SwarmClaim claims the first items of the started swarm id (at most its
// MaxConcurrency) and keeps input as the swarm's run input, in one round trip.
func (s *Store) SwarmClaim(ctx context.Context, id string, nowMS int64, input json.RawMessage) (*ItemEnd, error) {
	if len(input) == 0 {
		input = json.RawMessage("{}")
	}
	res, err := s.eval(ctx, swarmClaimCmd, s.swarmKeys(id), nowMS, ms(s.activeTTL), string(input)).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("claim items of swarm %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		claimed, err := parseClaimed(r.list(1))
		return &ItemEnd{Claimed: claimed, Input: input}, err
	case "complete":
		return &ItemEnd{Complete: true}, nil
	case "missing":
		return nil, &NotFoundError{ID: id}
	default:
		return nil, &NotPendingError{ID: id, Status: flowtype.Status(r.str(1))}
	}
}

// SwarmItemEnd ends item ref.Index of swarm ref.SwarmID (whose entry is entryID) done
// with result, or failed with message when failed is true, in one round trip. It
// reports the items to dispatch next and whether the swarm must now end.
func (s *Store) SwarmItemEnd(ctx context.Context, ref SwarmItemRef, entryID, runID string, failed bool, payload string, nowMS int64) (*ItemEnd, error) {
	outcome := "d"
	if failed {
		outcome = "f"
	}
	res, err := s.eval(ctx, swarmItemEndCmd, s.swarmKeys(ref.SwarmID), ref.Index, entryID, outcome, payload, nowMS, runID).Slice()
	if err != nil {
		return nil, opError(fmt.Sprintf("end item %d of swarm %q", ref.Index, ref.SwarmID), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		claimed, err := parseClaimed(r.list(1))
		end := &ItemEnd{Claimed: claimed}
		if in := r.str(2); in != "" {
			end.Input = json.RawMessage(in)
		}
		return end, err
	case "complete":
		return &ItemEnd{Complete: true}, nil
	case "stopped":
		return &ItemEnd{Stopped: true, Failures: int(r.int(1))}, nil
	case "dup":
		return &ItemEnd{Duplicate: true}, nil
	case "missing":
		return nil, &NotFoundError{ID: ref.SwarmID}
	default:
		return nil, fmt.Errorf("redisstore: swarm %q has no item %d with entry %q", ref.SwarmID, ref.Index, entryID)
	}
}

// SwarmAdd appends items (their entry refs, already saved) to the open swarm id, and
// closes it when closeAfter is set, in one round trip. It returns the index of the
// first added item and, for an active swarm, items to dispatch now. A closed swarm
// gives [ErrSwarmClosed]; an ended one a [*NotPendingError]; one that would exceed its
// MaxItems a [*SwarmFullError].
//
// first is the index the first item must get (its records name it), or -1 for any: a
// swarm that holds a different number of items gives a [*SwarmMovedError].
func (s *Store) SwarmAdd(ctx context.Context, id string, refs []CallbackRef, first int, closeAfter bool, nowMS int64) (int, *ItemEnd, error) {
	cl := "0"
	if closeAfter {
		cl = "1"
	}
	want := ""
	if first >= 0 {
		want = strconv.Itoa(first)
	}
	args := []any{ms(s.activeTTL), nowMS, cl, want}
	for _, r := range refs {
		args = append(args, encodeItemRef(r))
	}
	res, err := s.eval(ctx, swarmAddCmd, s.swarmKeys(id), args...).Slice()
	if err != nil {
		return 0, nil, opError(fmt.Sprintf("add items to swarm %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		claimed, err := parseClaimed(r.list(2))
		return int(r.int(1)), &ItemEnd{Claimed: claimed, Input: json.RawMessage(r.str(3))}, err
	case "complete":
		return 0, &ItemEnd{Complete: true}, nil
	case "closed":
		return 0, nil, fmt.Errorf("%w: %q", ErrSwarmClosed, id)
	case "moved":
		return 0, nil, &SwarmMovedError{ID: id, Items: int(r.int(1)), Want: first}
	case "full":
		return 0, nil, &SwarmFullError{ID: id, Items: int(r.int(1)), Adding: len(refs), Max: int(r.int(2))}
	case "missing":
		return 0, nil, &NotFoundError{ID: id}
	default:
		return 0, nil, &NotPendingError{ID: id, Status: flowtype.Status(r.str(1))}
	}
}

// SwarmClose closes swarm id, in one round trip. complete reports that the swarm is
// active with every item ended: it must now succeed. An ended swarm gives a
// [*NotPendingError].
func (s *Store) SwarmClose(ctx context.Context, id string) (complete bool, err error) {
	res, err := s.eval(ctx, swarmCloseCmd, s.swarmKeys(id)).Slice()
	if err != nil {
		return false, opError(fmt.Sprintf("close swarm %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		return false, nil
	case "complete":
		return true, nil
	case "missing":
		return false, &NotFoundError{ID: id}
	default:
		return false, &NotPendingError{ID: id, Status: flowtype.Status(r.str(1))}
	}
}

// SwarmItems reads every item of swarm id with its state, result and error, in one
// round trip.
func (s *Store) SwarmItems(ctx context.Context, id string) ([]SwarmItem, error) {
	h, err := s.rdb.HGetAll(ctx, s.SwarmItemsKey(id)).Result()
	if err != nil {
		return nil, opError(fmt.Sprintf("read items of swarm %q", id), err)
	}
	var out []SwarmItem
	for i := 0; ; i++ {
		k := strconv.Itoa(i)
		enc, ok := h[k]
		if !ok {
			break
		}
		ref, err := decodeItemRef(enc)
		if err != nil {
			return nil, fmt.Errorf("redisstore: swarm %q: %w", id, err)
		}
		it := SwarmItem{Index: i, Ref: ref, State: ItemQueued}
		switch st := h["s"+k]; {
		case strings.HasPrefix(st, "d"):
			run, res, _ := strings.Cut(st[1:], sep)
			it.State, it.RunID, it.Result = ItemDone, run, json.RawMessage(res)
		case strings.HasPrefix(st, "f"):
			run, msg, _ := strings.Cut(st[1:], sep)
			it.State, it.RunID, it.Error = ItemFailed, run, msg
		case strings.HasPrefix(st, "c"):
			it.State = ItemClaimed
			it.ClaimedAt, _ = strconv.ParseInt(st[1:], 10, 64)
		}
		out = append(out, it)
	}
	return out, nil
}

// SwarmResults returns the results of swarm id's items in item order as one JSON
// array: a done item's return value, null for any other.
func SwarmResults(items []SwarmItem) json.RawMessage {
	var b strings.Builder
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if it.State == ItemDone && len(it.Result) > 0 {
			b.Write(it.Result)
		} else {
			b.WriteString("null")
		}
	}
	b.WriteByte(']')
	return json.RawMessage(b.String())
}

// saveSwarmItemsCmd writes a new swarm's item hash (the record itself is written by
// saveCmd in the same pipeline).
//
// KEYS[1] item hash. ARGV[1] TTL in ms (negated: only if absent), then field/value
// pairs. Returns 1, or 0 when it existed and was left as it is.
var saveSwarmItemsCmd = redis.NewScript(`
local ttl = tonumber(ARGV[1])
if ttl < 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  ttl = -ttl
end
if #ARGV > 1 then
  -- In chunks: unpack of a very large table fails (a swarm may have many items).
  local kv = {}
  for i = 2, #ARGV do
    kv[#kv + 1] = ARGV[i]
    if #kv == 200 then
      redis.call('HSET', KEYS[1], unpack(kv))
      kv = {}
    end
  end
  if #kv > 0 then redis.call('HSET', KEYS[1], unpack(kv)) end
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`)

// SwarmEnded gives the item hash of the ended swarm id the done TTL (the record got
// it from Finish or Fail).
func (s *Store) SwarmEnded(ctx context.Context, id string) error {
	if err := s.rdb.PExpire(ctx, s.SwarmItemsKey(id), s.doneTTL).Err(); err != nil {
		return opError(fmt.Sprintf("expire items of swarm %q", id), err)
	}
	return nil
}

package redisstore

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hatchetflow/go/flowtype"
)

// CallbackRef is how a parent record names one callback: its signature id plus what a
// dispatcher needs to build the callback's input without reading it.
type CallbackRef struct {
	// ID is the callback's signature id.
	ID string `json:"id"`
	// Task is the callback's task name.
	Task string `json:"t"`
	// ReturnField is the input field that receives a return value (success callbacks).
	ReturnField string `json:"rf,omitempty"`
	// ErrorField is the input field that receives error details, "" for none.
	ErrorField string `json:"ef,omitempty"`
	// OutcomeField is the input field that receives a finally callback's outcome, ""
	// for the default (inject.DefaultOutcomeField).
	OutcomeField string `json:"of,omitempty"`
	// Wait is true when the callback's signature waits for an event (Record.Wait):
	// it is dispatched as a run of the wait task, not of Task.
	Wait bool `json:"w,omitempty"`
}

// WaitSpec is the outside event a signature waits for before its task runs
// (dsl.Builder.After), kept on its record.
type WaitSpec struct {
	// Event is the event's name and Key the key it is signalled for.
	Event string `json:"e"`
	Key   string `json:"k"`
	// Timeout is how long the wait lasts, from when it starts.
	Timeout time.Duration `json:"t"`
	// Field is the input field of the task that receives the signal's payload.
	Field string `json:"f"`
}

// Kinds of record: a signature runs a task; a chain is a container of steps (a swarm,
// [KindSwarm], one of items).
const (
	KindSignature = ""
	KindChain     = "chain"
)

// ContainerCallbackRef is an error or finally callback of a container (a chain) that
// every leaf step of it carries: when a step fails for good (or, for a finally
// callback, ends the chain in any way), the step dispatches it with the container's
// input, read from the container's first leaf.
type ContainerCallbackRef struct {
	CallbackRef
	// ContainerID is the chain; FirstLeafID the chain's first leaf step, which keeps
	// the chain's input.
	ContainerID, FirstLeafID string
}

// Record is one signature, or one container of signatures (Kind chain).
type Record struct {
	// Kind is KindSignature, KindChain or KindSwarm.
	Kind string
	// ID is the signature id (UUIDv7).
	ID string
	// Task is the task name the signature runs.
	Task string
	// Kwargs are the bound kwargs.
	Kwargs map[string]any
	// OnSuccess and OnError are the callbacks, in the order they were added; Finally
	// the callbacks dispatched after any end (done, failed, cancelled).
	OnSuccess, OnError, Finally []CallbackRef
	// Status is the current status; LastStatus the one before it.
	Status, LastStatus flowtype.Status
	// ReturnField is the field of this task's input that receives a parent's return value.
	ReturnField string
	// ErrorField is the field of this task's input that receives error details, or "".
	ErrorField string
	// OutcomeField is the field of this task's input that receives a finally
	// callback's outcome, or "" for the default (inject.DefaultOutcomeField).
	OutcomeField string
	// Schema is the validator schema given with dsl's Validate, or nil.
	Schema json.RawMessage
	// CreatedAt is when the signature was saved; StartedAt when a run first started
	// it and EndedAt when it ended (zero until then). A container starts when its run
	// does (a chain's record never starts: its steps do).
	CreatedAt, StartedAt, EndedAt time.Time
	// RunID is the engine run that owns the signature once it started.
	RunID string
	// Attempt is the 1-based attempt number of the owner run's latest attempt; Calls
	// how many attempts of that run were admitted to the user function.
	Attempt, Calls int
	// Containers are the chains this signature is a step of, innermost first.
	Containers []string
	// FirstLeaf is true when this signature is the first step of a chain: its Input
	// is the chain's input.
	FirstLeaf bool
	// Input is the message the signature's run was dispatched with (before its bound
	// kwargs are merged): written with the record when a Run saves it, by
	// [Store.MarkDispatched] for a callback, by [Store.KeepInput] for a saved one, and
	// by [Store.StartWithInput]. A cancel hands it to the error callbacks; for a
	// swarm it is the swarm's input.
	Input json.RawMessage
	// ChainErrors are the error callbacks of the chains this signature is a step of;
	// ChainFinally their finally callbacks.
	ChainErrors, ChainFinally []ContainerCallbackRef
	// Steps are a container's direct steps (signature or container ids), in order;
	// Leaves its signatures in run order, nested containers flattened.
	Steps, Leaves []string
	// Result is the task's return value as JSON, kept once the signature is done.
	Result json.RawMessage
	// Error is the failure message, kept once the signature failed.
	Error string
	// Dispatched maps "<outcome>:<callback id>" to the run id it was dispatched as.
	Dispatched map[string]string
	// Swarm is a swarm container's configuration (Kind swarm), Counts its item
	// counts as stored; Items the entries of its items, written by a save only
	// (read them with [Store.SwarmItems]).
	Swarm  *SwarmConfig
	Counts SwarmCounts
	Items  []CallbackRef
	// Item is the swarm item this record ends, when it is a swarm's item (a
	// signature, chain or swarm).
	Item *SwarmItemRef
	// Held is set while an active signature is suspended: its finish or failure
	// holds its callbacks until Resume.
	Held bool
	// HeldRunID is the latest run that found the signature suspended and was held
	// (refused without calling user code) for Resume.
	HeldRunID string
	// ScheduleID is the engine schedule that creates the signature's run later (a run
	// started with a delay), written by [Store.KeepSchedule]; "" for a run dispatched
	// at once. A cancel before the schedule fired deletes the schedule.
	ScheduleID string
	// Retries counts the times [Store.Retry] moved the record back to pending, and
	// RetriedAt is the latest (zero: never retried).
	Retries   int
	RetriedAt time.Time
	// Wait is the event the signature waits for before its task runs, or nil.
	Wait *WaitSpec
	// WaitRunID is the engine run that waits for the event (a run of the wait task),
	// written by [Store.MarkWaiting] when that run starts; a cancel while the
	// signature waits cancels it.
	WaitRunID string
	// Root marks, for a save, the top of a tree: the record enters the root index. It
	// is not a record field (a listing reports it from the index).
	Root bool
}

// DispatchKey is the marker field for one callback of one outcome.
func DispatchKey(o flowtype.Outcome, callbackID string) string { return string(o) + ":" + callbackID }

// Hash field names of a record. Short names keep a typical signature small.
const (
	fTask        = "t"
	fStatus      = "s"
	fLastStatus  = "ls"
	fReturnField = "rf"
	fErrorField  = "ef"
	fOutcomeFld  = "of"
	fSchema      = "sc"
	fCreated     = "ca"
	fStartedAt   = "ta" // unix ms of the first start, written by startCmd
	fEndedAt     = "te" // unix ms of the end (done, failed, cancelled)
	fRunID       = "rid"
	fHeldRunID   = "hr"
	fSchedule    = "sch"  // the engine schedule of a delayed run
	fRetries     = "rc"   // times Store.Retry moved the record back to pending
	fRetriedAt   = "rta"  // unix ms of the latest retry
	fWait        = "w"    // the event a signature waits for (JSON WaitSpec)
	fWaitRun     = "wr"   // the run that waits for it
	fHeldInput   = "hin"  // a suspended signature's held run input
	fHold        = "hold" // "1" while an active signature is suspended
	fCalls       = "nc"   // user-function calls admitted for the owner run
	fAttempt     = "at"
	fContainer   = "cid" // comma-separated container ids, innermost first
	fKind        = "k"
	fFirstLeaf   = "fi"
	fInput       = "in"
	fSteps       = "st"
	fLeaves      = "lv"
	fChainError  = "E:" // E:<callback id> -> encoded ContainerCallbackRef
	fChainFinal  = "F:" // F:<callback id> -> encoded ContainerCallbackRef (a chain's finally)
	fOnSuccess   = "o:" // o:<callback id> -> encoded CallbackRef, one field per callback
	fOnError     = "e:"
	fFinally     = "f:"
	fResult      = "res"
	fError       = "err"
	markerPrefix = "d:" // d:<outcome>:<callback id> -> run id
)

// fields encodes r for HSET. Kwargs are encoded separately by kwargsFields.
func (r *Record) fields() ([]any, error) { return r.appendFields(nil), nil }

// fieldsCap is how many elements r's fields take at most, for appendFields: 18 pairs
// of plain fields, a swarm's configuration and counts, one pair per callback.
func (r *Record) fieldsCap() int {
	n := 18 + len(r.ChainErrors) + len(r.ChainFinally) + len(r.OnSuccess) + len(r.OnError) + len(r.Finally)
	if r.Swarm != nil {
		n += 9
	}
	return 2 * n
}

// appendFields appends r's field/value pairs (see fields) to out. The task, the
// status and the creation time come first.
func (r *Record) appendFields(out []any) []any {
	out = append(out, fTask, r.Task, fStatus, string(orDefault(r.Status, flowtype.StatusPending)),
		fCreated, strconv.FormatInt(r.CreatedAt.UnixMilli(), 10))
	if r.LastStatus != "" {
		out = append(out, fLastStatus, string(r.LastStatus))
	}
	if r.ReturnField != "" {
		out = append(out, fReturnField, r.ReturnField)
	}
	if r.ErrorField != "" {
		out = append(out, fErrorField, r.ErrorField)
	}
	if r.OutcomeField != "" {
		out = append(out, fOutcomeFld, r.OutcomeField)
	}
	if len(r.Schema) > 0 {
		out = append(out, fSchema, []byte(r.Schema))
	}
	if len(r.Input) > 0 {
		out = append(out, fInput, []byte(r.Input))
	}
	if r.RunID != "" {
		out = append(out, fRunID, r.RunID)
	}
	if r.ScheduleID != "" {
		out = append(out, fSchedule, r.ScheduleID)
	}
	if r.Wait != nil {
		out = append(out, fWait, encodeWait(r.Wait))
	}
	if r.WaitRunID != "" {
		out = append(out, fWaitRun, r.WaitRunID)
	}
	if r.Kind != "" {
		out = append(out, fKind, r.Kind)
	}
	if len(r.Containers) > 0 {
		out = append(out, fContainer, strings.Join(r.Containers, ","))
	}
	if r.FirstLeaf {
		out = append(out, fFirstLeaf, "1")
	}
	if len(r.Steps) > 0 {
		out = append(out, fSteps, strings.Join(r.Steps, ","))
	}
	if len(r.Leaves) > 0 {
		out = append(out, fLeaves, strings.Join(r.Leaves, ","))
	}
	for i, cb := range r.ChainErrors {
		out = append(out, fChainError+cb.ID, encodeContainerCallback(i, cb))
	}
	for i, cb := range r.ChainFinally {
		out = append(out, fChainFinal+cb.ID, encodeContainerCallback(i, cb))
	}
	if r.Swarm != nil {
		out = append(out, r.Swarm.fields(len(r.Items))...)
	}
	if r.Item != nil {
		out = append(out, fSwarmItem, encodeSwarmItem(*r.Item))
	}
	for i, cb := range r.OnSuccess {
		out = append(out, fOnSuccess+cb.ID, encodeCallback(i, cb))
	}
	for i, cb := range r.OnError {
		out = append(out, fOnError+cb.ID, encodeCallback(i, cb))
	}
	for i, cb := range r.Finally {
		out = append(out, fFinally+cb.ID, encodeCallback(i, cb))
	}
	return out
}

// kwargsFields encodes kwargs as field/value pairs, values JSON-encoded.
func kwargsFields(kw map[string]any) ([]any, error) {
	return appendKwargs(make([]any, 0, 2*len(kw)), kw)
}

// appendKwargs appends kwargs' field/value pairs (see kwargsFields) to out.
func appendKwargs(out []any, kw map[string]any) ([]any, error) {
	for k, v := range kw {
		e, err := encodeKwarg(v)
		if err != nil {
			return nil, fmt.Errorf("redisstore: kwarg %q: %w", k, err)
		}
		out = append(out, k, e)
	}
	return out, nil
}

// encodeKwarg encodes one kwarg value as json.Marshal does; the common small values
// (strings of plain ASCII, bools, nil, ints, float64s json writes without an exponent)
// directly.
func encodeKwarg(v any) (string, error) {
	switch x := v.(type) {
	case string:
		if plainJSON(x) && !strings.ContainsAny(x, "<>&") { // json.Marshal escapes these for HTML
			return `"` + x + `"`, nil
		}
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "null", nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if a := math.Abs(x); a == 0 || a >= 1e-6 && a < 1e21 { // not NaN or ±Inf either
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// plainJSON reports whether s is printable ASCII with no quote or backslash: the same
// inside a JSON string as outside.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// jsonNumber reports whether s is a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(s string) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseRecord decodes the record and kwargs hashes of id, read as maps (HGETALL).
func parseRecord(id string, h, kw map[string]string) (*Record, error) {
	if len(h) == 0 {
		return nil, &NotFoundError{ID: id}
	}
	d := newRecordDecoder(id)
	for k, v := range h {
		d.field(k, v)
	}
	for k, v := range kw {
		d.kwarg(k, v, len(kw))
	}
	return d.done()
}

// parseRecordReply decodes the record and kwargs hashes of id as a script returns
// them: flat field/value lists (HGETALL inside the script), read in place. A trailing
// field without a value is ignored and a non-string field or value reads as "", as
// [reply.fields] reads them.
func parseRecordReply(id string, h, kw reply) (*Record, error) {
	if len(h) < 2 {
		return nil, &NotFoundError{ID: id}
	}
	d := newRecordDecoder(id)
	for j := 0; j+1 < len(h); j += 2 {
		d.field(h.str(j), h.str(j+1))
	}
	for j := 0; j+1 < len(kw); j += 2 {
		d.kwarg(kw.str(j), kw.str(j+1), len(kw)/2)
	}
	return d.done()
}

// recordDecoder builds a Record from its hash fields, given one at a time in any
// order (see parseRecord).
type recordDecoder struct {
	r          *Record
	ok, er, fi []positioned
	ce, cf     []positionedContainer
	// swarm holds a swarm's configuration and counts until the kind is known.
	swarm map[string]string
	err   error
}

func newRecordDecoder(id string) *recordDecoder {
	return &recordDecoder{r: &Record{ID: id}}
}

// field decodes one record field.
func (d *recordDecoder) field(k, v string) {
	r := d.r
	switch k {
	case fTask:
		r.Task = v
	case fStatus:
		r.Status = flowtype.Status(v)
	case fLastStatus:
		r.LastStatus = flowtype.Status(v)
	case fReturnField:
		r.ReturnField = v
	case fErrorField:
		r.ErrorField = v
	case fOutcomeFld:
		r.OutcomeField = v
	case fRunID:
		r.RunID = v
	case fKind:
		r.Kind = v
	case fFirstLeaf:
		r.FirstLeaf = v == "1"
	case fContainer:
		r.Containers = splitList(v)
	case fSteps:
		r.Steps = splitList(v)
	case fLeaves:
		r.Leaves = splitList(v)
	case fError:
		r.Error = v
	case fInput:
		r.Input = rawOrNil(v)
	case fSchema:
		r.Schema = rawOrNil(v)
	case fResult:
		r.Result = rawOrNil(v)
	case fAttempt:
		r.Attempt, _ = strconv.Atoi(v)
	case fCalls:
		r.Calls, _ = strconv.Atoi(v)
	case fHold:
		r.Held = v == "1"
	case fHeldRunID:
		r.HeldRunID = v
	case fSchedule:
		r.ScheduleID = v
	case fRetries:
		r.Retries, _ = strconv.Atoi(v)
	case fRetriedAt:
		r.RetriedAt = unixMilli(v)
	case fWait:
		r.Wait = nil
		if v != "" {
			var w WaitSpec
			if err := json.Unmarshal([]byte(v), &w); err != nil {
				d.fail(k, err)
				return
			}
			r.Wait = &w
		}
	case fWaitRun:
		r.WaitRunID = v
	case fSwarmItem:
		r.Item = nil
		if v != "" {
			r.Item = decodeSwarmItem(v)
		}
	case fCreated:
		r.CreatedAt = unixMilli(v)
	case fStartedAt:
		r.StartedAt = unixMilli(v)
	case fEndedAt:
		r.EndedAt = unixMilli(v)
	case fMaxConc, fStopAfter, fMaxItems, fClosed, fNumItems, fNext, fRunning, fNumDone, fNumFailed, fStopped,
		fComplete, fStopFails:
		if d.swarm == nil {
			d.swarm = map[string]string{}
		}
		d.swarm[k] = v
	default:
		switch {
		case strings.HasPrefix(k, fOnSuccess), strings.HasPrefix(k, fOnError), strings.HasPrefix(k, fFinally):
			p, err := decodeCallback(k[len(fOnSuccess):], v)
			if err != nil {
				d.fail(k, err)
				return
			}
			switch k[0] {
			case fOnSuccess[0]:
				d.ok = append(d.ok, p)
			case fOnError[0]:
				d.er = append(d.er, p)
			default:
				d.fi = append(d.fi, p)
			}
		case strings.HasPrefix(k, fChainError), strings.HasPrefix(k, fChainFinal):
			p, err := decodeContainerCallback(k[len(fChainError):], v)
			if err != nil {
				d.fail(k, err)
				return
			}
			if k[0] == fChainError[0] {
				d.ce = append(d.ce, p)
			} else {
				d.cf = append(d.cf, p)
			}
		case strings.HasPrefix(k, markerPrefix):
			if r.Dispatched == nil {
				r.Dispatched = map[string]string{}
			}
			r.Dispatched[k[len(markerPrefix):]] = v
		}
	}
}

// kwarg decodes one kwarg (JSON) of a record with n kwargs.
func (d *recordDecoder) kwarg(k, v string, n int) {
	if d.r.Kwargs == nil {
		d.r.Kwargs = make(map[string]any, n)
	}
	val, err := decodeKwarg(v)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("redisstore: signature %q: kwarg %q: %w", d.r.ID, k, err)
	}
	d.r.Kwargs[k] = val
}

func (d *recordDecoder) fail(field string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("redisstore: signature %q: field %s: %w", d.r.ID, field, err)
	}
}

// done returns the record: callbacks in their stored order, a swarm's configuration.
func (d *recordDecoder) done() (*Record, error) {
	if d.err != nil {
		return nil, d.err
	}
	r := d.r
	if r.Kind == KindSwarm {
		h := d.swarm
		atoi := func(f string) int { n, _ := strconv.Atoi(h[f]); return n }
		r.Swarm = &SwarmConfig{MaxConcurrency: atoi(fMaxConc), StopAfter: atoi(fStopAfter),
			MaxItems: atoi(fMaxItems), Closed: h[fClosed] == "1"}
		r.Counts = SwarmCounts{Items: atoi(fNumItems), Next: atoi(fNext), Running: atoi(fRunning),
			Done: atoi(fNumDone), Failed: atoi(fNumFailed), Stopped: h[fStopped] == "1", Complete: h[fComplete] == "1",
			StopFailures: atoi(fStopFails)}
	}
	r.OnSuccess, r.OnError, r.Finally = inOrder(d.ok), inOrder(d.er), inOrder(d.fi)
	r.ChainErrors, r.ChainFinally = containersInOrder(d.ce), containersInOrder(d.cf)
	return r, nil
}

// containersInOrder returns the container callbacks sorted by their stored
// positions, or nil for none.
func containersInOrder(ps []positionedContainer) []ContainerCallbackRef {
	if len(ps) == 0 {
		return nil
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].pos < ps[j].pos })
	out := make([]ContainerCallbackRef, len(ps))
	for i, p := range ps {
		out[i] = p.cb
	}
	return out
}

// rawOrNil returns v as raw JSON, nil for "".
func rawOrNil(v string) json.RawMessage {
	if v == "" {
		return nil
	}
	return json.RawMessage(v)
}

// unixMilli decodes a time stored as unix milliseconds; the zero time when v is not one.
func unixMilli(v string) time.Time {
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// decodeKwarg decodes one stored kwarg value as json.Unmarshal into an any does; the
// common small values (literals, numbers, strings of plain ASCII) directly.
func decodeKwarg(v string) (any, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if n := len(v); n >= 2 && v[0] == '"' && v[n-1] == '"' && plainJSON(v[1:n-1]) {
		return v[1 : n-1], nil
	}
	if jsonNumber(v) {
		if f, err := strconv.ParseFloat(v, 64); err == nil { // as encoding/json does
			return f, nil
		}
	}
	var val any
	if err := json.Unmarshal([]byte(v), &val); err != nil {
		return nil, err
	}
	return val, nil
}

func orDefault(s, d flowtype.Status) flowtype.Status {
	if s == "" {
		return d
	}
	return s
}

// A callback is stored as one record field, "o:<id>", "e:<id>" or "f:<id>", whose
// value is "<position>\x1f<task>\x1f<return field>\x1f<error field>", followed, only
// when needed, by "\x1f<outcome field>" (the callback's type marks one; "" when it
// does not but the next part follows) and "\x1fw" (the callback waits for an event,
// CallbackRef.Wait). Short values keep a typical record in Redis's compact listpack
// encoding (values up to 64 bytes), about half the memory of one JSON list per branch.
const sep = "\x1f"

func encodeCallback(pos int, cb CallbackRef) string {
	return encodeCallback4(pos, cb) + callbackSuffix(cb)
}

// encodeCallback4 encodes the four parts every callback has.
func encodeCallback4(pos int, cb CallbackRef) string {
	return strconv.Itoa(pos) + sep + cb.Task + sep + cb.ReturnField + sep + cb.ErrorField
}

// waitFlag is the last part of the encoding of a callback that waits for an event.
const waitFlag = "w"

// encodeWait encodes a wait as its record field holds it.
func encodeWait(w *WaitSpec) string {
	b, _ := json.Marshal(w) // strings and an integer: cannot fail
	return string(b)
}

// callbackSuffix is the optional end of an encoded callback: its outcome field, then
// the wait flag.
func callbackSuffix(cb CallbackRef) string {
	switch {
	case cb.Wait:
		return sep + cb.OutcomeField + sep + waitFlag
	case cb.OutcomeField != "":
		return sep + cb.OutcomeField
	}
	return ""
}

// positioned is a callback with its position in its branch.
type positioned struct {
	pos int
	cb  CallbackRef
}

func decodeCallback(id, v string) (positioned, error) {
	parts := strings.Split(v, sep)
	if len(parts) < 4 || len(parts) > 6 || (len(parts) == 6 && parts[5] != waitFlag) {
		return positioned{}, fmt.Errorf("malformed callback %q", v)
	}
	pos, err := strconv.Atoi(parts[0])
	if err != nil {
		return positioned{}, fmt.Errorf("malformed callback position %q", parts[0])
	}
	cb := CallbackRef{ID: id, Task: parts[1], ReturnField: parts[2], ErrorField: parts[3]}
	if len(parts) >= 5 {
		cb.OutcomeField = parts[4]
	}
	cb.Wait = len(parts) == 6
	return positioned{pos, cb}, nil
}

// inOrder returns the callbacks sorted by their stored positions, or nil for none.
func inOrder(ps []positioned) []CallbackRef {
	if len(ps) == 0 {
		return nil
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].pos < ps[j].pos })
	out := make([]CallbackRef, len(ps))
	for i, p := range ps {
		out[i] = p.cb
	}
	return out
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

type positionedContainer struct {
	pos int
	cb  ContainerCallbackRef
}

// encodeContainerCallback encodes an E: or F: field: a callback's four parts, the
// container id and its first leaf id, then the callback's optional end (see
// callbackSuffix).
func encodeContainerCallback(pos int, cb ContainerCallbackRef) string {
	return encodeCallback4(pos, cb.CallbackRef) + sep + cb.ContainerID + sep + cb.FirstLeafID + callbackSuffix(cb.CallbackRef)
}

// decodeContainerCallback decodes an E: or F: field (see encodeContainerCallback).
func decodeContainerCallback(id, v string) (positionedContainer, error) {
	parts := strings.Split(v, sep)
	if len(parts) < 6 || len(parts) > 8 {
		return positionedContainer{}, fmt.Errorf("malformed container callback %q", v)
	}
	p, err := decodeCallback(id, strings.Join(append(parts[:4:4], parts[6:]...), sep))
	if err != nil {
		return positionedContainer{}, err
	}
	return positionedContainer{p.pos, ContainerCallbackRef{CallbackRef: p.cb, ContainerID: parts[4], FirstLeafID: parts[5]}}, nil
}

// linkFields encodes the container fields of r that LinkStep adds to a saved
// signature: its next steps (success callbacks, appended after the ones it has), chain
// error and finally callbacks, containers, the first-step flag and the swarm item it
// ends.
func (r *Record) linkFields() ([]any, error) {
	var out []any
	if r.Item != nil {
		out = append(out, fSwarmItem, encodeSwarmItem(*r.Item))
	}
	if len(r.Containers) > 0 {
		out = append(out, fContainer, strings.Join(r.Containers, ","))
	}
	if r.FirstLeaf {
		out = append(out, fFirstLeaf, "1")
	}
	for i, cb := range r.OnSuccess {
		// Positions after any the signature has: 1000 + i keeps them last.
		out = append(out, fOnSuccess+cb.ID, encodeCallback(1000+i, cb))
	}
	for i, cb := range r.ChainErrors {
		out = append(out, fChainError+cb.ID, encodeContainerCallback(i, cb))
	}
	for i, cb := range r.ChainFinally {
		out = append(out, fChainFinal+cb.ID, encodeContainerCallback(i, cb))
	}
	return out, nil
}

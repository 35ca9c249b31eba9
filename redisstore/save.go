package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
)

// saveCmd creates one signature: its record and kwargs hashes, each with the active
// TTL, atomically. A tree is saved as a pipeline of these, callbacks first, so it works
// on Redis Cluster too (a MULTI may not span slots).
//
// The record enters its shard's indexes (all, status, task, and root when it is the
// top of a tree) in the same script; every tenth save also drops up to 20 expired index
// entries of its shard (twice what saves add, at a tenth of the cost).
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base.
// ARGV[1] TTL in ms, or the negated TTL to create the signature only if it does not
// exist yet (a retried attempt saving the same ids), ARGV[2] n = number of record
// field/value pairs, ARGV[3] flags: "r" the top of a tree, "s" sweep expired index
// entries ("", "r", "s" or "rs"), then n record pairs, then the
// kwargs pairs (possibly none).
// Returns 1, or 0 when an existing signature was left as it is.
var saveCmd = redis.NewScript(ixLua + `
local ttl = tonumber(ARGV[1])
local prev
if ttl < 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  ttl = -ttl
else
  prev = redis.call('HGET', KEYS[1], 's')
end
local last = 3 + 2 * tonumber(ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 4, last))
redis.call('PEXPIRE', KEYS[1], ttl)
if #ARGV > last then
  redis.call('HSET', KEYS[2], unpack(ARGV, last + 1, #ARGV))
  redis.call('PEXPIRE', KEYS[2], ttl)
end
local task, st, score
for i = 4, last, 2 do
  local f = ARGV[i]
  if f == 't' then task = ARGV[i + 1] elseif f == 's' then st = ARGV[i + 1] elseif f == 'ca' then score = ARGV[i + 1] end
  if task and st and score then break end
end
if not (task and st and score) then
  local h = redis.call('HMGET', KEYS[1], 't', 's', 'ca')
  task, st, score = h[1] or '', h[2], h[3] or '0'
end
ixadd(string.find(ARGV[3], 'r', 1, true) ~= nil, prev, st, score, task, ttl, ixnow())
if string.find(ARGV[3], 's', 1, true) then ixsweep(20) end
return 1
`)

// SaveTree writes records in one pipelined round trip (one per node, in parallel, on
// Redis Cluster), in the order given: pass callbacks before their parents, so a save
// cut short never leaves a parent pointing at a missing callback. Each signature is
// created by one script that gives its keys the active TTL as it writes them.
func (s *Store) SaveTree(ctx context.Context, recs []*Record) error {
	return s.saveTree(ctx, recs, false)
}

// SaveTreeIfAbsent is [Store.SaveTree] for ids that a retried attempt produces again:
// a signature that exists already is left as it is (its status, kwargs and markers),
// the others are created. Same round trip.
func (s *Store) SaveTreeIfAbsent(ctx context.Context, recs []*Record) error {
	return s.saveTree(ctx, recs, true)
}

func (s *Store) saveTree(ctx context.Context, recs []*Record, ifAbsent bool) error {
	ttl := ms(s.activeTTL)
	if ifAbsent {
		ttl = -ttl
	}
	calls := make([]scriptCall, 0, len(recs))
	ttlArg := any(ttl)
	for _, r := range recs {
		flags := ""
		if r.Root {
			flags = "r"
		}
		if s.saves.Add(1)%10 == 0 {
			flags += "s"
		}
		args := make([]any, 3, 3+r.fieldsCap()+2*len(r.Kwargs))
		args = r.appendFields(args)
		args[0], args[1], args[2] = ttlArg, (len(args)-3)/2, flags
		args, err := appendKwargs(args, r.Kwargs)
		if err != nil {
			return err
		}
		calls = append(calls, scriptCall{keys: s.recordKeys(r.ID), args: args})
		if r.Kind == KindSwarm {
			items := []any{ttl}
			for i, it := range r.Items {
				items = append(items, strconv.Itoa(i), encodeItemRef(it))
			}
			calls = append(calls, scriptCall{script: saveSwarmItemsCmd, keys: []string{s.SwarmItemsKey(r.ID)}, args: items})
		}
	}
	if _, err := s.pipelineScripts(ctx, saveCmd, calls, nil); err != nil {
		return opError(fmt.Sprintf("save %d signatures", len(recs)), err)
	}
	return nil
}

// Get reads one signature with its kwargs in one round trip.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	m, err := s.GetMany(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if r := m[id]; r != nil {
		return r, nil
	}
	return nil, &NotFoundError{ID: id}
}

// GetMany reads signatures in one pipelined round trip. Missing ids are absent from
// the result.
func (s *Store) GetMany(ctx context.Context, ids []string) (map[string]*Record, error) {
	if len(ids) == 0 {
		return map[string]*Record{}, nil
	}
	type pair struct{ h, kw *redis.MapStringStringCmd }
	cmds := make([]pair, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = pair{p.HGetAll(ctx, s.SignatureKey(id)), p.HGetAll(ctx, s.KwargsKey(id))}
		}
		return nil
	})
	if err != nil {
		return nil, opError("read signatures", err)
	}
	out := make(map[string]*Record, len(ids))
	for i, id := range ids {
		r, err := parseRecord(id, cmds[i].h.Val(), cmds[i].kw.Val())
		if err != nil {
			if _, missing := err.(*NotFoundError); missing {
				continue
			}
			return nil, err
		}
		out[id] = r
	}
	return out, nil
}

// updateKwargsCmd sets top-level kwargs of a pending signature atomically; each field
// is replaced whole, other fields are untouched, so concurrent updaters of different
// keys lose nothing. The kwargs hash gets the record's remaining TTL. The JSON size of
// the resulting kwargs object is 2 + the sum over fields of (#name + 3 + #value) + the
// commas between them (exact for names that need no escaping).
//
// KEYS[1] record hash, KEYS[2] kwargs hash.
// ARGV[1] size limit in bytes (0: none), then field/value pairs, values JSON-encoded.
// Returns {code, ...}, code one of:
//
//	"ok", n          n fields written
//	"missing"        no record
//	"status", s, r   the signature is not pending: its status s and owner run r
//	"size", n        the result would be n bytes, over the limit; nothing written
var updateKwargsCmd = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
if st ~= 'pending' then
  return {'status', st or '', redis.call('HGET', KEYS[1], 'rid') or ''}
end
local limit = tonumber(ARGV[1])
if limit > 0 then
  local kw = {}
  local cur = redis.call('HGETALL', KEYS[2])
  for i = 1, #cur, 2 do kw[cur[i]] = cur[i + 1] end
  for i = 2, #ARGV, 2 do kw[ARGV[i]] = ARGV[i + 1] end
  local size, n = 2, 0
  for k, v in pairs(kw) do
    size = size + #k + 3 + #v
    n = n + 1
  end
  if n > 1 then size = size + n - 1 end
  if size > limit then return {'size', size} end
end
local pairs_ = {}
for i = 2, #ARGV do pairs_[#pairs_ + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], unpack(pairs_))
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return {'ok', (#ARGV - 1) / 2}
`)

// UpdateKwargs sets top-level kwargs of a pending signature atomically (MageFlow's
// kwargs.aupdate), in one round trip. Concurrent updates of different keys never lose
// each other. A signature that is not pending gives a [*NotPendingError]; kwargs whose
// JSON encoding would grow past maxBytes (0: no limit) give a [*SizeError]; a missing
// one a [*NotFoundError]. Nothing is written on error.
func (s *Store) UpdateKwargs(ctx context.Context, id string, kw map[string]any, maxBytes int) error {
	if len(kw) == 0 {
		return nil
	}
	fields, err := kwargsFields(kw)
	if err != nil {
		return err
	}
	args := append([]any{maxBytes}, fields...)
	res, err := s.eval(ctx, updateKwargsCmd, []string{s.SignatureKey(id), s.KwargsKey(id)}, args...).Slice()
	if err != nil {
		return opError(fmt.Sprintf("update kwargs of %q", id), err)
	}
	r := reply(res)
	switch r.code() {
	case "ok":
		return nil
	case "missing":
		return &NotFoundError{ID: id}
	case "status":
		return &NotPendingError{ID: id, Status: flowtype.Status(r.str(1)), RunID: r.str(2)}
	case "size":
		return &SizeError{ID: id, Size: int(r.int(1)), Limit: maxBytes}
	default:
		return fmt.Errorf("redisstore: update kwargs of %q: unexpected reply %v", id, res)
	}
}

// Delete removes a signature, its kwargs, a swarm's item hash and its index entries,
// in one script.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.DeleteMany(ctx, []string{id})
}

// DeleteMany removes signatures (their record, kwargs, a swarm's item hash and index
// entries) in one pipeline: one script per signature, each within its shard's slot.
func (s *Store) DeleteMany(ctx context.Context, ids []string) error {
	calls := make([]scriptCall, len(ids))
	for i, id := range ids {
		calls[i] = scriptCall{keys: s.withIndex(id, s.SignatureKey(id), s.KwargsKey(id), s.SwarmItemsKey(id))}
	}
	if _, err := s.pipelineScripts(ctx, deleteCmd, calls, nil); err != nil {
		return opError(fmt.Sprintf("delete %d signatures", len(ids)), err)
	}
	return nil
}

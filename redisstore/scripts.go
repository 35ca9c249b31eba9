package redisstore

import "github.com/redis/go-redis/v9"

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
if ttl < 0 then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  ttl = -ttl
end
local n = tonumber(ARGV[2])
local prev = redis.call('HGET', KEYS[1], 's')
local rec = {}
for i = 4, 3 + 2 * n do rec[#rec + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(rec))
redis.call('PEXPIRE', KEYS[1], ttl)
if #ARGV > 3 + 2 * n then
  local kw = {}
  for i = 4 + 2 * n, #ARGV do kw[#kw + 1] = ARGV[i] end
  redis.call('HSET', KEYS[2], unpack(kw))
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if prev then redis.call('ZREM', IX .. ':s:' .. prev, ixid()) end
ixadd(string.find(ARGV[3], 'r', 1, true) ~= nil)
if string.find(ARGV[3], 's', 1, true) then ixsweep(20) end
return 1
`)

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
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
local owner = redis.call('HGET', KEYS[1], 'rid')
local outcome = st
if st == 'pending' then
  redis.call('HSET', KEYS[1], 's', 'active', 'ls', 'pending', 'rid', ARGV[1], 'at', ARGV[3], 'nc', 1)
  if ARGV[4] and ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'in', ARGV[4]) end
  redis.call('HSETNX', KEYS[1], 'ta', ixnow())
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  ixstatus('pending', 'active')
  outcome = 'started'
elseif st == 'active' then
  local max = tonumber(ARGV[5] or '0')
  if owner == ARGV[1] and max > 0 and tonumber(redis.call('HGET', KEYS[1], 'nc') or '0') >= max then
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
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
local owner = redis.call('HGET', KEYS[1], 'rid')
local code = 'refused'
if st == 'active' and owner == ARGV[1] then
  redis.call('HSET', KEYS[1], 's', 'done', 'ls', 'active', 'res', ARGV[2], 'te', ixnow())
  if ARGV[4] and redis.call('HGET', KEYS[1], 'fi') == '1' then
    redis.call('HSET', KEYS[1], 'in', ARGV[4])
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  ixstatus('active', 'done')
  code = 'ok'
elseif st == 'done' and owner == ARGV[1] then
  code = 'repeat'
end
return {code, redis.call('HGETALL', KEYS[1])}
`)

// failCmd moves a signature to failed: from active for its owner run, or from
// pending (the run failed before it could start, e.g. a schedule timeout), and gives
// both keys the done TTL.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base.
// ARGV[1] run id, ARGV[2] error message, ARGV[3] done TTL in ms.
// Returns {code, record field/value list, kwargs field/value list}, code one of
// "ok", "repeat" (already failed by ARGV[1]), "refused", "missing" (no lists).
var failCmd = redis.NewScript(ixLua + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = redis.call('HGET', KEYS[1], 's')
local owner = redis.call('HGET', KEYS[1], 'rid')
local code = 'refused'
if (st == 'active' and owner == ARGV[1]) or st == 'pending' then
  redis.call('HSET', KEYS[1], 's', 'failed', 'ls', st, 'rid', ARGV[1], 'err', ARGV[2], 'te', ixnow())
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  ixstatus(st, 'failed')
  code = 'ok'
elseif st == 'failed' and owner == ARGV[1] then
  code = 'repeat'
end
return {code, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

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

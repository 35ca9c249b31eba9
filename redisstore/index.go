package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
)

// ixLua is shared by every script that creates, changes or removes a record. Its last
// key is the index base of the record's shard ("<prefix>:{sNN}:ix", see
// [Store.indexBase]); KEYS[1] is the record hash ("<prefix>:{sNN}:<id>"). A shard's
// indexes are sorted sets whose score is the record's creation time (unix ms) and
// whose member is its id:
//
//	<base>:all          every record of the shard
//	<base>:root         records saved as the top of a tree
//	<base>:s:<status>   records with that status
//	<base>:t:<task>     records of that task
//	<base>:exp          "<task>\x1f<id>" scored by when the record expires
//
// Each index key's TTL is kept at least as long as its longest-lived member's, and at
// most a minute longer (raised with a minute to spare, so a busy key is touched about
// once a minute), so an idle store leaves nothing behind. A save raises the keys it adds
// to; a transition or TTL change that raises a record's TTL raises its status key and,
// with ixraise, the all, task and roots keys that list it (a record started long after
// its save would otherwise drop out of the lists while it lives). ixsweep drops the entries of records that expired
// (every tenth save drops up to 20 in passing, every listing up to 100 before it reads), so no entry
// outlives its record by more than the next write or read of its shard.
//
// Scripts that know the record's creation score, task, TTL and the time (a save, which
// has just written them; a transition, which reads them with its status in one HMGET)
// pass them to ixadd and ixmove, so that an index entry costs its ZADD and the PTTL of
// its index key, nothing more; ixstatus and ixkeep read them from the record first.
var ixLua = statusLua() + `
local IX = KEYS[#KEYS]
local BASE = string.sub(IX, 1, #IX - 2)
local ID = string.sub(KEYS[1], #BASE + 1)
local function ixnow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ixput(k, score, member, ttl)
  redis.call('ZADD', k, score, member)
  local left = redis.call('PTTL', k)
  if left == -1 or left < ttl then redis.call('PEXPIRE', k, ttl + 60000) end
end
local function ixid() return ID end
local function ixexp(task, ttl, now)
  if ttl >= 0 then ixput(IX .. ':exp', now + ttl, task .. '\31' .. ID, ttl) end
end
local function ixraise(task, ttl)
  for _, k in ipairs({IX .. ':all', IX .. ':t:' .. task, IX .. ':root'}) do
    local left = redis.call('PTTL', k)
    if left >= 0 and left < ttl then redis.call('PEXPIRE', k, ttl + 60000) end
  end
end
local function ixkeep()
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then return end
  local task = redis.call('HGET', KEYS[1], 't') or ''
  ixexp(task, ttl, ixnow())
  ixraise(task, ttl)
end
local function ixstep(from, to, score, task, ttl, now)
  if from and from ~= to then redis.call('ZREM', IX .. ':s:' .. from, ID) end
  ixput(IX .. ':s:' .. to, score, ID, ttl)
  ixexp(task, ttl, now)
end
local function ixmove(from, to, score, task, ttl, now)
  ixstep(from, to, score, task, ttl, now)
  ixraise(task, ttl)
end
local function ixstatus(from, to)
  local ttl = redis.call('PTTL', KEYS[1])
  local h = redis.call('HMGET', KEYS[1], 'ca', 't')
  ixmove(from, to, h[1] or '0', h[2] or '', ttl, ixnow())
end
local function ixadd(root, from, to, score, task, ttl, now)
  ixput(IX .. ':all', score, ID, ttl)
  ixput(IX .. ':t:' .. task, score, ID, ttl)
  if root then ixput(IX .. ':root', score, ID, ttl) end
  ixstep(from, to, score, task, ttl, now)
end
local function ixdrop(id, task)
  redis.call('ZREM', IX .. ':all', id)
  redis.call('ZREM', IX .. ':root', id)
  redis.call('ZREM', IX .. ':t:' .. task, id)
  for _, s in ipairs(STATUSES) do redis.call('ZREM', IX .. ':s:' .. s, id) end
  redis.call('ZREM', IX .. ':exp', task .. '\31' .. id)
end
local function ixsweep(n)
  local now = ixnow()
  local old = redis.call('ZRANGEBYSCORE', IX .. ':exp', '-inf', now, 'LIMIT', 0, n)
  for _, m in ipairs(old) do
    local task, id = string.match(m, '^(.*)\31(.*)$')
    local left = redis.call('PTTL', BASE .. id)
    if left == -2 then
      ixdrop(id, task)
    else
      redis.call('ZADD', IX .. ':exp', now + math.max(left, 1000), m)
    end
  end
end
`

// deleteCmd removes a record, its kwargs and a swarm's item hash, and its index entries.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] item hash, KEYS[4] index base.
// Returns 1 when a record was removed, 0 when there was none.
var deleteCmd = redis.NewScript(ixLua + `
local task = redis.call('HGET', KEYS[1], 't')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
if not task then return 0 end
ixdrop(ixid(), task)
return 1
`)

// ttlCmd lowers ("lt") or raises ("gt") the TTL of a record and its kwargs, only ever in
// that direction, and moves its expiry entry along.
//
// KEYS[1] record hash, KEYS[2] kwargs hash, KEYS[3] index base. ARGV[1] TTL in ms,
// ARGV[2] "lt" or "gt". Returns 1 when the TTL changed, 0 otherwise (or no record).
var ttlCmd = redis.NewScript(ixLua + `
local left = redis.call('PTTL', KEYS[1])
if left == -2 then return 0 end
local ttl = tonumber(ARGV[1])
if (ARGV[2] == 'lt' and left >= 0 and left <= ttl) or (ARGV[2] == 'gt' and (left == -1 or left >= ttl)) then return 0 end
redis.call('PEXPIRE', KEYS[1], ttl)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ttl) end
ixkeep()
return 1
`)

// listCmd reads one shard's page of a listing: it first drops up to 100 expired
// entries, then walks the smallest of the given indexes newest first and keeps the
// members that every other given index holds too.
//
// KEYS[1..n] the indexes to intersect (at least one), KEYS[n+1] the index base.
// ARGV[1] highest score (a number, inclusive, or "(<number>" exclusive, or "+inf"),
// ARGV[2] lowest score ("-inf", or a number, inclusive), ARGV[3] a member to continue
// after: entries scored exactly ARGV[1] whose member is not below it are skipped (""
// for none), ARGV[4] how many matches to return, ARGV[5] how many entries to look at
// at most.
// Returns {exhausted, last score, last member, {id, root flag, score, ...}}: exhausted
// is 1 when the walk reached the end of the range (else the walk stopped at the last
// entry it looked at, and the shard has not been read below it).
var listCmd = redis.NewScript(ixLua + `
ixsweep(100)
local nk = #KEYS - 1
local best, bc = 1, -1
for i = 1, nk do
  local c = redis.call('ZCARD', KEYS[i])
  if bc < 0 or c < bc then best, bc = i, c end
end
local maxs, mins, after = ARGV[1], ARGV[2], ARGV[3]
local cur = tonumber(maxs)
local limit, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local out, nout, seen, off = {}, 0, 0, 0
local lastS, lastM, exhausted = '', '', 0
while nout < limit and seen < budget do
  local n = math.min(200, budget - seen)
  local b = redis.call('ZREVRANGEBYSCORE', KEYS[best], maxs, mins, 'WITHSCORES', 'LIMIT', off, n)
  off = off + #b / 2
  local k = -1
  for j = 1, #b, 2 do
    k = j
    local id, sc = b[j], b[j + 1]
    seen = seen + 1
    lastS, lastM = sc, id
    local ok = not (after ~= '' and tonumber(sc) == cur and id >= after)
    for i = 1, nk do
      if not ok then break end
      if i ~= best and not redis.call('ZSCORE', KEYS[i], id) then ok = false end
    end
    if ok then
      local root = 0
      if redis.call('ZSCORE', KEYS[nk + 1] .. ':root', id) then root = 1 end
      out[#out + 1] = id
      out[#out + 1] = root
      out[#out + 1] = sc
      nout = nout + 1
      if nout >= limit then break end
    end
  end
  if #b < 2 * n and k >= #b - 1 then
    exhausted = 1
    break
  end
end
return {exhausted, lastS, lastM, out}
`)

// containerCmd moves a chain's own record along as its steps run, so that listings and
// status indexes show chains as they are: pending→active when a step starts or ends,
// →done when its last step is done, →failed or →cancelled when a step ends so,
// pending or active→suspended when it is suspended and back ("resume"). It never
// moves a chain that ended, except "reopen": failed or cancelled→active when a step
// of it is retried. It ignores records that are not chains.
//
// KEYS[1] chain record, KEYS[2] index base. ARGV[1] the status to move to (active,
// done, failed, cancelled, suspended), "resume" (back to the status before the
// suspend) or "reopen" (failed or cancelled→active). Returns 1 when it moved, else 0.
var containerCmd = redis.NewScript(ixLua + `
if redis.call('HGET', KEYS[1], 'k') ~= 'chain' then return 0 end
local st = redis.call('HGET', KEYS[1], 's')
local to = ARGV[1]
if to == 'reopen' then
  if st ~= 'failed' and st ~= 'cancelled' then return 0 end
  redis.call('HDEL', KEYS[1], 'te', 'err')
  redis.call('HSET', KEYS[1], 's', 'active', 'ls', st)
  ixstatus(st, 'active')
  return 1
end
if st == to or ended(st) then return 0 end
if to == 'resume' then
  if st ~= 'suspended' then return 0 end
  to = redis.call('HGET', KEYS[1], 'ls') or 'pending'
elseif to == 'suspended' then
  if st ~= 'pending' and st ~= 'active' then return 0 end
elseif to == 'active' then
  if st ~= 'pending' then return 0 end
  redis.call('HSETNX', KEYS[1], 'ta', ixnow())
else
  redis.call('HSET', KEYS[1], 'te', ixnow())
end
redis.call('HSET', KEYS[1], 's', to, 'ls', st)
ixstatus(st, to)
return 1
`)

// ContainerUpdate moves one chain's record to Status (see containerCmd;
// [ContainerResume] moves a suspended one back).
type ContainerUpdate struct {
	ID     string
	Status flowtype.Status
}

// ContainerResume is the ContainerUpdate status that resumes a suspended chain record.
const ContainerResume flowtype.Status = "resume"

// ContainerReopen is the ContainerUpdate status that moves a failed or cancelled chain
// record back to active: a step of it is retried.
const ContainerReopen flowtype.Status = "reopen"

func (s *Store) containerCalls(ups []ContainerUpdate) []scriptCall {
	calls := make([]scriptCall, 0, len(ups))
	for _, u := range ups {
		calls = append(calls, scriptCall{script: containerCmd, keys: s.withIndex(u.ID, s.SignatureKey(u.ID)), args: []any{string(u.Status)}})
	}
	return calls
}

// UpdateContainers moves chains' records along (see containerCmd) in one pipeline.
func (s *Store) UpdateContainers(ctx context.Context, ups []ContainerUpdate) error {
	if _, err := s.pipelineScripts(ctx, containerCmd, s.containerCalls(ups), nil); err != nil {
		return opError(fmt.Sprintf("update %d chains", len(ups)), err)
	}
	return nil
}

// statusLua defines the Lua twins of package flowtype for every script that includes
// ixLua: STATUSES (flowtype.Statuses) and ended(st) (flowtype.Status.Ended), generated
// from the Go definitions so the two cannot drift.
func statusLua() string {
	quote := func(ss []flowtype.Status) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = "'" + string(s) + "'"
		}
		return out
	}
	var b strings.Builder
	fmt.Fprintf(&b, "local STATUSES = {%s}\n", strings.Join(quote(flowtype.Statuses()), ", "))
	b.WriteString("local ENDED = {")
	for _, s := range quote(flowtype.EndedStatuses()) {
		fmt.Fprintf(&b, "[%s] = true, ", s)
	}
	b.WriteString("}\nlocal function ended(st) return ENDED[st] == true end\n")
	return b.String()
}

package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The engine-settled set lists the signatures whose runs no hatchetflow step settles
// (a plain Hatchet task, another language's): the reconciler settles them from the
// engine's verdict. Its members are signature ids, scored by when their run was
// dispatched (Unix ms); its oldest score bounds how far back the reconciler asks the
// engine, and an empty set costs the reconciler no engine call at all.

// engineSettledKey is the key of the engine-settled set: "<prefix>:{settle}:engine".
func (s *Store) engineSettledKey() string { return s.prefix + ":{settle}:engine" }

// watchCmd adds members to the engine-settled set, keeping the score of a member
// already in it, drops the members older than the TTL (their records have expired),
// and sets the set's TTL to the active TTL.
//
// KEYS[1] the engine-settled set.
// ARGV[1] the score (Unix ms), ARGV[2] the TTL in ms, ARGV[3..] the signature ids.
// Returns the number of ids added.
var watchCmd = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(ARGV[1]) - tonumber(ARGV[2])))
local n = 0
for i = 3, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n
`)

// WatchEngineSettled adds ids, whose runs were dispatched at at, to the
// engine-settled set, in one round trip.
func (s *Store) WatchEngineSettled(ctx context.Context, at time.Time, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 2+len(ids))
	args = append(args, at.UnixMilli(), ms(s.activeTTL))
	for _, id := range ids {
		args = append(args, id)
	}
	if err := s.eval(ctx, watchCmd, []string{s.engineSettledKey()}, args...).Err(); err != nil {
		return opError(fmt.Sprintf("watch %d engine-settled signatures", len(ids)), err)
	}
	return nil
}

// OldestEngineSettled returns when the oldest run in the engine-settled set was
// dispatched; ok is false when the set is empty. One round trip.
func (s *Store) OldestEngineSettled(ctx context.Context) (oldest time.Time, ok bool, err error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.engineSettledKey(), 0, 0).Result()
	if err != nil {
		return time.Time{}, false, opError("read the engine-settled set", err)
	}
	if len(zs) == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(int64(zs[0].Score)), true, nil
}

// UnwatchEngineSettled removes ids from the engine-settled set, in one round trip.
func (s *Store) UnwatchEngineSettled(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, len(ids))
	for i, id := range ids {
		members[i] = id
	}
	if err := s.rdb.ZRem(ctx, s.engineSettledKey(), members...).Err(); err != nil {
		return opError(fmt.Sprintf("unwatch %d engine-settled signatures", len(ids)), err)
	}
	return nil
}

// EngineSettledAmong reports which of ids are in the engine-settled set (their runs
// were dispatched and the reconciler has not settled them yet), in one round trip.
func (s *Store) EngineSettledAmong(ctx context.Context, ids ...string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	scores, err := s.rdb.ZMScore(ctx, s.engineSettledKey(), ids...).Result()
	if err != nil {
		return nil, opError(fmt.Sprintf("read %d engine-settled signatures", len(ids)), err)
	}
	for i, sc := range scores {
		if sc != 0 {
			out[ids[i]] = true
		}
	}
	return out, nil
}

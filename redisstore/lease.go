package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// leaseKey is the key of lease name: "<prefix>:{lease}:<name>".
func (s *Store) leaseKey(name string) string { return s.prefix + ":{lease}:" + name }

// leaseCmd takes or keeps a lease: it is granted when nobody holds it or the caller
// already does, and its TTL is (re)set.
//
// KEYS[1] the lease key.
// ARGV[1] the holder's token, ARGV[2] the TTL in ms.
// Returns 1 when the caller holds the lease, 0 when another holder does.
var leaseCmd = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// HoldLease takes or keeps lease name for token for ttl, in one round trip, and
// reports whether token holds it. One holder at a time per store prefix: the others
// get false until the holder stops renewing and ttl passes.
func (s *Store) HoldLease(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	n, err := s.eval(ctx, leaseCmd, []string{s.leaseKey(name)}, token, ms(ttl)).Int()
	if err != nil {
		return false, opError(fmt.Sprintf("lease %q", name), err)
	}
	return n == 1, nil
}

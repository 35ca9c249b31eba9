package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Layout is the version of the Redis layout this package reads and writes: the keys,
// hash fields and encodings that docs/design.md ("Redis key schema") describes. A
// release that changes the layout in a way an earlier release cannot read raises it;
// fields a release adds that an earlier one may ignore (it reads the record as before)
// do not. CHANGELOG.md names the layout of each release.
//
// Layout 1 is the sharded layout (keys under {sNN} hash tags), the first one released.
const Layout = 1

// ErrLayoutTooNew is matched by a [*LayoutError] for a Redis written by a release with a
// newer layout than this one reads.
var ErrLayoutTooNew = errors.New("redisstore: the Redis holds a newer layout than this release reads")

// LayoutError reports the layout a Redis holds when this release cannot work on it.
type LayoutError struct {
	// Found is the layout the Redis holds; Supported the one this release reads.
	Found, Supported int
}

func (e *LayoutError) Error() string {
	return fmt.Sprintf("redisstore: the Redis under this prefix holds layout %d, this release reads layout %d: upgrade every worker and producer first", e.Found, e.Supported)
}

// Is reports ErrLayoutTooNew.
func (e *LayoutError) Is(target error) bool {
	return target == ErrLayoutTooNew && e.Found > e.Supported
}

// layoutKey is the key that names the prefix's layout.
func (s *Store) layoutKey() string { return s.prefix + ":{registry}:layout" }

// layoutTTL is how long the layout key lives after the last worker start refreshed
// it: far longer than any signature (so it outlives every record it describes), and
// still a TTL, as every key has.
const layoutTTL = 30 * 24 * time.Hour

// layoutCmd records the layout when none is recorded, refreshes the key's TTL and
// returns the recorded layout.
//
// KEYS[1] layout key. ARGV[1] this release's layout, ARGV[2] the key's TTL in ms.
// Returns the layout the key holds after the call (a number).
var layoutCmd = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return tonumber(redis.call('GET', KEYS[1]))
`)

// CheckLayout records [Layout] as the prefix's layout when none is recorded yet
// (refreshing the key's TTL, 30 days or the active TTL if longer), and returns a [*LayoutError] when the Redis holds a newer one, in one round trip. An
// older recorded layout (none exists before layout 1) is left as it is: this release
// reads what earlier ones wrote.
func (s *Store) CheckLayout(ctx context.Context) (int, error) {
	found, err := s.eval(ctx, layoutCmd, []string{s.layoutKey()}, Layout, max(ms(layoutTTL), ms(s.activeTTL))).Int()
	if err != nil {
		return 0, opError("check the layout", err)
	}
	if found > Layout {
		return found, &LayoutError{Found: found, Supported: Layout}
	}
	return found, nil
}

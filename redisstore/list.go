package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/flowtype"
)

// ListQuery selects records for [Store.List]. Filters combine (AND).
type ListQuery struct {
	// Status and Task keep records with that status or task ("": any). RootsOnly
	// keeps tops of trees.
	Status    flowtype.Status
	Task      string
	RootsOnly bool
	// Since (inclusive) and Until (exclusive) bound the creation time; zero is open.
	Since, Until time.Time
	// Limit is the page size (> 0).
	Limit int
	// After continues a listing: a [ListPage.Next].
	After string
}

// ListPage is one page of [Store.List].
type ListPage struct {
	// Records are the matching records, newest first.
	Records []*Record
	// Roots says which of them are tops of trees.
	Roots map[string]bool
	// Next is the cursor of the next page, "" on the last.
	Next string
}

// listBudget is how many index entries one shard looks at per page, at most: a
// filter pair that matches rarely returns a short page with a cursor rather than
// walking a whole index.
func listBudget(limit int) int { return max(1000, 10*limit) }

// cursorError is returned for a malformed [ListQuery.After].
type cursorError struct{ Cursor string }

func (e *cursorError) Error() string {
	return fmt.Sprintf("redisstore: malformed list cursor %q", e.Cursor)
}

// cursor is a position in a listing: entries below (score, id) in (score desc, id desc)
// order come after it.
type cursor struct {
	score int64
	id    string
}

func (c cursor) String() string { return strconv.FormatInt(c.score, 10) + "." + c.id }

// ParseCursor checks a listing cursor ([ListPage.Next]).
func ParseCursor(s string) error {
	_, err := parseCursor(s)
	return err
}

func parseCursor(s string) (cursor, error) {
	sc, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sc, 10, 64)
	if !ok || err != nil || id == "" {
		return cursor{}, &cursorError{Cursor: s}
	}
	return cursor{score: n, id: id}, nil
}

// less orders listing positions: a before b when a is newer.
func (c cursor) before(o cursor) bool {
	if c.score != o.score {
		return c.score > o.score
	}
	return c.id > o.id
}

// KnownStatus reports whether s is one of the statuses a record can have.
func KnownStatus(s flowtype.Status) bool {
	return slices.Contains(flowtype.Statuses(), s)
}

type shardPage struct {
	exhausted bool
	stop      cursor
	hits      []cursor
	roots     map[string]bool
}

// List reads one page of records matching q, newest first, from the indexes: one
// pipelined round trip runs the list script on every shard (one per node on Redis
// Cluster), one more reads the page's records. It never scans the keyspace: each
// shard walks the smallest index the filters name and checks the others by member.
func (s *Store) List(ctx context.Context, q ListQuery) (*ListPage, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("redisstore: list limit %d must be positive", q.Limit)
	}
	maxs, mins, after := "+inf", "-inf", ""
	if !q.Until.IsZero() {
		maxs = "(" + strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	if !q.Since.IsZero() {
		mins = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	if q.After != "" {
		c, err := parseCursor(q.After)
		if err != nil {
			return nil, err
		}
		if q.Until.IsZero() || c.score < q.Until.UnixMilli() {
			maxs, after = strconv.FormatInt(c.score, 10), c.id
		}
	}
	var suffixes []string
	if q.Status != "" {
		suffixes = append(suffixes, ":s:"+string(q.Status))
	}
	if q.Task != "" {
		suffixes = append(suffixes, ":t:"+q.Task)
	}
	if q.RootsOnly {
		suffixes = append(suffixes, ":root")
	}
	if len(suffixes) == 0 {
		suffixes = append(suffixes, ":all")
	}
	calls := make([]scriptCall, IndexShards)
	for n := range IndexShards {
		base := s.indexBase(n)
		keys := make([]string, 0, len(suffixes)+1)
		for _, sfx := range suffixes {
			keys = append(keys, base+sfx)
		}
		calls[n] = scriptCall{keys: append(keys, base), args: []any{maxs, mins, after, q.Limit, listBudget(q.Limit)}}
	}
	cmds, err := s.readScripts(ctx, listCmd, calls, nil) // read-only: never waits for replicas
	if err != nil {
		return nil, opError("list signatures", err)
	}
	pages := make([]shardPage, 0, len(cmds))
	for _, c := range cmds {
		sp, err := parseShardPage(c)
		if err != nil {
			return nil, err
		}
		pages = append(pages, sp)
	}
	hits, roots, next := mergePages(pages, q.Limit)
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	recs, err := s.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := &ListPage{Roots: roots, Records: make([]*Record, 0, len(ids))}
	for _, id := range ids {
		if r := recs[id]; r != nil { // gone between the two reads: expired or deleted
			out.Records = append(out.Records, r)
		}
	}
	if next != nil {
		out.Next = next.String()
	}
	return out, nil
}

func parseShardPage(c *redis.Cmd) (shardPage, error) {
	res, err := c.Slice()
	if err != nil || len(res) != 4 {
		return shardPage{}, fmt.Errorf("redisstore: list: unexpected reply %v: %w", res, err)
	}
	r := reply(res)
	sp := shardPage{exhausted: r.int(0) == 1, roots: map[string]bool{}}
	if !sp.exhausted {
		sc := r.str(1)
		n, err := strconv.ParseInt(sc, 10, 64)
		if err != nil {
			return shardPage{}, fmt.Errorf("redisstore: list: bad score %q", sc)
		}
		sp.stop = cursor{score: n, id: r.str(2)}
	}
	hits := r.list(3)
	for i := 0; i+2 < len(hits); i += 3 {
		id, sc := hits.str(i), hits.str(i+2)
		n, err := strconv.ParseInt(sc, 10, 64)
		if err != nil {
			return shardPage{}, fmt.Errorf("redisstore: list: bad score %q", sc)
		}
		sp.hits = append(sp.hits, cursor{score: n, id: id})
		sp.roots[id] = hits.int(i+1) == 1
	}
	return sp, nil
}

// mergePages merges the shards' pages: a shard that stopped early has not been read
// below its stop, so only hits at or above the highest such stop are certain; next is
// nil when the listing is complete.
func mergePages(pages []shardPage, limit int) ([]cursor, map[string]bool, *cursor) {
	var bound *cursor
	var hits []cursor
	roots := map[string]bool{}
	for i := range pages {
		p := &pages[i]
		if !p.exhausted && (bound == nil || p.stop.before(*bound)) {
			bound = &p.stop
		}
		hits = append(hits, p.hits...)
		for id, r := range p.roots {
			roots[id] = r
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].before(hits[j]) })
	keep := hits[:0]
	for _, h := range hits {
		if bound == nil || !bound.before(h) {
			keep = append(keep, h)
		}
	}
	more := bound != nil || len(keep) > limit
	if len(keep) > limit {
		keep = keep[:limit]
	}
	var next *cursor
	switch {
	case !more:
	case len(keep) == limit:
		next = &keep[limit-1]
	default:
		next = bound
	}
	return keep, roots, next
}

// Tasks reads the task registry, sorted by name, and how many stored records each
// task has (summed over the shards' task indexes): two round trips.
func (s *Store) Tasks(ctx context.Context) ([]TaskDef, map[string]int64, error) {
	all, err := s.rdb.HGetAll(ctx, s.RegistryKey()).Result()
	if err != nil {
		return nil, nil, opError("read task registry", err)
	}
	defs := make([]TaskDef, 0, len(all))
	for name, v := range all {
		var d TaskDef
		if err := json.Unmarshal([]byte(v), &d); err != nil {
			return nil, nil, fmt.Errorf("redisstore: task %q: bad registry entry: %w", name, err)
		}
		defs = append(defs, d)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	cards := make([][]*redis.IntCmd, len(defs))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, d := range defs {
			for n := range IndexShards {
				cards[i] = append(cards[i], p.ZCard(ctx, s.indexBase(n)+":t:"+d.Name))
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, opError("count signatures per task", err)
	}
	counts := make(map[string]int64, len(defs))
	for i, d := range defs {
		for _, c := range cards[i] {
			counts[d.Name] += c.Val()
		}
	}
	return defs, counts, nil
}

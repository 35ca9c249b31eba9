package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

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
	for _, r := range recs {
		f, err := r.fields()
		if err != nil {
			return fmt.Errorf("redisstore: encode signature %q: %w", r.ID, err)
		}
		kw, err := kwargsFields(r.Kwargs)
		if err != nil {
			return err
		}
		flags := ""
		if r.Root {
			flags = "r"
		}
		if s.saves.Add(1)%10 == 0 {
			flags += "s"
		}
		args := make([]any, 0, 3+len(f)+len(kw))
		args = append(args, ttl, len(f)/2, flags)
		args = append(append(args, f...), kw...)
		calls = append(calls, scriptCall{keys: s.withIndex(r.ID, s.SignatureKey(r.ID), s.KwargsKey(r.ID)), args: args})
		if r.Kind == KindSwarm {
			items := []any{ttl}
			for i, it := range r.Items {
				items = append(items, strconv.Itoa(i), encodeItemRef(it))
			}
			calls = append(calls, scriptCall{script: saveSwarmItemsCmd, keys: []string{s.SwarmItemsKey(r.ID)}, args: items})
		}
	}
	if err := s.pipelineScripts(ctx, saveCmd, calls, nil); err != nil {
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
	res, err := updateKwargsCmd.Run(ctx, s.rdb, []string{s.SignatureKey(id), s.KwargsKey(id)}, args...).Slice()
	if err != nil {
		return opError(fmt.Sprintf("update kwargs of %q", id), err)
	}
	switch code, _ := res[0].(string); code {
	case "ok":
		return nil
	case "missing":
		return &NotFoundError{ID: id}
	case "status":
		st, _ := res[1].(string)
		owner, _ := res[2].(string)
		return &NotPendingError{ID: id, Status: Status(st), RunID: owner}
	case "size":
		n, _ := res[1].(int64)
		return &SizeError{ID: id, Size: int(n), Limit: maxBytes}
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
	if err := s.pipelineScripts(ctx, deleteCmd, calls, nil); err != nil {
		return opError(fmt.Sprintf("delete %d signatures", len(ids)), err)
	}
	return nil
}

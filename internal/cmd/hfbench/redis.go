package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/hatchetflow/go/dsl"
	"github.com/hatchetflow/go/flowtype"
	"github.com/hatchetflow/go/hatchetflow"
	"github.com/hatchetflow/go/internal/rtcount"
	"github.com/hatchetflow/go/redisstore"
)

// redisResult holds the round trips per operation and the memory of a signature.
type redisResult struct {
	// save maps callbacks per tree → round trips of a steady-state Save on the
	// worker's client (tasks registered locally).
	save map[int]int64
	// producerSave is the same for a producer client that has no local tasks and
	// reads the registry: cold is its first Save, warm the steady state.
	producerCold, producerWarm map[int]int64
	start, finish              int64
	// sigBytes and kwBytes are MEMORY USAGE of the record hash and the kwargs hash of
	// a saved signature with 3 kwargs and 2 callbacks; doneBytes is the record hash
	// once it finished (result and one dispatch marker added).
	sigBytes, kwBytes, doneBytes int64
	// sigEncoding and kwEncoding are OBJECT ENCODING of the two hashes; fields lists
	// the record hash's fields with their value lengths.
	sigEncoding, kwEncoding string
	fields                  []string
}

var saveSizes = []int{0, 2, 10}

// typicalKwargs are the 3 kwargs of a typical signature.
var typicalKwargs = dsl.KW{"priority": "high", "region": "eu-west-1", "max_attempts": 3}

// tree returns the parent with typical kwargs and n callbacks (alternately success
// and error callbacks, the success ones first).
func (b *bench) tree(n int) dsl.Builder {
	t := dsl.Sign(b.parent).With(typicalKwargs)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			t = t.OnSuccess(dsl.Sign(b.callback))
		} else {
			t = t.OnError(dsl.Sign(b.onError).With(dsl.KW{"priority": "low"}))
		}
	}
	return t
}

func measureRedis(ctx context.Context, b *bench, rdb *redis.Client, c *rtcount.Counter, prefix string) (*redisResult, error) {
	res := &redisResult{save: map[int]int64{}, producerCold: map[int]int64{}, producerWarm: map[int]int64{}}
	count := func(fn func() error) (int64, error) {
		c.Reset()
		err := fn()
		return c.Reset(), err
	}
	saveOn := func(flow *hatchetflow.Client, n int) (dsl.Saved, int64, error) {
		var s dsl.Saved
		rt, err := count(func() (err error) {
			s, err = b.tree(n).Save(ctx, flow)
			return err
		})
		return s, rt, err
	}

	// Save on the worker's client: one warm-up, then the steady state.
	for _, n := range saveSizes {
		if _, _, err := saveOn(b.flow, n); err != nil {
			return nil, fmt.Errorf("save warm-up: %w", err)
		}
		_, rt, err := saveOn(b.flow, n)
		if err != nil {
			return nil, fmt.Errorf("save: %w", err)
		}
		res.save[n] = rt
	}
	// A producer client: no local tasks, so it reads the registry once (then caches).
	for _, n := range saveSizes {
		producer, err := hatchetflow.New(b.hc, rdb, hatchetflow.WithKeyPrefix(prefix))
		if err != nil {
			return nil, err
		}
		if _, res.producerCold[n], err = saveOn(producer, n); err != nil {
			return nil, fmt.Errorf("producer save: %w", err)
		}
		if _, res.producerWarm[n], err = saveOn(producer, n); err != nil {
			return nil, fmt.Errorf("producer save: %w", err)
		}
	}

	store := b.store
	// Start and finish: one warm-up pass loads the Lua scripts (EVALSHA then hits).
	var err error
	for pass := 0; pass < 2; pass++ {
		sig, _, err := saveOn(b.flow, 2) // one success and one error callback
		if err != nil {
			return nil, err
		}
		runID := fmt.Sprintf("bench-run-%d", pass)
		var rec *redisstore.Record
		start, err := count(func() (err error) {
			_, rec, err = store.Start(ctx, sig.ID, runID, 1)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("start: %w", err)
		}
		result, _ := json.Marshal(Out{Seq: 1, Total: 42})
		// What the main step does after the user function returns: Finish, dispatch
		// (no Redis), MarkDispatched with the markers and the dead branch — the same
		// arguments hatchetflow's fire builds.
		finish, err := count(func() error {
			tr, err := store.Finish(ctx, sig.ID, runID, result, nil)
			if err != nil {
				return err
			}
			runs := map[string]string{}
			for _, cb := range tr.Record.OnSuccess {
				runs[cb.ID] = "bench-callback-run-" + cb.ID
			}
			var dead []string
			for _, cb := range tr.Record.OnError {
				dead = append(dead, cb.ID)
			}
			return store.MarkDispatched(ctx, sig.ID, flowtype.OutcomeSuccess, runs, nil, dead, nil)
		})
		if err != nil {
			return nil, fmt.Errorf("finish: %w", err)
		}
		_ = rec
		res.start, res.finish = start, finish
		if pass == 1 {
			if res.doneBytes, err = rdb.MemoryUsage(ctx, store.SignatureKey(sig.ID), 0).Result(); err != nil {
				return nil, fmt.Errorf("memory usage: %w", err)
			}
		}
	}

	// Memory of a typical saved signature: 3 kwargs, 2 callbacks (one success, one
	// error), as saved (pending).
	sig, _, err := saveOn(b.flow, 2)
	if err != nil {
		return nil, err
	}
	// Measure under the default prefix "hf" (what users get; key names count): rename
	// the two keys (the id is a fresh UUIDv7, so nothing else has it) and delete them
	// afterwards.
	def := redisstore.New(rdb)
	sigKey, kwKey := def.SignatureKey(sig.ID), def.KwargsKey(sig.ID)
	if err := rdb.Rename(ctx, store.SignatureKey(sig.ID), sigKey).Err(); err != nil {
		return nil, err
	}
	defer rdb.Del(context.WithoutCancel(ctx), sigKey, kwKey)
	if err := rdb.Rename(ctx, store.KwargsKey(sig.ID), kwKey).Err(); err != nil {
		return nil, err
	}
	if res.sigBytes, err = rdb.MemoryUsage(ctx, sigKey, 0).Result(); err != nil {
		return nil, fmt.Errorf("memory usage: %w", err)
	}
	if res.kwBytes, err = rdb.MemoryUsage(ctx, kwKey, 0).Result(); err != nil {
		return nil, fmt.Errorf("memory usage: %w", err)
	}
	res.sigEncoding = rdb.ObjectEncoding(ctx, sigKey).Val()
	res.kwEncoding = rdb.ObjectEncoding(ctx, kwKey).Val()
	h := rdb.HGetAll(ctx, sigKey).Val()
	for _, k := range slices.Sorted(maps.Keys(h)) {
		res.fields = append(res.fields, fmt.Sprintf("%s=%dB", k, len(h[k])))
	}
	c.Reset()
	return res, nil
}

func (r *redisResult) maxSave() int64 {
	var m int64
	for _, v := range r.save {
		m = max(m, v)
	}
	return m
}

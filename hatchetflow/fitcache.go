package hatchetflow

import (
	"encoding/json"
	"sync"

	"github.com/hatchetflow/go/inject"
)

// fitCache memoizes what checkFit asks of inject (Properties, Fits, Kinds) per schema
// document. Save checks every callback against its parent, and parsing the same
// registered tasks' schemas again on every Save was most of that check's cost (about
// 20 µs a run). The documents are the tasks' registered schemas, so the cache stays as
// small as the set of tasks. A nil *fitCache asks inject directly. Callers must not
// modify the maps and slices it returns.
type fitCache struct {
	mu    sync.RWMutex
	props map[string]fitProps
	fits  map[string]map[string]fitResult
	kinds map[string]string
}

type fitProps struct {
	props    map[string]json.RawMessage
	required []string
	ok       bool
}

type fitResult struct {
	m  inject.Mismatch
	ok bool
}

// Properties is inject.Properties, memoized.
func (c *fitCache) Properties(schema json.RawMessage) (map[string]json.RawMessage, []string, bool) {
	if c == nil {
		return inject.Properties(schema)
	}
	c.mu.RLock()
	p, hit := c.props[string(schema)]
	c.mu.RUnlock()
	if !hit {
		p.props, p.required, p.ok = inject.Properties(schema)
		c.mu.Lock()
		if c.props == nil {
			c.props = map[string]fitProps{}
		}
		c.props[string(schema)] = p
		c.mu.Unlock()
	}
	return p.props, p.required, p.ok
}

// Fits is inject.Fits, memoized.
func (c *fitCache) Fits(from, to json.RawMessage) (inject.Mismatch, bool) {
	if c == nil {
		return inject.Fits(from, to)
	}
	c.mu.RLock()
	r, hit := c.fits[string(from)][string(to)]
	c.mu.RUnlock()
	if !hit {
		r.m, r.ok = inject.Fits(from, to)
		c.mu.Lock()
		if c.fits == nil {
			c.fits = map[string]map[string]fitResult{}
		}
		byTo := c.fits[string(from)]
		if byTo == nil {
			byTo = map[string]fitResult{}
			c.fits[string(from)] = byTo
		}
		byTo[string(to)] = r
		c.mu.Unlock()
	}
	return r.m, r.ok
}

// Kinds is inject.Kinds, memoized.
func (c *fitCache) Kinds(schema json.RawMessage) string {
	if c == nil {
		return inject.Kinds(schema)
	}
	c.mu.RLock()
	k, hit := c.kinds[string(schema)]
	c.mu.RUnlock()
	if !hit {
		k = inject.Kinds(schema)
		c.mu.Lock()
		if c.kinds == nil {
			c.kinds = map[string]string{}
		}
		c.kinds[string(schema)] = k
		c.mu.Unlock()
	}
	return k
}

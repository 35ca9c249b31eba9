package inject

import (
	"encoding/json"
	"maps"
	"reflect"
)

// copyObject deep-copies m into a new, non-nil map.
func copyObject(m map[string]any) map[string]any {
	var c copier
	return c.object(m)
}

// DeepCopy returns a deep copy of a JSON-like value: maps and slices are
// copied recursively (keeping their Go types, and keeping nil ones nil);
// scalars and other values, such as structs and pointers, are returned as
// is. A map or slice that contains itself is shared, not copied, where the
// cycle closes.
func DeepCopy(v any) any {
	var c copier
	return c.copy(v)
}

// cycleCheckDepth is the nesting depth after which copier starts tracking
// the maps and slices on its path, as encoding/json does, to stop at cycles.
const cycleCheckDepth = 1000

// copier deep-copies one value.
type copier struct {
	depth  int
	onPath map[[2]uintptr]bool // maps and slices being copied, past cycleCheckDepth
}

// enter reports whether the container rv may be copied (it is not already
// being copied further up), and marks it.
func (c *copier) enter(rv reflect.Value) bool {
	c.depth++
	if c.depth <= cycleCheckDepth {
		return true
	}
	key := [2]uintptr{uintptr(rv.UnsafePointer()), uintptr(rv.Len())}
	if c.onPath[key] {
		c.depth--
		return false
	}
	if c.onPath == nil {
		c.onPath = map[[2]uintptr]bool{}
	}
	c.onPath[key] = true
	return true
}

func (c *copier) leave(rv reflect.Value) {
	if c.depth > cycleCheckDepth {
		delete(c.onPath, [2]uintptr{uintptr(rv.UnsafePointer()), uintptr(rv.Len())})
	}
	c.depth--
}

func (c *copier) object(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	if m == nil {
		return out
	}
	rv := reflect.ValueOf(m)
	if !c.enter(rv) {
		maps.Copy(out, m)
		return out
	}
	defer c.leave(rv)
	for k, v := range m {
		out[k] = c.copy(v)
	}
	return out
}

func (c *copier) copy(v any) any {
	switch x := v.(type) {
	case nil, bool, string, float64, float32, int, int64, int32, uint, uint64, json.Number:
		return v
	case map[string]any:
		if x == nil {
			return x
		}
		return c.object(x)
	case []any:
		if x == nil {
			return x
		}
		rv := reflect.ValueOf(x)
		if !c.enter(rv) {
			return v
		}
		defer c.leave(rv)
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = c.copy(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.IsNil() || !c.enter(rv) {
			return v
		}
		defer c.leave(rv)
		out := reflect.MakeMapWithSize(rv.Type(), rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), c.value(it.Value()))
		}
		return out.Interface()
	case reflect.Slice:
		if rv.IsNil() {
			return v
		}
		out := reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
		if k := rv.Type().Elem().Kind(); k != reflect.Interface && k != reflect.Map && k != reflect.Slice {
			reflect.Copy(out, rv)
			return out.Interface()
		}
		if !c.enter(rv) {
			return v
		}
		defer c.leave(rv)
		for i := range rv.Len() {
			out.Index(i).Set(c.value(rv.Index(i)))
		}
		return out.Interface()
	}
	return v
}

// value deep-copies an element held in a map or slice, keeping its static
// type.
func (c *copier) value(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return reflect.Zero(v.Type())
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(reflect.ValueOf(c.copy(v.Elem().Interface())))
		return out
	}
	if !v.CanInterface() {
		return v
	}
	return reflect.ValueOf(c.copy(v.Interface()))
}

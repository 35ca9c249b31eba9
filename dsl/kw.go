package dsl

// KW holds keyword arguments bound to a signature: the fields of the task's input
// message. Values must be JSON-encodable.
type KW map[string]any

// clone returns a deep copy of kw; nested maps and slices are copied too, so later
// changes to the caller's values never reach a builder.
func (kw KW) clone() KW {
	if kw == nil {
		return nil
	}
	out := make(KW, len(kw))
	for k, v := range kw {
		out[k] = deepCopy(v)
	}
	return out
}

// deepCopy copies the JSON-like containers in v: maps with string keys and slices of
// any. Other values are returned as they are.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case KW:
		return map[string]any(t.clone())
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// mergeKW returns base with every top-level key of overlay set; overlay wins. Neither
// input is modified.
func mergeKW(base, overlay KW) KW {
	out := make(KW, len(base)+len(overlay))
	for k, v := range base {
		out[k] = v // base is already a private copy owned by an immutable builder
	}
	for k, v := range overlay {
		out[k] = deepCopy(v)
	}
	return out
}

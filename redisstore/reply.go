package redisstore

// reply decodes a Lua script's reply, or a command reply that go-redis hands over as
// []any (HMGET). Redis converts a script's Lua values as follows: a string becomes a
// string, a number an int64 (truncated), a table a nested []any (up to its first
// nil), and nil or false a nil element (Redis nil).
//
// Its accessors never panic: an index past the end, or an element of another type
// than asked for, gives the zero value, so a reply shorter than documented decodes to
// zero values. Scripts whose replies start with a code ("ok", "missing", ...) read it
// with [reply.code]; their other elements with the typed accessors, by position.
type reply []any

// at returns element i, or nil past the end.
func (r reply) at(i int) any {
	if i >= 0 && i < len(r) {
		return r[i]
	}
	return nil
}

// has reports whether element i exists and is not nil (Lua nil or false, or a field
// HMGET did not find).
func (r reply) has(i int) bool { return r.at(i) != nil }

// code returns element 0 as a string: the outcome code of a script that replies
// {code, ...}; "" for an empty reply.
func (r reply) code() string { return r.str(0) }

// str returns element i as a string, "" when it is absent or not a string.
func (r reply) str(i int) string {
	s, _ := r.at(i).(string)
	return s
}

// int returns element i as an integer (a Lua number), 0 when it is absent or not
// an integer.
func (r reply) int(i int) int64 {
	n, _ := r.at(i).(int64)
	return n
}

// list returns element i as a nested reply (a Lua table), nil when it is absent or
// not a table.
func (r reply) list(i int) reply {
	l, _ := r.at(i).([]any)
	return l
}

// fields returns element i, a flat field/value list {k1, v1, k2, v2, ...} such as
// HGETALL returns inside a script, as a map; an absent element gives an empty map.
// A trailing field without a value is ignored; a non-string field or value reads as "".
func (r reply) fields(i int) map[string]string {
	l := r.list(i)
	m := make(map[string]string, len(l)/2)
	for j := 0; j+1 < len(l); j += 2 {
		m[l.str(j)] = l.str(j + 1)
	}
	return m
}

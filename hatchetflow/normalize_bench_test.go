package hatchetflow

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/hatchetflow/go/dsl"
)

// roundTrip is what normalize stands for: encode, decode.
func roundTrip(m map[string]any) map[string]any {
	raw, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out map[string]any
	if json.Unmarshal(raw, &out) != nil {
		return m
	}
	return out
}

// normalize's direct copy gives what the JSON round trip gives, for every kind of
// value it copies and for those it leaves to the round trip.
func TestNormalizeIsTheJSONRoundTrip(t *testing.T) {
	type named string
	cases := []map[string]any{
		nil,
		{},
		{"s": "x", "b": true, "n": nil, "f": 1.5, "i": 3, "neg": math.Copysign(0, -1), "big": 1e300, "tiny": 1e-7},
		{"html": "<a href=\"x\">&amp;</a>", "ctl": "a\x00b\n\t\u2028", "utf8": "é字🙂"},
		{"nested": map[string]any{"l": []any{1, "2", []any{}, map[string]any{}, nil}, "m": map[string]any(nil), "sl": []any(nil)}},
		{"ints": []any{int8(-8), int16(16), int32(-32), int64(math.MaxInt64), uint(7), uint8(8), uint16(16), uint32(32), uint64(math.MaxUint64)}},
		{"exact": int64(1<<53 + 1), "k<&>": "v", "": ""},
		// left to the round trip:
		{"f32": float32(0.1)},
		{"badutf8": "a\xffb"},
		{"bad\xffkey": 1},
		{"kw": dsl.KW{"a": 1}},
		{"named": named("x")},
		{"strs": []string{"a"}},
		{"bytes": []byte("hi")},
		{"num": json.Number("12")},
		{"raw": json.RawMessage(`{"a":[1,2]}`)},
		{"struct": struct {
			A int `json:"a"`
		}{1}},
		{"nan": math.NaN()},
		{"inf": map[string]any{"x": math.Inf(1)}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		cases = append(cases, randomObject(r, 3))
	}
	for i, m := range cases {
		want, got := roundTrip(m), normalize(m)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: normalize(%#v)\n= %#v\nwant %#v", i, m, got, want)
		}
	}
	// A copy: changing the result leaves the argument alone.
	in := map[string]any{"m": map[string]any{"a": 1.0}, "l": []any{1.0}}
	out := normalize(in)
	out["m"].(map[string]any)["a"] = 2.0
	out["l"].([]any)[0] = 2.0
	if in["m"].(map[string]any)["a"] != 1.0 || in["l"].([]any)[0] != 1.0 {
		t.Fatal("normalize shares maps or slices with its argument")
	}
}

func randomObject(r *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for i := r.IntN(5); i > 0; i-- {
		m[randomString(r)] = randomValue(r, depth)
	}
	return m
}

func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(10); {
	case k == 0 && depth > 0:
		return randomObject(r, depth-1)
	case k == 1 && depth > 0:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomValue(r, depth-1)
		}
		return l
	case k == 2:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	case k == 3:
		return r.Int64() >> r.IntN(64)
	case k == 4:
		return r.IntN(2) == 0
	case k == 5:
		return nil
	case k == 6:
		return uint64(r.Uint64())
	default:
		return randomString(r)
	}
}

func randomString(r *rand.Rand) string {
	const chars = "ab<>&\"\\/\x00\n é字🙂\u2028"
	rs := []rune(chars)
	b := make([]rune, r.IntN(6))
	for i := range b {
		b[i] = rs[r.IntN(len(rs))]
	}
	return string(b)
}

// BenchmarkNormalize normalizes a run's message with three kwargs merged in: the
// direct copy normalize makes, and the JSON round trip it stands for.
func BenchmarkNormalize(b *testing.B) {
	m := map[string]any{"order_id": "ord-1", "priority": "high", "region": "eu-west-1", "max_attempts": 3}
	for _, f := range []struct {
		name string
		fn   func(map[string]any) map[string]any
	}{{"copy", normalize}, {"roundtrip", roundTrip}} {
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.fn(m)
			}
		})
	}
}

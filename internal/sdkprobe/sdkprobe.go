// Package sdkprobe reads what Hatchet SDK options set. The SDK's options are functions
// over unexported config structs, so hatchetflow cannot otherwise tell that an option
// it passes through would change a value it also sets (and keeps for itself). A probe
// applies the options to a fresh config of the SDK's own type and reads the fields
// back through reflection; it never writes an unexported field. If the SDK's layout
// changes, a probe reports nothing found rather than failing.
package sdkprobe

import (
	"reflect"
	"time"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"
)

// TaskSettings is what a list of hatchet.TaskOption sets of the values hatchetflow
// also keeps. A nil field was not set by the options.
type TaskSettings struct {
	Retries          *int
	ExecutionTimeout *time.Duration
	ScheduleTimeout  *time.Duration
}

// Task applies opts to a probe config and reports the settings they made.
func Task(opts []hatchet.TaskOption) TaskSettings {
	var out TaskSettings
	if len(opts) == 0 {
		return out
	}
	// Sentinels that no caller passes: a field still holding one was not set.
	const sentinel = -987654321
	cfg, ok := probe(append([]hatchet.TaskOption{
		hatchet.WithRetries(sentinel),
		hatchet.WithExecutionTimeout(sentinel),
		hatchet.WithScheduleTimeout(sentinel),
	}, opts...))
	if !ok {
		return out
	}
	if v, ok := intField(cfg, "retries"); ok && v != sentinel {
		n := int(v)
		out.Retries = &n
	}
	if v, ok := intField(cfg, "executionTimeout"); ok && v != sentinel {
		d := time.Duration(v)
		out.ExecutionTimeout = &d
	}
	if v, ok := intField(cfg, "scheduleTimeout"); ok && v != sentinel {
		d := time.Duration(v)
		out.ScheduleTimeout = &d
	}
	return out
}

// WorkerSetsWorkflows reports whether opts hold a hatchet.WithWorkflows option (which
// replaces the worker's whole workflow list).
func WorkerSetsWorkflows(opts []hatchet.WorkerOption) bool {
	for _, o := range opts {
		cfg, ok := probe([]hatchet.WorkerOption{o})
		if !ok {
			continue
		}
		if f := cfg.FieldByName("workflows"); f.IsValid() && f.Kind() == reflect.Slice && f.Len() > 0 {
			return true
		}
	}
	return false
}

// probe calls each option (a func(*config)) on one new config and returns the config
// struct value. ok is false when the options are not of that shape or one panics.
func probe[O any](opts []O) (cfg reflect.Value, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	var ptr reflect.Value
	for _, o := range opts {
		fn := reflect.ValueOf(o)
		if fn.Kind() != reflect.Func || fn.IsNil() || fn.Type().NumIn() != 1 || fn.Type().In(0).Kind() != reflect.Pointer ||
			fn.Type().In(0).Elem().Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		if !ptr.IsValid() {
			ptr = reflect.New(fn.Type().In(0).Elem())
		}
		fn.Call([]reflect.Value{ptr})
	}
	if !ptr.IsValid() {
		return reflect.Value{}, false
	}
	return ptr.Elem(), true
}

func intField(cfg reflect.Value, name string) (int64, bool) {
	f := cfg.FieldByName(name)
	if !f.IsValid() {
		return 0, false
	}
	switch f.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return f.Int(), true
	}
	return 0, false
}

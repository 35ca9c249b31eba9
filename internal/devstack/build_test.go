package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hatchetflow/go/internal/devstack/devstacktest"
)

func TestCacheKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.stack()
	key, err := s.EngineCacheKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if key.HatchetVersion != "v0.105.0" || key.GoVersion != "go1.26.10" || len(key.SourceHash) != 12 {
		t.Fatalf("key = %+v", key)
	}
	if !strings.HasPrefix(key.String(), "v0.105.0-go1.26.10-") {
		t.Errorf("key string %q", key)
	}
	same, err := s.EngineCacheKey(ctx)
	if err != nil || same != key {
		t.Fatalf("key not stable: %v then %v (%v)", key, same, err)
	}
	tools := filepath.Join(f.root, "tools", "hatchet")
	changed := func(what string, change func()) {
		t.Helper()
		before, err := s.EngineCacheKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		change()
		after, err := s.EngineCacheKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after == before {
			t.Errorf("%s: cache key unchanged (%s)", what, after)
		}
	}
	changed("edit of cmd/hfengine/main.go", func() {
		writeTestFile(t, filepath.Join(tools, "cmd", "hfengine", "main.go"), "package main\n\nfunc main() { println() }\n")
	})
	changed("new file cmd/hfengine/serve.go", func() {
		writeTestFile(t, filepath.Join(tools, "cmd", "hfengine", "serve.go"), "package main\n")
	})
	changed("go.sum", func() {
		writeTestFile(t, filepath.Join(tools, "go.sum"), "github.com/hatchet-dev/hatchet v0.105.0 h1:def=\n")
	})
	changed("Hatchet version in go.mod", func() {
		writeTestFile(t, filepath.Join(tools, "go.mod"), "module x\n\nrequire github.com/hatchet-dev/hatchet v0.106.0\n")
	})
	changed("Go release", func() { t.Setenv("FAKE_GOVERSION", "go1.27.0") })

	before, _ := s.EngineCacheKey(ctx)
	writeTestFile(t, filepath.Join(tools, "cmd", "hfengine", "main_test.go"), "package main\n")
	if after, _ := s.EngineCacheKey(ctx); after != before {
		t.Errorf("a _test.go file changed the key: %s -> %s", before, after)
	}
}

func TestHatchetVersionParsing(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]string{
		"module x\nrequire (\n\tgithub.com/hatchet-dev/hatchet v0.105.0 // indirect\n)\n": "v0.105.0",
		"module x\nrequire github.com/hatchet-dev/hatchet v1.2.3\n":                       "v1.2.3",
	} {
		p := filepath.Join(dir, "go.mod")
		writeTestFile(t, p, content)
		if got, err := hatchetVersion(p); err != nil || got != want {
			t.Errorf("hatchetVersion(%q) = %q, %v; want %q", content, got, err, want)
		}
	}
	p := filepath.Join(dir, "go.mod")
	writeTestFile(t, p, "module x\nrequire github.com/hatchet-dev/hatchet-extra v1.0.0\n")
	if _, err := hatchetVersion(p); err == nil {
		t.Error("no Hatchet requirement but no error")
	}
}

func TestEnsureEngineBuildsCachesAndReuses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	builds := func() int { return len(devstacktest.Calls(f.fakes, "go")) }
	bin := filepath.Join(f.state, "bin", "hfengine")

	if err := f.stack().EnsureEngine(ctx); err != nil {
		t.Fatalf("first build: %v\n%s", err, f.out)
	}
	if builds() != 1 {
		t.Fatalf("go build calls = %d, want 1", builds())
	}
	call := devstacktest.Calls(f.fakes, "go")[0]
	if !strings.Contains(call, "build in "+filepath.Join(f.root, "tools", "hatchet")+": -ldflags -s -w -o "+bin+".tmp.") ||
		!strings.HasSuffix(call, "./cmd/hfengine") {
		t.Errorf("go build call = %q; want a temporary -o in .state/bin, in tools/hatchet", call)
	}
	key, _ := f.stack().EngineCacheKey(ctx)
	cached := filepath.Join(f.cache, key.String(), "hfengine")
	if !isExecutable(bin) || !isExecutable(cached) {
		t.Fatalf("after the build: %s and %s should be executables", bin, cached)
	}
	if got := readTrim(bin + ".key"); got != key.String() {
		t.Errorf("hfengine.key = %q, want %q", got, key)
	}
	leftovers, _ := filepath.Glob(filepath.Join(f.state, "bin", "*.tmp.*"))
	if more, _ := filepath.Glob(filepath.Join(f.cache, "*", "*.tmp.*")); len(leftovers)+len(more) > 0 {
		t.Errorf("temporary files left: %v %v", leftovers, more)
	}

	// Up to date: nothing happens.
	if err := f.stack().EnsureEngine(ctx); err != nil || builds() != 1 {
		t.Fatalf("second EnsureEngine: builds %d, %v", builds(), err)
	}

	// A fresh state dir (a new clone) copies from the cache, no build.
	if err := os.RemoveAll(filepath.Join(f.state, "bin")); err != nil {
		t.Fatal(err)
	}
	if err := f.stack().EnsureEngine(ctx); err != nil {
		t.Fatal(err)
	}
	if builds() != 1 || !isExecutable(bin) || !strings.Contains(f.out.String(), "copy hfengine from cache") {
		t.Fatalf("fresh state dir: builds %d (want 1, copied from the cache)\n%s", builds(), f.out)
	}

	// Our own source changes: rebuilt, into a new cache folder.
	writeTestFile(t, filepath.Join(f.root, "tools", "hatchet", "cmd", "hfengine", "main.go"), "package main\n// changed\nfunc main() {}\n")
	if err := f.stack().EnsureEngine(ctx); err != nil {
		t.Fatal(err)
	}
	if builds() != 2 {
		t.Fatalf("after a source change: builds %d, want 2", builds())
	}
	if !strings.Contains(f.out.String(), "replacing it") {
		t.Errorf("no message about replacing the stale binary:\n%s", f.out)
	}
	dirs, _ := os.ReadDir(f.cache)
	if len(dirs) != 2 {
		t.Errorf("cache folders = %d, want 2 (one per key)", len(dirs))
	}
}

func TestEnsureEngineCacheOffAndBuildFailure(t *testing.T) {
	f := newFixture(t)
	f.cfg.BinCache = "off"
	ctx := context.Background()
	if err := f.stack().EnsureEngine(ctx); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(f.cache); len(entries) != 0 {
		t.Errorf("HATCHETFLOW_BIN_CACHE=off but the cache has %d entries", len(entries))
	}
	if _, err := os.Stat(filepath.Join(f.root, "off")); err == nil {
		t.Error("a folder named off was made")
	}

	g := newFixture(t)
	writeTestFile(t, filepath.Join(g.fakes, "go.fail"), "")
	err := g.stack().EnsureEngine(ctx)
	if err == nil {
		t.Fatal("a failed go build is not an error")
	}
	if _, err := os.Stat(filepath.Join(g.state, "bin", "hfengine")); err == nil {
		t.Error("a failed build left .state/bin/hfengine")
	}
	if !strings.Contains(g.out.String(), "FAILED (exit 1)") {
		t.Errorf("no FAILED progress line:\n%s", g.out)
	}
}

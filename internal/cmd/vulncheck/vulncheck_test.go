package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPseudoVersionTime(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want string // RFC 3339, or "" for an error
	}{
		{"v0.0.0-20261105234957-e22db6528018", "2026-11-05T23:49:57Z"},
		{"v1.2.4-0.20240102030405-abcdefabcdef", "2024-01-02T03:04:05Z"},
		{"v1.2.3-pre.0.20240102030405-abcdefabcdef", "2024-01-02T03:04:05Z"},
		{"v1.9.0", ""},
		{"v0.0.0-2026110523-e22db6528018", ""},
		{"v0.0.0-20261305234957-e22db6528018", ""}, // month 13
	} {
		got, err := pseudoVersionTime(tc.v)
		if tc.want == "" {
			if err == nil {
				t.Errorf("pseudoVersionTime(%q) = %v, want an error", tc.v, got)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != tc.want {
			t.Errorf("pseudoVersionTime(%q) = %v, %v; want %s", tc.v, got, err, tc.want)
		}
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	entryA = `{"id":"GO-2026-0002","modified":"0001-01-01T00:00:00Z","affected":[
		{"package":{"name":"example.com/b","ecosystem":"Go"}},
		{"package":{"name":"stdlib","ecosystem":"Go"}},
		{"package":{"name":"example.com/b","ecosystem":"Go"}}]}`
	entryB = `{"id":"GO-2026-0001","modified":"2027-01-02T03:04:05Z","affected":[
		{"package":{"name":"example.com/b","ecosystem":"Go"}}]}`
)

func TestBuildDB(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "db")
	writeFile(t, filepath.Join(src, "GO-2026-0002.json"), entryA)
	writeFile(t, filepath.Join(src, "GO-2026-0001.json"), entryB)
	writeFile(t, filepath.Join(src, "README.md"), "not an entry")
	modified := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	n, err := buildDB(src, out, modified)
	if err != nil || n != 2 {
		t.Fatalf("buildDB = %d, %v; want 2 entries", n, err)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(out, p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var mods []moduleMeta
	if err := json.Unmarshal(read("index/modules.json"), &mods); err != nil {
		t.Fatal(err)
	}
	later := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	want := []moduleMeta{
		{Path: "example.com/b", Vulns: []moduleVuln{{ID: "GO-2026-0001", Modified: later}, {ID: "GO-2026-0002", Modified: modified}}},
		{Path: "stdlib", Vulns: []moduleVuln{{ID: "GO-2026-0002", Modified: modified}}},
	}
	if d := cmp.Diff(want, mods); d != "" {
		t.Errorf("index/modules.json (-want +got):\n%s", d)
	}
	var db struct{ Modified time.Time }
	if err := json.Unmarshal(read("index/db.json"), &db); err != nil || !db.Modified.Equal(later) {
		t.Errorf("index/db.json modified = %v, %v; want the latest entry's, %v", db.Modified, err, later)
	}
	if got := string(read("ID/GO-2026-0002.json")); got != entryA {
		t.Errorf("ID/GO-2026-0002.json is not the entry unchanged: %s", got)
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "README.md")); err == nil {
		t.Error("a file that is no entry was copied")
	}
}

func TestBuildDBRejects(t *testing.T) {
	empty := t.TempDir()
	if _, err := buildDB(empty, t.TempDir(), time.Now()); err == nil {
		t.Error("buildDB of a directory without entries succeeded")
	}
	bad := t.TempDir()
	writeFile(t, filepath.Join(bad, "GO-2026-9999.json"), entryA) // id GO-2026-0002
	if _, err := buildDB(bad, t.TempDir(), time.Now()); err == nil || !strings.Contains(err.Error(), "file name") {
		t.Errorf("entry under another ID's file name: err = %v", err)
	}
	broken := t.TempDir()
	writeFile(t, filepath.Join(broken, "GO-2026-0001.json"), `{"id":`)
	if _, err := buildDB(broken, t.TempDir(), time.Now()); err == nil {
		t.Error("buildDB of a truncated entry succeeded")
	}
}

// stream is govulncheck -format json output: GO-2026-0001 at module level in x/net
// and at symbol level in stdlib, GO-2026-0002 at package level (twice) only,
// GO-2026-0003 at module level.
const stream = `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck"}}
{"progress":{"message":"Scanning your code"}}
{"osv":{"id":"GO-2026-0001","modified":"0001-01-01T00:00:00Z"}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v0.60.0","trace":[{"module":"golang.org/x/net","version":"v0.57.0"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.1.0","trace":[{"module":"example.com/a","version":"v1.0.0","package":"example.com/a/p"}]}}
{
  "finding": {
    "osv": "GO-2026-0001",
    "fixed_version": "v1.26.9",
    "trace": [
      {"module": "stdlib", "version": "v1.26.8", "package": "net/http", "function": "Get"},
      {"module": "example.com/us", "package": "example.com/us", "function": "main"}
    ]
  }
}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v1.1.0","trace":[{"module":"example.com/a","version":"v1.0.0","package":"example.com/a/q"}]}}
{"finding":{"osv":"GO-2026-0003","trace":[{"module":"example.com/c","version":"v2.0.0"}]}}
`

func TestReadFindings(t *testing.T) {
	got, err := readFindings(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	want := []finding{
		{ID: "GO-2026-0001", Level: levelSymbol, Modules: []foundIn{
			{"golang.org/x/net", "v0.57.0", "v0.60.0"}, {"stdlib", "v1.26.8", "v1.26.9"}}},
		{ID: "GO-2026-0002", Level: levelPackage, Modules: []foundIn{{"example.com/a", "v1.0.0", "v1.1.0"}}},
		{ID: "GO-2026-0003", Level: levelModule, Modules: []foundIn{{"example.com/c", "v2.0.0", ""}}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if _, err := readFindings(strings.NewReader(`{"finding":`)); err == nil {
		t.Error("truncated output read without an error")
	}
}

func TestReadAccepted(t *testing.T) {
	p := filepath.Join(t.TempDir(), "accepted.txt")
	writeFile(t, p, "# comment\n\nGO-2026-0001 stdlib   needs go1.26.9\nGO-2026-0001 golang.org/x/net not served\n")
	got, err := readAccepted(p)
	if err != nil {
		t.Fatal(err)
	}
	want := accepted{"GO-2026-0001": {"stdlib": "needs go1.26.9", "golang.org/x/net": "not served"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("accepted (-want +got):\n%s", d)
	}
	for _, bad := range []string{
		"GO-2026-0001 stdlib\n",                          // no reason
		"GO-2026-0001 stdlib a\nGO-2026-0001 stdlib b\n", // twice
	} {
		writeFile(t, p, bad)
		if _, err := readAccepted(p); err == nil {
			t.Errorf("readAccepted(%q) succeeded", bad)
		}
	}
}

func TestReport(t *testing.T) {
	found, err := readFindings(strings.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	all := accepted{
		"GO-2026-0001": {"stdlib": "toolchain", "golang.org/x/net": "x"},
		"GO-2026-0002": {"example.com/a": "y"},
		"GO-2026-0003": {"example.com/c": "z"},
		"GO-2026-0009": {"example.com/gone": "fixed long ago"},
	}
	var out bytes.Buffer
	if err := report(&out, found, all); err != nil {
		t.Fatalf("all accepted: %v\n%s", err, out.String())
	}
	for _, s := range []string{
		"symbol  GO-2026-0001\n        golang.org/x/net@v0.57.0 (fixed in v0.60.0)  accepted: x\n",
		"module  GO-2026-0003\n        example.com/c@v2.0.0 (fixed in none)  accepted: z\n",
		"no longer found (remove it from the list): GO-2026-0009 example.com/gone\n",
		"govulncheck: 1 called (symbol), 1 imported (package), 1 required (module); 3 in all, 0 not accepted\n",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}

	// Accepting an advisory for the standard library does not accept it for x/net.
	delete(all["GO-2026-0001"], "golang.org/x/net")
	delete(all, "GO-2026-0003")
	out.Reset()
	err = report(&out, found, all)
	if err == nil || !strings.Contains(err.Error(), "GO-2026-0001 GO-2026-0003 (") {
		t.Fatalf("err = %v, want GO-2026-0001 and GO-2026-0003 not accepted", err)
	}
	if !strings.Contains(out.String(), "golang.org/x/net@v0.57.0 (fixed in v0.60.0)  NOT ACCEPTED\n") ||
		!strings.Contains(out.String(), "3 in all, 2 not accepted\n") {
		t.Errorf("report:\n%s", out.String())
	}
}

func TestRunCheck(t *testing.T) {
	dir := t.TempDir()
	acc := filepath.Join(dir, "accepted.txt")
	writeFile(t, acc, "GO-2026-0001 stdlib a\nGO-2026-0001 golang.org/x/net b\nGO-2026-0002 example.com/a c\n")
	var out bytes.Buffer
	err := run([]string{"check", "-accept", acc}, strings.NewReader(stream), &out)
	if err == nil || !strings.Contains(err.Error(), "GO-2026-0003") || strings.Contains(err.Error(), "GO-2026-0002") {
		t.Fatalf("err = %v, want only GO-2026-0003 not accepted", err)
	}
	in := filepath.Join(dir, "out.json")
	writeFile(t, in, strings.Split(stream, "\n{\"finding\":{\"osv\":\"GO-2026-0003\"")[0])
	if err := run([]string{"check", "-accept", acc, "-in", in}, strings.NewReader(""), &out); err != nil {
		t.Fatalf("without GO-2026-0003: %v", err)
	}
	for _, args := range [][]string{nil, {"nope"}, {"check"}, {"db", "-src", dir}} {
		if err := run(args, strings.NewReader(""), &out); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

func TestRunDB(t *testing.T) {
	src, out := t.TempDir(), filepath.Join(t.TempDir(), "db")
	writeFile(t, filepath.Join(src, "GO-2026-0001.json"), entryB)
	var w bytes.Buffer
	if err := run([]string{"db", "-src", src, "-out", out, "-version", "v0.0.0-20261105234957-e22db6528018"}, nil, &w); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(w.String(), "1 entries") {
		t.Errorf("output %q", w.String())
	}
	if err := run([]string{"db", "-src", src, "-out", out, "-version", "v1.0.0"}, nil, &w); err == nil {
		t.Error("a version that is no pseudo-version was taken")
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// osvEntry is the part of an OSV entry the index needs.
type osvEntry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Affected []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

// moduleVuln and moduleMeta are the records of index/modules.json. The optional
// "fixed" field is left out: govulncheck then reads every entry of a module it needs
// and matches the version against the entry's ranges itself.
type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

// pseudoVersionTime returns the commit time in a pseudo-version such as
// v0.0.0-20261105234957-e22db6528018.
func pseudoVersionTime(v string) (time.Time, error) {
	parts := strings.Split(v, "-")
	if len(parts) < 3 {
		return time.Time{}, fmt.Errorf("version %q is not a pseudo-version", v)
	}
	stamp := parts[len(parts)-2]
	if i := strings.LastIndexByte(stamp, '.'); i >= 0 { // vX.Y.Z-pre.0.yyyymmddhhmmss-hash
		stamp = stamp[i+1:]
	}
	t, err := time.Parse("20060102150405", stamp)
	if err != nil || len(stamp) != 14 {
		return time.Time{}, fmt.Errorf("version %q is not a pseudo-version", v)
	}
	return t.UTC(), nil
}

// buildDB writes the v1 database for the OSV entries in src into out and returns how
// many entries it holds. Entries whose modification time is zero are indexed with
// modified instead; the entries themselves are copied unchanged.
func buildDB(src, out string, modified time.Time) (int, error) {
	files, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no OSV entries (*.json) in %s", src)
	}
	for _, d := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(out, d), 0o755); err != nil {
			return 0, err
		}
	}
	modules := map[string]*moduleMeta{}
	latest := modified
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, err
		}
		var e osvEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		if e.ID == "" || filepath.Base(f) != e.ID+".json" {
			return 0, fmt.Errorf("%s: entry id %q does not match the file name", f, e.ID)
		}
		if e.Modified.IsZero() {
			e.Modified = modified
		}
		if e.Modified.After(latest) {
			latest = e.Modified
		}
		seen := map[string]bool{}
		for _, a := range e.Affected {
			p := a.Package.Name
			if p == "" || seen[p] {
				continue
			}
			seen[p] = true
			m := modules[p]
			if m == nil {
				m = &moduleMeta{Path: p}
				modules[p] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified})
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b, 0o644); err != nil {
			return 0, err
		}
	}
	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(out, "index", "modules.json"), list); err != nil {
		return 0, err
	}
	db := struct {
		Modified time.Time `json:"modified"`
	}{latest}
	if err := writeJSON(filepath.Join(out, "index", "db.json"), db); err != nil {
		return 0, err
	}
	return len(files), nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

// Levels at which govulncheck finds an advisory, most precise last.
const (
	levelModule  = "module"  // a required module has it
	levelPackage = "package" // an imported package has it
	levelSymbol  = "symbol"  // our code calls it
)

var levelRank = map[string]int{levelModule: 0, levelPackage: 1, levelSymbol: 2}

// finding is one advisory in govulncheck's output, at the most precise level it was
// found at, with every module it was found in.
type finding struct {
	ID      string
	Level   string
	Modules []foundIn
}

// foundIn is a module an advisory was found in: its version and the version that
// fixes it ("" when there is none).
type foundIn struct {
	Module, Version, Fixed string
}

func (m foundIn) String() string {
	fixed := m.Fixed
	if fixed == "" {
		fixed = "none"
	}
	return fmt.Sprintf("%s@%s (fixed in %s)", m.Module, m.Version, fixed)
}

// message is the part of a govulncheck -format json message that check reads.
type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

// readFindings reads govulncheck's JSON stream and returns its advisories sorted by ID.
func readFindings(r io.Reader) ([]finding, error) {
	byID := map[string]*finding{}
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("govulncheck output: %w", err)
		}
		if m.Finding == nil || m.Finding.OSV == "" || len(m.Finding.Trace) == 0 {
			continue
		}
		top := m.Finding.Trace[0]
		level := levelModule
		switch {
		case top.Function != "":
			level = levelSymbol
		case top.Package != "":
			level = levelPackage
		}
		in := foundIn{Module: top.Module, Version: top.Version, Fixed: m.Finding.FixedVersion}
		f := byID[m.Finding.OSV]
		if f == nil {
			f = &finding{ID: m.Finding.OSV, Level: level}
			byID[f.ID] = f
		}
		if levelRank[level] > levelRank[f.Level] {
			f.Level = level
		}
		if !slices.Contains(f.Modules, in) {
			f.Modules = append(f.Modules, in)
		}
	}
	out := make([]finding, 0, len(byID))
	for _, f := range byID {
		sort.Slice(f.Modules, func(i, j int) bool { return f.Modules[i].Module < f.Modules[j].Module })
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// accepted holds the accepted advisories: the reason for each advisory ID and module.
type accepted map[string]map[string]string

// readAccepted reads the accepted advisories: "ID MODULE reason" a line (MODULE is a
// module path, or stdlib for the standard library), blank lines and lines starting
// with # skipped. Every line needs a reason.
func readAccepted(path string) (accepted, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := accepted{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want \"ID MODULE reason\", got %q", path, n, line)
		}
		id, mod := fields[0], fields[1]
		if out[id] == nil {
			out[id] = map[string]string{}
		}
		if _, dup := out[id][mod]; dup {
			return nil, fmt.Errorf("%s:%d: %s %s is listed twice", path, n, id, mod)
		}
		out[id][mod] = strings.Join(fields[2:], " ")
	}
	return out, sc.Err()
}

// report prints the findings and their counts per level, and returns an error
// naming the findings that are not accepted. A finding is accepted when its ID is
// accepted for every module it was found in.
func report(w io.Writer, found []finding, acc accepted) error {
	counts := map[string]int{}
	var unaccepted []string
	seen := map[string]bool{}
	for _, level := range []string{levelSymbol, levelPackage, levelModule} {
		for _, f := range found {
			if f.Level != level {
				continue
			}
			counts[level]++
			fmt.Fprintf(w, "%-7s %s\n", level, f.ID)
			ok := true
			for _, m := range f.Modules {
				seen[f.ID+" "+m.Module] = true
				verdict := "NOT ACCEPTED"
				if reason, found := acc[f.ID][m.Module]; found {
					verdict = "accepted: " + reason
				} else {
					ok = false
				}
				fmt.Fprintf(w, "        %s  %s\n", m, verdict)
			}
			if !ok {
				unaccepted = append(unaccepted, f.ID)
			}
		}
	}
	var stale []string
	for id, mods := range acc {
		for mod := range mods {
			if !seen[id+" "+mod] {
				stale = append(stale, id+" "+mod)
			}
		}
	}
	sort.Strings(stale)
	for _, s := range stale {
		fmt.Fprintf(w, "accepted but no longer found (remove it from the list): %s\n", s)
	}
	fmt.Fprintf(w, "govulncheck: %d called (symbol), %d imported (package), %d required (module); %d in all, %d not accepted\n",
		counts[levelSymbol], counts[levelPackage], counts[levelModule], len(found), len(unaccepted))
	if len(unaccepted) > 0 {
		sort.Strings(unaccepted)
		return fmt.Errorf("advisories not accepted: %s (raise the module, or add \"ID MODULE reason\" to the accepted list)",
			strings.Join(unaccepted, " "))
	}
	return nil
}

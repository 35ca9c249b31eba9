package devstack

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// requires returns the module versions a go.mod requires (direct and indirect).
func requires(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	inBlock := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "require (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inBlock:
			continue
		}
		if fields := strings.Fields(line); len(fields) == 2 {
			out[fields[0]] = fields[1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestToolsModuleSharesVersions: every module that tools/hatchet (the engine program)
// and hatchetflow's own module both require is at one version in both, so a cold
// machine compiles the packages they share once (docs/stack.md, step 1).
func TestToolsModuleSharesVersions(t *testing.T) {
	root := filepath.Join("..", "..")
	main := requires(t, filepath.Join(root, "go.mod"))
	tools := requires(t, filepath.Join(root, "tools", "hatchet", "go.mod"))
	if len(main) == 0 || len(tools) == 0 {
		t.Fatalf("no requirements read: %d in go.mod, %d in tools/hatchet/go.mod", len(main), len(tools))
	}
	shared := 0
	for mod, v := range main {
		tv, ok := tools[mod]
		if !ok {
			continue
		}
		shared++
		if tv != v {
			t.Errorf("%s: %s in go.mod, %s in tools/hatchet/go.mod (cd tools/hatchet && go get %s@%s && go mod tidy)", mod, v, tv, mod, v)
		}
	}
	if shared < 10 {
		t.Errorf("only %d modules shared: the go.mod parsing is off", shared)
	}
}

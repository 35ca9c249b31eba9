package redisstore

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Every hash field a Lua script of this package names literally is one of the field
// constants the Go side reads and writes (record.go, swarm.go): the names have one
// definition, and a script cannot drift from it unnoticed.
func TestScriptFieldsAreDefinedOnce(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]string{} // value -> constant
	var scripts []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if i < len(n.Values) && (strings.HasPrefix(id.Name, "f") || id.Name == "markerPrefix") {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							defined[v] = id.Name
						}
					}
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING && strings.Contains(n.Value, "redis.call(") {
					src, _ := os.ReadFile(name)
					scripts = append(scripts, string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset]))
				}
			}
			return true
		})
	}
	if len(scripts) < 15 {
		t.Fatalf("found %d scripts, expected every Lua script of the package", len(scripts))
	}
	// Fields of the record and kwargs hashes (KEYS[1]) named by a literal.
	get := regexp.MustCompile(`'(?:HGET|HSETNX|HINCRBY|HDEL)', KEYS\[1\], '([^']+)'`)
	set := regexp.MustCompile(`'HSET', KEYS\[1\], ([^)]*)\)`)
	mget := regexp.MustCompile(`'HMGET', KEYS\[1\], ([^)]*)\)`)
	used := map[string]bool{}
	for _, s := range scripts {
		for _, m := range get.FindAllStringSubmatch(s, -1) {
			used[m[1]] = true
		}
		for _, m := range mget.FindAllStringSubmatch(s, -1) {
			for _, f := range strings.Split(m[1], ",") { // field, field...
				if f = strings.TrimSpace(f); strings.HasPrefix(f, "'") {
					used[strings.Trim(f, "'")] = true
				}
			}
		}
		for _, m := range set.FindAllStringSubmatch(s, -1) {
			args := strings.Split(m[1], ",")
			for i := 0; i < len(args); i += 2 { // field, value, field, value...
				if f := strings.TrimSpace(args[i]); strings.HasPrefix(f, "'") {
					used[strings.Trim(f, "'")] = true
				}
			}
		}
	}
	if len(used) < 10 {
		t.Fatalf("found %d field names in the scripts: the patterns no longer match them", len(used))
	}
	for f := range used {
		if _, ok := defined[f]; !ok {
			t.Errorf("a script names hash field %q, which no field constant defines", f)
		}
	}
}

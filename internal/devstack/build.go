package devstack

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// EngineName is the engine binary's name, in .state/bin and in the cache.
const EngineName = "hfengine"

// CacheKey names one build of hfengine: the Hatchet version tools/hatchet requires, the
// Go release that builds it, and a hash of the sources that go into it (so our own
// changes to tools/hatchet invalidate it).
type CacheKey struct {
	// HatchetVersion is github.com/hatchet-dev/hatchet's version in tools/hatchet/go.mod.
	HatchetVersion string
	// GoVersion is `go env GOVERSION` (GOTOOLCHAIN's release).
	GoVersion string
	// SourceHash is 12 hex digits of SHA-256 over tools/hatchet's go.mod, go.sum and
	// non-test .go files (cmd/hfengine/*.go and any package of the module's own).
	SourceHash string
}

// String is the cache folder's name, e.g. v0.105.0-go1.26.10-0123456789ab.
func (k CacheKey) String() string {
	return k.HatchetVersion + "-" + k.GoVersion + "-" + k.SourceHash
}

// toolsDir is the engine's module.
func (c *Config) toolsDir() string { return filepath.Join(c.Root, "tools", "hatchet") }

// hatchetVersion reads github.com/hatchet-dev/hatchet's version from a go.mod.
func hatchetVersion(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", fmt.Errorf("hatchet version: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "require" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == "github.com/hatchet-dev/hatchet" {
			return fields[1], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("hatchet version: %w", err)
	}
	return "", fmt.Errorf("hatchet version: %s requires no github.com/hatchet-dev/hatchet", gomod)
}

// sourceHash hashes go.mod, go.sum and every non-test .go file under dir (names and
// contents, in name order).
func sourceHash(dir string) (string, error) {
	var files []string
	for _, f := range []string{"go.mod", "go.sum"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			files = append(files, f)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", dir, err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", dir, err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// EngineCacheKey computes the current build's [CacheKey].
func (s *Stack) EngineCacheKey(ctx context.Context) (CacheKey, error) {
	tools := s.cfg.toolsDir()
	v, err := hatchetVersion(filepath.Join(tools, "go.mod"))
	if err != nil {
		return CacheKey{}, err
	}
	cmd, err := s.command(ctx, s.cfg.GoCmd, nil, "env", "GOVERSION")
	if err != nil {
		return CacheKey{}, fmt.Errorf("go: %w", err)
	}
	cmd.Dir = tools
	out, err := cmd.Output()
	if err != nil {
		return CacheKey{}, fmt.Errorf("go env GOVERSION: %w", err)
	}
	goVersion := strings.TrimSpace(string(out))
	if goVersion == "" {
		return CacheKey{}, fmt.Errorf("go env GOVERSION printed nothing")
	}
	hash, err := sourceHash(tools)
	if err != nil {
		return CacheKey{}, err
	}
	return CacheKey{HatchetVersion: v, GoVersion: goVersion, SourceHash: hash}, nil
}

// enginePath is .state/bin/hfengine; its key is in .state/bin/hfengine.key.
func (c *Config) enginePath() string { return filepath.Join(c.binDir(), EngineName) }

// cacheDir is the cache's folder for key, "" when the cache is off.
func (c *Config) cacheDir(key CacheKey) string {
	if c.BinCache == "off" {
		return ""
	}
	return filepath.Join(c.BinCache, key.String())
}

// EnsureEngine makes .state/bin/hfengine the build of the current key: kept if its
// recorded key matches, else copied from the per-machine cache, else built from
// tools/hatchet (then copied into the cache). Builds and copies go to a temporary name
// and are renamed into place.
func (s *Stack) EnsureEngine(ctx context.Context) error {
	if err := os.MkdirAll(s.cfg.binDir(), 0o755); err != nil {
		return fmt.Errorf("bin dir: %w", err)
	}
	key, err := s.EngineCacheKey(ctx)
	if err != nil {
		return err
	}
	bin := s.cfg.enginePath()
	keyFile := bin + ".key"
	cached := ""
	if dir := s.cfg.cacheDir(key); dir != "" {
		cached = filepath.Join(dir, EngineName)
	}
	if isExecutable(bin) {
		have := readTrim(keyFile)
		if have == key.String() {
			if cached != "" && !isExecutable(cached) {
				// Seed the per-machine cache so the next fresh clone skips the build.
				if err := copyAtomic(bin, cached); err != nil {
					s.log.Printf("could not seed the cache %s: %v", cached, err)
				}
			}
			return nil
		}
		s.log.Printf("%s is build %q, want %s: replacing it", bin, have, key)
	}
	if cached != "" && isExecutable(cached) {
		err := s.log.Step("copy "+EngineName+" from cache "+filepath.Dir(cached), func() error {
			return copyAtomic(cached, bin)
		})
		if err != nil {
			return err
		}
		return writeFile(keyFile, key.String()+"\n", 0o644)
	}
	name := fmt.Sprintf("go build %s (Hatchet %s, %s, sources %s; a cold build takes minutes)",
		EngineName, key.HatchetVersion, key.GoVersion, key.SourceHash)
	err = s.log.Step(name, func() error {
		tmp := fmt.Sprintf("%s.tmp.%d", bin, os.Getpid())
		cmd, err := s.command(ctx, s.cfg.GoCmd, nil, "build", "-ldflags", "-s -w", "-o", tmp, "./cmd/"+EngineName)
		if err != nil {
			return err
		}
		cmd.Dir = s.cfg.toolsDir()
		cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
		if err := cmd.Run(); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("go build ./cmd/%s in %s: %w", EngineName, cmd.Dir, err)
		}
		if err := os.Rename(tmp, bin); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("install %s: %w", bin, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := writeFile(keyFile, key.String()+"\n", 0o644); err != nil {
		return err
	}
	if cached != "" {
		if err := copyAtomic(bin, cached); err != nil {
			s.log.Printf("could not copy %s into the cache %s: %v", EngineName, cached, err)
		}
	}
	return nil
}

// copyAtomic copies the executable src to dst through a temporary name in dst's folder.
func copyAtomic(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	tmp := fmt.Sprintf("%s.tmp.%d", dst, os.Getpid())
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}

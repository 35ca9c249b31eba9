package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hatchetflow/go/hatchetflow"
)

// help and -h list every command with an example, and the flags; both exit 0.
func TestHelpListsEveryCommand(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var out, errOut bytes.Buffer
		if code := run1(ctx, args, &out, &errOut); code != exitOK {
			t.Fatalf("%v: exit %d (%s)", args, code, errOut.String())
		}
		text := out.String() + errOut.String()
		for _, c := range commands {
			if !strings.Contains(text, "\n  "+c.name) || !strings.Contains(text, "$ hatchetflow") {
				t.Errorf("%v: help lacks command %q or its example", args, c.name)
			}
		}
		for _, f := range []string{"-redis", "-prefix", "-status", "-kwargs", "-silent"} {
			if !strings.Contains(text, f) {
				t.Errorf("%v: help lacks flag %s", args, f)
			}
		}
	}
	var out, errOut bytes.Buffer
	if code := run1(ctx, []string{"version"}, &out, &errOut); code != exitOK || strings.TrimSpace(out.String()) != "hatchetflow "+hatchetflow.Version {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}

// completion prints a script bash accepts, listing the commands and flags; an unknown
// shell is a usage error.
func TestCompletionScripts(t *testing.T) {
	ctx := context.Background()
	for _, shell := range []string{"bash", "zsh"} {
		var out, errOut bytes.Buffer
		if code := run1(ctx, []string{"completion", shell}, &out, &errOut); code != exitOK {
			t.Fatalf("completion %s: exit %d (%s)", shell, code, errOut.String())
		}
		for _, want := range []string{"inspect", "retry", "mcp", "--kwargs", "--status"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("completion %s lacks %s", shell, want)
			}
		}
		if shell == "bash" {
			if bash, err := exec.LookPath("bash"); err == nil {
				f := filepath.Join(t.TempDir(), "c.bash")
				if err := os.WriteFile(f, out.Bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
				// Complete "hatchetflow re" as bash would.
				script := ". " + f + `; COMP_WORDS=(hatchetflow re); COMP_CWORD=1; _hatchetflow; echo "${COMPREPLY[*]}"`
				got, err := exec.Command(bash, "-c", script).CombinedOutput()
				if err != nil || strings.TrimSpace(string(got)) != "resume retry" {
					t.Errorf("bash completes %q (%v), want \"resume retry\"", got, err)
				}
			}
		}
	}
	var out, errOut bytes.Buffer
	if code := run1(ctx, []string{"completion", "fish"}, &out, &errOut); code != exitUsage {
		t.Errorf("completion fish: exit %d, want %d", code, exitUsage)
	}
}

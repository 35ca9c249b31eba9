package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hatchetflow/go/hatchetflow"
)

// command is one command of the inspector, for help and completion.
type command struct {
	name, args, summary string
	examples            []string
}

// commands lists every command, in the order help shows them.
var commands = []command{
	{"ls", "", "records, newest first, each root with its flow's rolled-up status",
		[]string{"hatchetflow ls --roots", "hatchetflow ls --status failed --since 1h", "hatchetflow ls --task process-order --json"}},
	{"tasks", "", "the task registry, with record counts", []string{"hatchetflow tasks"}},
	{"inspect", "ID", "the flow rooted at ID: its rolled-up status and whole tree",
		[]string{"hatchetflow inspect ID --json"}},
	{"cancel", "ID", "cancel a signature, chain or swarm (its engine runs too)",
		[]string{"hatchetflow cancel ID", "hatchetflow cancel ID --silent"}},
	{"suspend", "ID", "suspend: nothing more starts until resume",
		[]string{"hatchetflow suspend ID", "hatchetflow suspend ID --cancel-running"}},
	{"resume", "ID", "resume a suspended node", []string{"hatchetflow resume ID"}},
	{"retry", "ID", "run a failed or cancelled node again from the failed step",
		[]string{"hatchetflow retry ID", `hatchetflow retry ID --kwargs '{"mode":"safe"}'`}},
	{"delete", "ID", "delete the whole tree under ID", []string{"hatchetflow delete ID"}},
	{"ui", "", "the live web page (flags after ui: --listen, --allow-actions)",
		[]string{"hatchetflow ui", "hatchetflow ui --listen 127.0.0.1:9090 --allow-actions"}},
	{"mcp", "", "the MCP server for assistants (flags after mcp: --http, --allow-actions)",
		[]string{"hatchetflow mcp", "hatchetflow mcp --http 127.0.0.1:8765"}},
	{"completion", "SHELL", "print a completion script for bash or zsh",
		[]string{"source <(hatchetflow completion bash)", "hatchetflow completion zsh > \"${fpath[1]}/_hatchetflow\""}},
	{"version", "", "print hatchetflow's version", []string{"hatchetflow version"}},
	{"help", "", "this help", []string{"hatchetflow help"}},
}

// printHelp writes every command with its examples, then the flags of fs.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "hatchetflow %s: inspect and control hatchetflow signatures, chains and swarms.\n\n", hatchetflow.Version)
	fmt.Fprintln(w, "Usage: hatchetflow [flags] COMMAND [ID] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands {
		name := c.name
		if c.args != "" {
			name += " " + c.args
		}
		fmt.Fprintf(w, "  %-14s %s\n", name, c.summary)
		for _, ex := range c.examples {
			fmt.Fprintf(w, "  %-14s   $ %s\n", "", ex)
		}
	}
	fmt.Fprintln(w, "\nFlags (before the command, or after it and its id):")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nExit codes: 0 done, 1 failed, 2 usage, 3 not found. Docs: docs/inspector.md.")
}

// completionScript returns a completion script for shell ("bash" or "zsh") that
// completes the commands and the flags of fs.
func completionScript(shell string, fs *flag.FlagSet) (string, error) {
	var names, flags []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, "--"+f.Name) })
	sort.Strings(flags)
	switch shell {
	case "bash":
		return fmt.Sprintf(`# bash completion for hatchetflow: source <(hatchetflow completion bash)
_hatchetflow() {
  local cur="${COMP_WORDS[COMP_CWORD]}" i cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "%s" -- "$cur"))
  elif [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W "%s" -- "$cur"))
  elif [[ "$cmd" == completion ]]; then
    COMPREPLY=($(compgen -W "bash zsh" -- "$cur"))
  fi
}
complete -F _hatchetflow hatchetflow
`, strings.Join(flags, " "), strings.Join(names, " ")), nil
	case "zsh":
		var cmds []string
		for _, c := range commands {
			cmds = append(cmds, fmt.Sprintf("'%s:%s'", c.name, strings.ReplaceAll(c.summary, "'", "")))
		}
		return fmt.Sprintf(`#compdef hatchetflow
# zsh completion for hatchetflow: hatchetflow completion zsh > "${fpath[1]}/_hatchetflow"
_hatchetflow() {
  local -a cmds flags
  cmds=(%s)
  flags=(%s)
  if [[ "$PREFIX" == -* ]]; then
    compadd -a flags
  elif (( CURRENT == 2 )) || [[ ${#${words[2,CURRENT-1]:#-*}} -eq 0 ]]; then
    _describe 'command' cmds
  elif [[ "${${words[2,CURRENT-1]:#-*}[1]}" == completion ]]; then
    compadd bash zsh
  fi
}
_hatchetflow "$@"
`, strings.Join(cmds, " "), strings.Join(flags, " ")), nil
	}
	return "", fmt.Errorf("completion: unknown shell %q (bash or zsh)", shell)
}

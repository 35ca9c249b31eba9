# shellcheck shell=bash
# Sourced by .ci/run and by every script here that runs `go` (the Makefile does the same for its
# recipes): builds, tests and scans use the Go release that go.mod's `toolchain` line names, which
# the Go module proxy serves (the first use downloads it, ~76 MB, about 10 s; then it is cached in
# the module cache), not the machine's /usr/local/go. The machines set GOTOOLCHAIN=local (in
# /usr/local/go/go.env and ~/.config/go/env), which ignores that line; the environment variable
# exported here overrides both. Why this release: docs/dependencies.md.
GOTOOLCHAIN="$(awk '$1 == "toolchain" {print $2; exit}' "$(dirname "${BASH_SOURCE[0]}")/../go.mod")"
if [[ -z "$GOTOOLCHAIN" ]]; then
  echo "${BASH_SOURCE[0]}: go.mod has no toolchain line" >&2
  exit 1
fi
export GOTOOLCHAIN

//go:build tools

// Package lint pins the linters .ci/run runs (go run -modfile or from this module).
package lint

import _ "honnef.co/go/tools/cmd/staticcheck"

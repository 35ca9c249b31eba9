package main

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// hatchetModule is the module path of Hatchet, whose packages this program links.
const hatchetModule = "github.com/hatchet-dev/hatchet"

// hatchetVersion returns the version of the Hatchet module this program was built
// against (a replacement's version when go.mod replaces it), read from the build
// information the Go linker embeds.
func hatchetVersion() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("no build information in this binary")
	}
	for _, dep := range info.Deps {
		if dep.Path != hatchetModule {
			continue
		}
		if dep.Replace != nil && dep.Replace.Version != "" {
			return dep.Replace.Version, nil
		}
		if dep.Version == "" {
			break
		}
		return dep.Version, nil
	}
	return "", fmt.Errorf("module %s is not among this binary's dependencies", hatchetModule)
}

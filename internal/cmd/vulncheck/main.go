// Command vulncheck is the offline half of scripts/vulncheck. It has two jobs:
//
//	vulncheck db -src DIR -out DIR -version VERSION
//
// builds a vulnerability database in the v1 layout that govulncheck reads with
// -db file:///DIR (index/db.json, index/modules.json, ID/<id>.json) from a directory of
// OSV entries, <id>.json each, such as data/osv of the golang.org/x/vulndb module.
// VERSION is that module's version; the time in its pseudo-version becomes the
// database's modification time (the module's entries carry a zero one).
//
//	govulncheck -format json ./... | vulncheck check -accept FILE
//
// reads govulncheck's JSON stream, prints each advisory found, at the most precise level
// it was found (symbol: called; package: imported; module: required), with its
// module, version and fix, and the counts per level. It exits 1 when an advisory is not
// in FILE, the list of accepted advisories: one "ID reason" a line, # starts a comment.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

const usage = "usage: vulncheck db -src DIR -out DIR -version VERSION | vulncheck check -accept FILE [-in FILE]"

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("vulncheck "+args[0], flag.ContinueOnError)
	switch args[0] {
	case "db":
		src := fs.String("src", "", "directory of OSV entries (<id>.json)")
		out := fs.String("out", "", "directory to write the database to (created)")
		version := fs.String("version", "", "version of the golang.org/x/vulndb module the entries come from")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *src == "" || *out == "" || *version == "" {
			return errors.New(usage)
		}
		modified, err := pseudoVersionTime(*version)
		if err != nil {
			return err
		}
		n, err := buildDB(*src, *out, modified)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "vulndb %s: %d entries, modified %s, in %s\n", *version, n, modified.Format("2006-01-02"), *out)
		return nil
	case "check":
		accept := fs.String("accept", "", "file of accepted advisories")
		in := fs.String("in", "", "govulncheck -format json output (default: standard input)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *accept == "" {
			return errors.New(usage)
		}
		accepted, err := readAccepted(*accept)
		if err != nil {
			return err
		}
		r := stdin
		if *in != "" {
			f, err := os.Open(*in)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		found, err := readFindings(r)
		if err != nil {
			return err
		}
		return report(stdout, found, accepted)
	}
	return errors.New(usage)
}

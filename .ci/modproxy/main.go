// Command modproxy writes a file-based Go module proxy (GOPROXY=file://DIR)
// holding modules from a source tree at one version, zipped by the module
// zip rules, so that the release check can "go get" them as a user would.
//
// Usage:
//
//	modproxy -src TREE -out DIR -version vX.Y.Z -time RFC3339 PATH=SUBDIR...
//
// Each PATH=SUBDIR names a module path and its directory in TREE ("." for
// the root). modproxy writes, for each module, the files the go command
// asks a proxy for: $module/@v/list, $version.info, $version.mod and
// $version.zip. Like the go command fetching from a repository, it leaves
// out nested modules and copies the root LICENSE into a module that has
// none.
//
// It also reports, and exits 1 for, what would make the release wrong for
// a user even where the build happens to work: a replace directive in a
// published go.mod (users' builds ignore it), or a published module that
// requires another published one at a version other than -version. The
// proxy is written all the same, so that the go command can show what a
// user would see.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	src := flag.String("src", "", "source `tree` (a checkout without .git, or a copy of one)")
	out := flag.String("out", "", "proxy `directory` to write")
	version := flag.String("version", "", "module `version` to publish, such as v0.1.0")
	stamp := flag.String("time", "", "version time, RFC 3339 (the commit time)")
	flag.Parse()
	if *src == "" || *out == "" || *version == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: modproxy -src TREE -out DIR -version vX.Y.Z [-time RFC3339] PATH=SUBDIR...")
		os.Exit(2)
	}
	t := time.Now().UTC()
	if *stamp != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, *stamp); err != nil {
			fatal(fmt.Errorf("-time: %w", err))
		}
	}
	published := make(map[string]bool)
	for _, arg := range flag.Args() {
		path, _, _ := strings.Cut(arg, "=")
		published[path] = true
	}
	var problems []string
	for _, arg := range flag.Args() {
		path, subdir, ok := strings.Cut(arg, "=")
		if !ok {
			fatal(fmt.Errorf("%q: want PATH=SUBDIR", arg))
		}
		m := module.Version{Path: path, Version: *version}
		f, err := publish(*src, subdir, *out, m, t.UTC())
		if err != nil {
			fatal(err)
		}
		problems = append(problems, check(f, subdir, *version, published)...)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "modproxy:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// check reports what is wrong with a published go.mod for a release at
// version.
func check(f *modfile.File, subdir, version string, published map[string]bool) []string {
	var problems []string
	for _, r := range f.Replace {
		problems = append(problems, fmt.Sprintf("%s/go.mod:%d: replace %s: a user's build ignores it; remove it (go.work serves local development)",
			subdir, r.Syntax.Start.Line, r.Old.Path))
	}
	for _, r := range f.Require {
		if published[r.Mod.Path] && r.Mod.Version != version {
			problems = append(problems, fmt.Sprintf("%s/go.mod:%d: requires %s %s; the release publishes %s",
				subdir, r.Syntax.Start.Line, r.Mod.Path, r.Mod.Version, version))
		}
	}
	return problems
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "modproxy:", err)
	os.Exit(1)
}

// publish writes module m, found in dir src/subdir, to the proxy at out,
// and returns its parsed go.mod.
func publish(src, subdir, out string, m module.Version, t time.Time) (*modfile.File, error) {
	if err := module.Check(m.Path, m.Version); err != nil {
		return nil, err
	}
	dir := filepath.Join(src, filepath.FromSlash(subdir))
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(filepath.Join(dir, "go.mod"), gomod, nil)
	if err != nil {
		return nil, err
	}
	if f.Module == nil || f.Module.Mod.Path != m.Path {
		return nil, fmt.Errorf("%s/go.mod: module path is not %s", subdir, m.Path)
	}
	// The go command adds the repository's LICENSE to a module in a
	// subdirectory that has none of its own.
	if _, err := os.Stat(filepath.Join(dir, "LICENSE")); errors.Is(err, os.ErrNotExist) {
		if lic, err := os.ReadFile(filepath.Join(src, "LICENSE")); err == nil {
			if err := os.WriteFile(filepath.Join(dir, "LICENSE"), lic, 0o644); err != nil {
				return nil, err
			}
		}
	}

	escaped, err := module.EscapePath(m.Path)
	if err != nil {
		return nil, err
	}
	vdir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(vdir, m.Version)

	z, err := os.Create(base + ".zip")
	if err != nil {
		return nil, err
	}
	if err := zip.CreateFromDir(z, m, dir); err != nil {
		_ = z.Close() // the zip error is the one to report
		return nil, err
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	if _, err := zip.CheckZip(m, base+".zip"); err != nil {
		return nil, err
	}
	if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
		return nil, err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{m.Version, t})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(vdir, "list"), []byte(m.Version+"\n"), 0o644); err != nil {
		return nil, err
	}
	return f, nil
}

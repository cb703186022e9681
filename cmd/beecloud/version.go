package main

import (
	"fmt"
	"runtime/debug"
)

const versionUsage = `Usage: beecloud version

Version prints the version of this command and of the beecloud module it
was built from, the commit for a build from a checkout, and the Go version.
Quote it in bug reports.
`

func (c *cli) version(args []string) int {
	const name = "version"
	fs := c.newFlagSet(name, versionUsage)
	if code, done := c.parseFlagsOnly(fs, args); done {
		return code
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return c.errorf(name, "this binary carries no build information")
	}
	fmt.Fprintln(c.stdout, describeBuild(info))
	return exitOK
}

// describeBuild says which version of beecloud info is: the module version
// for "go install …@v0.1.0", the commit for a build from a checkout
// ("(devel)").
func describeBuild(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += ", commit " + rev
		if t := settings["vcs.time"]; t != "" {
			v += " of " + t
		}
		if settings["vcs.modified"] == "true" {
			v += ", modified"
		}
	}
	module := info.Main.Path
	if module == "" {
		module = "github.com/paybutton/beecloud"
	}
	return fmt.Sprintf("beecloud %s (module %s, %s)", v, module, info.GoVersion)
}

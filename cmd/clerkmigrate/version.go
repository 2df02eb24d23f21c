package main

import (
	"cmp"
	"runtime"
	"runtime/debug"
)

// version, when set at build time with -ldflags "-X main.version=...",
// overrides the version read from the build info.
var version string

// buildVersion is what --version prints: the module version and the VCS
// revision the Go toolchain stamped into the binary, and the Go version.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return cmp.Or(version, "unknown") + " (no build info)"
	}
	return describeBuild(info, version)
}

// describeBuild renders a build's version: override, else the module
// version ("v1.2.0", a pseudo-version, or "(devel)"), then the revision,
// whether the tree had uncommitted changes, the commit time and the Go
// version and platform.
func describeBuild(info *debug.BuildInfo, override string) string {
	out := cmp.Or(override, info.Main.Version, "(devel)")
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		out += ", revision " + rev
		if settings["vcs.modified"] == "true" {
			out += " with uncommitted changes"
		}
		if at := settings["vcs.time"]; at != "" {
			out += ", committed " + at
		}
	}
	return out + ", " + info.GoVersion + " " + runtime.GOOS + "/" + runtime.GOARCH
}

// shortVersion names the build in the User-Agent: the version alone
// ("devel" for a build outside a module version).
func shortVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

//go:build tools

// Package mobile pins the gomobile binding generator this module's
// bindings are made and checked with (scripts/test installs gobind at
// the version go.mod requires). Its package, golang.org/x/mobile/bind,
// is what gobind's generated code imports; keeping it here keeps it out
// of the library's module graph.
package mobile

import _ "golang.org/x/mobile/bind"

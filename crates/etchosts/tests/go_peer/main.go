// The peer side of tests/go_differential.rs (copied into a temp GOPATH as pntpeer/cmd).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/containers/common/libnetwork/etchosts"
	"github.com/opencontainers/runtime-spec/specs-go"
	"pntpeer/resolvconf"
)

// Usage: peer DIR N. For each case i < N: DIR/i.in is the base file; writes
// DIR/i.hosts (etchosts.New), DIR/i.r0 (private netns, IPv6 off), DIR/i.r1 (IPv6 on),
// DIR/i.rh (host netns). An error is written instead as "ERROR".
func main() {
	dir := os.Args[1]
	var n int
	fmt.Sscan(os.Args[2], &n)
	for i := 0; i < n; i++ {
		in := filepath.Join(dir, fmt.Sprintf("%d.in", i))
		out := func(ext string) string { return filepath.Join(dir, fmt.Sprintf("%d.%s", i, ext)) }
		if err := etchosts.New(&etchosts.Params{BaseFile: in, TargetFile: out("hosts")}); err != nil {
			os.WriteFile(out("hosts"), []byte("ERROR"), 0o644)
		}
		priv := []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}
		for _, c := range []struct {
			ext  string
			ns   []specs.LinuxNamespace
			ipv6 bool
		}{{"r0", priv, false}, {"r1", priv, true}, {"rh", nil, false}} {
			if err := resolvconf.NewWithBase(&resolvconf.Params{Path: out(c.ext), Namespaces: c.ns, IPv6Enabled: c.ipv6}, in); err != nil {
				os.WriteFile(out(c.ext), []byte("ERROR"), 0o644)
			}
		}
	}
}

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
// DIR/i.rh (host netns), and the base file after Add/Remove/AddIfExists edits
// (DIR/i.hadd, i.hrm, i.hif, i.radd, i.rrm). An error is written instead as "ERROR".
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
		input, _ := os.ReadFile(in)
		edit := func(ext string, do func(string) error) {
			os.WriteFile(out(ext), input, 0o644)
			if err := do(out(ext)); err != nil {
				os.WriteFile(out(ext), []byte("ERROR"), 0o644)
			}
		}
		edit("hadd", func(p string) error {
			return etchosts.Add(p, etchosts.HostEntries{{IP: "10.9.9.9", Names: []string{"localhost", "fresh"}}})
		})
		edit("hrm", func(p string) error {
			return etchosts.Remove(p, etchosts.HostEntries{{IP: "1.1.1.1", Names: []string{"host", "a.b"}}})
		})
		edit("hif", func(p string) error {
			return etchosts.AddIfExists(p, etchosts.HostEntries{{IP: "10.0.0.1", Names: []string{"x"}}},
				etchosts.HostEntries{{IP: "10.9.9.8", Names: []string{"x", "localhost"}}})
		})
		edit("radd", func(p string) error { return resolvconf.Add(p, []string{"10.89.0.1"}) })
		edit("rrm", func(p string) error { return resolvconf.Remove(p, []string{"1.1.1.1", "fd00::1"}) })
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

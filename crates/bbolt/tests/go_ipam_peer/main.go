// Command ipampeer runs containers/common's own IPAM code (libnetwork/netavark/ipam.go,
// the version podman 4.3 uses) for podnet-bbolt's differential test:
//
//	ipampeer DB NETWORK_JSON    one operation per stdin line, one result per stdout line
//
// operations: {"op":"alloc","id":"c1","static":["10.0.0.3"]}, {"op":"release","id":"c1"}
// results:    {"ips":["10.0.0.2"]} or {"error":"..."}
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"

	"github.com/containers/common/libnetwork/netavark"
	"github.com/containers/common/libnetwork/types"
)

type op struct {
	Op     string   `json:"op"`
	ID     string   `json:"id"`
	Static []net.IP `json:"static"`
}

type result struct {
	IPs   []net.IP `json:"ips,omitempty"`
	Error string   `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: ipampeer DB NETWORK_JSON")
		os.Exit(2)
	}
	var network types.Network
	if err := json.Unmarshal([]byte(os.Args[2]), &network); err != nil {
		fmt.Fprintln(os.Stderr, "bad network:", err)
		os.Exit(2)
	}
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var o op
		if err := json.Unmarshal(in.Bytes(), &o); err != nil {
			fmt.Fprintln(os.Stderr, "bad op:", err)
			os.Exit(2)
		}
		var ips []net.IP
		var err error
		switch o.Op {
		case "alloc":
			ips, err = netavark.AllocForPeer(os.Args[1], &network, o.ID, o.Static)
		case "release":
			ips, err = netavark.ReleaseForPeer(os.Args[1], &network, o.ID)
		default:
			err = fmt.Errorf("unknown op %q", o.Op)
		}
		r := result{IPs: ips}
		if err != nil {
			r = result{Error: err.Error()}
		}
		_ = out.Encode(r)
	}
}

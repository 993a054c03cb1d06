// The Go libcni peer of podnet-cni's tests and benchmark, built in GOPATH mode against
// Debian's libcni 1.1 sources (/usr/share/gocode), the libcni podman 4.3 uses.
//
//	peer add|del|check REQUEST.json   one libcni call with real plugin processes; add prints
//	                                  the result
//	peer bench REQUEST.json           serve: each stdin line N runs N x (AddNetworkList +
//	                                  DelNetworkList) with an in-memory exec that answers ADD
//	                                  with the request's cannedResult, and prints the elapsed
//	                                  nanoseconds
//	peer bench-exec REQUEST.json      the same with real plugin processes
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

type request struct {
	Conflist       string                 `json:"conflist"`
	PluginDirs     []string               `json:"pluginDirs"`
	CacheDir       string                 `json:"cacheDir"`
	ContainerID    string                 `json:"containerId"`
	NetNS          string                 `json:"netns"`
	IfName         string                 `json:"ifName"`
	Args           [][2]string            `json:"args"`
	CapabilityArgs map[string]interface{} `json:"capabilityArgs"`
	CannedResult   json.RawMessage        `json:"cannedResult"`
}

// cannedExec stands in for plugin processes: ADD answers the canned result, DEL nothing.
type cannedExec struct {
	version.PluginDecoder
	result []byte
}

func (e *cannedExec) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	for _, kv := range environ {
		if kv == "CNI_COMMAND=ADD" {
			return e.result, nil
		}
	}
	return nil, nil
}

func (e *cannedExec) FindInPath(plugin string, paths []string) (string, error) {
	return invoke.FindInPath(plugin, paths)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go peer: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: peer add|del|check|bench REQUEST.json")
	}
	data, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		fail("request: %v", err)
	}
	list, err := libcni.ConfListFromFile(req.Conflist)
	if err != nil {
		fail("%v", err)
	}
	rt := &libcni.RuntimeConf{
		ContainerID:    req.ContainerID,
		NetNS:          req.NetNS,
		IfName:         req.IfName,
		Args:           req.Args,
		CapabilityArgs: req.CapabilityArgs,
	}
	ctx := context.Background()
	switch os.Args[1] {
	case "add":
		cni := libcni.NewCNIConfigWithCacheDir(req.PluginDirs, req.CacheDir, nil)
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail("add: %v", err)
		}
		out, err := json.Marshal(res)
		if err != nil {
			fail("%v", err)
		}
		os.Stdout.Write(out)
	case "del":
		cni := libcni.NewCNIConfigWithCacheDir(req.PluginDirs, req.CacheDir, nil)
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail("del: %v", err)
		}
	case "check":
		cni := libcni.NewCNIConfigWithCacheDir(req.PluginDirs, req.CacheDir, nil)
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail("check: %v", err)
		}
	case "bench", "bench-exec":
		var exec invoke.Exec
		if os.Args[1] == "bench" {
			exec = &cannedExec{result: req.CannedResult}
		}
		cni := libcni.NewCNIConfigWithCacheDir(req.PluginDirs, req.CacheDir, exec)
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			n, err := strconv.Atoi(strings.TrimSpace(in.Text()))
			if err != nil {
				fail("bench: %v", err)
			}
			start := time.Now()
			for i := 0; i < n; i++ {
				if _, err := cni.AddNetworkList(ctx, list, rt); err != nil {
					fail("bench add: %v", err)
				}
				if err := cni.DelNetworkList(ctx, list, rt); err != nil {
					fail("bench del: %v", err)
				}
			}
			fmt.Println(time.Since(start).Nanoseconds())
		}
	default:
		fail("unknown command %q", os.Args[1])
	}
}

// Command confdiff prints the [network] table that containers/common v0.50
// (podman 4.3, Debian 12) makes of the containers.conf files given as arguments,
// read in order over the built-in defaults as its readConfigFromFile does, then
// checked by NetworkConfig.Validate; with the single argument --system, what
// config.NewConfig reads from the real locations. On a failure it prints {"error": MESSAGE}.
// Built offline by src/differential_tests.rs in GOPATH mode against /usr/share/gocode.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/BurntSushi/toml"
	"github.com/containers/common/pkg/config"
)

func main() {
	// "--system": the whole chain podman 4.3 reads (NewConfig: the system files,
	// /etc/containers/containers.conf.d, and for a rootless uid the user's file and .d)
	if len(os.Args) == 2 && os.Args[1] == "--system" {
		cfg, err := config.NewConfig("")
		if err != nil {
			fmt.Printf("{\"error\": %q}\n", err.Error())
			return
		}
		json.NewEncoder(os.Stdout).Encode(cfg.Network)
		return
	}
	cfg, err := config.DefaultConfig()
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	for _, path := range os.Args[1:] {
		if _, err := toml.DecodeFile(path, cfg); err != nil {
			fmt.Printf("{\"error\": %q}\n", err.Error())
			return
		}
	}
	if err := cfg.Network.Validate(); err != nil {
		fmt.Printf("{\"error\": %q}\n", err.Error())
		return
	}
	json.NewEncoder(os.Stdout).Encode(cfg.Network)
}

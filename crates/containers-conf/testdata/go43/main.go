// Command confdiff prints the [network] table that containers/common v0.50
// (podman 4.3, Debian 12) makes of the containers.conf files given as arguments,
// read in order over the built-in defaults as its readConfigFromFile does, then
// checked by NetworkConfig.Validate. On a failure it prints {"error": MESSAGE}.
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

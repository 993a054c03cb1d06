// This file is copied into a temp copy of containers/common's libnetwork/netavark
// package by podnet-bbolt's tests: it exposes the package's own IPAM functions.

package netavark

import (
	"net"

	"github.com/containers/common/libnetwork/types"
)

func peerNetwork(db string, network *types.Network) *netavarkNetwork {
	return &netavarkNetwork{ipamDBPath: db, networks: map[string]*types.Network{network.Name: network}}
}

func peerOptions(network *types.Network, id string, ips []net.IP) *types.NetworkOptions {
	return &types.NetworkOptions{
		ContainerID: id,
		Networks:    map[string]types.PerNetworkOptions{network.Name: {StaticIPs: ips}},
	}
}

// AllocForPeer is podman's allocation for one container on one network (allocIPs).
func AllocForPeer(db string, network *types.Network, id string, static []net.IP) ([]net.IP, error) {
	opts := peerOptions(network, id, static)
	err := peerNetwork(db, network).allocIPs(opts)
	return opts.Networks[network.Name].StaticIPs, err
}

// ReleaseForPeer is podman's release: getAssignedIPs, then deallocIPs.
func ReleaseForPeer(db string, network *types.Network, id string) ([]net.IP, error) {
	n := peerNetwork(db, network)
	opts := peerOptions(network, id, nil)
	if err := n.getAssignedIPs(opts); err != nil {
		return nil, err
	}
	ips := opts.Networks[network.Name].StaticIPs
	return ips, n.deallocIPs(opts)
}

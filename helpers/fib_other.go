//go:build !linux

package helpers

import "net"

// Off Linux bpfhost has no forwarding table to ask: interfaces exist (for
// bpf_check_mtu), but every route lookup answers that the packet is not
// for forwarding.

func fibForwarding(bool, string) bool                     { return true }
func fibRouteTo(bool, [16]byte, uint32, uint32) fibRoute  { return fibRoute{errno: eNODEV} }
func fibNeighbour(bool, uint32, [16]byte) ([6]byte, bool) { return [6]byte{}, false }

// fibHeaderLen is 14 (Ethernet) for an interface with a 6-byte hardware
// address or a loopback one, as Linux gives both, and 0 for the rest.
func fibHeaderLen(ifindex uint32) uint32 {
	ifc, err := net.InterfaceByIndex(int(ifindex))
	if err != nil || len(ifc.HardwareAddr) != 6 && ifc.Flags&net.FlagLoopback == 0 {
		return 0
	}
	return ethHeaderSize
}

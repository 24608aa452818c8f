//go:build !linux

package helpers

// Off Linux bpfhost has no forwarding table to ask: interfaces exist, but
// every route lookup answers that the packet is not for forwarding.

func fibLinkOf(uint32) (fibLink, bool)                    { return fibLink{}, true }
func fibForwarding(bool, string) bool                     { return true }
func fibRouteTo(bool, [16]byte, uint32, uint32) fibRoute  { return fibRoute{errno: eNODEV} }
func fibNeighbour(bool, uint32, [16]byte) ([6]byte, bool) { return [6]byte{}, false }

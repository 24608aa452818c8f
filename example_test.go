package bpfhost_test

import (
	"fmt"

	"github.com/bpfhost/bpfhost"
)

// Run the example firewall on one packet from a source in its blocklist.
func Example() {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		fmt.Println(err)
		return
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer coll.Close()

	// Block 203.0.113.0/24 as rule 1: the key is a prefix length and the
	// address bytes.
	key := struct {
		PrefixLen uint32
		Addr      [4]byte
	}{24, [4]byte{203, 0, 113, 0}}
	if err := coll.Maps["blocklist_v4"].Put(key, uint32(1)); err != nil {
		fmt.Println(err)
		return
	}

	pkt := ipv4Packet([4]byte{203, 0, 113, 7})
	verdict, _, err := coll.Programs["xdp_firewall"].Test(pkt)
	if err != nil {
		fmt.Println(err)
		return
	}
	var drops uint64
	if err := coll.Maps["drops"].Lookup(uint32(1), &drops); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verdict", verdict, "drops by rule 1:", drops)
	// Output: verdict 1 drops by rule 1: 1
}

// ipv4Packet builds Ethernet, IPv4 and UDP headers with the source src.
func ipv4Packet(src [4]byte) []byte {
	pkt := make([]byte, 42)
	pkt[12], pkt[13] = 0x08, 0x00 // IPv4
	pkt[14] = 0x45                // version 4, 20-byte header
	pkt[23] = 17                  // UDP
	copy(pkt[26:30], src[:])
	return pkt
}

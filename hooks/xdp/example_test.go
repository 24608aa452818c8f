package xdp_test

import (
	"fmt"
	"log"
	"time"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/hooks/xdp"
)

// Bridge two interfaces through the example firewall for a minute, then
// print the frames per verdict. (Not run: it needs CAP_NET_RAW,
// CAP_NET_ADMIN and two interfaces.)
func ExampleAttach() {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		log.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer coll.Close()
	l, err := xdp.Attach(coll.Programs["xdp_firewall"], xdp.Options{Interface: "eth1", Peer: "eth2"})
	if err != nil {
		log.Fatal(err)
	}
	time.Sleep(time.Minute)
	l.Close()
	s := l.Stats()
	for action, name := range xdp.ActionNames {
		fmt.Println(name, s.Verdicts[action].Packets)
	}
}

package bpfhost_test

import (
	"strings"
	"testing"

	"github.com/bpfhost/bpfhost"
)

// TestSizeErrorsWithoutGoTypes checks that a byte slice of the wrong size
// is reported in bytes, without the Go type name ([]uint8).
func TestSizeErrorsWithoutGoTypes(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("examples/firewall.o")
	if err != nil {
		t.Fatal(err)
	}
	coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Programs: []string{"xdp_firewall"}})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	err = coll.Maps["blocklist_v4"].Put(make([]byte, 7), uint32(1))
	if err == nil || strings.Contains(err.Error(), "uint8") || !strings.Contains(err.Error(), "7 bytes, want 8") {
		t.Errorf("a 7-byte key for an 8-byte map: %v", err)
	}
}

package bpfhost_test

import (
	"encoding/binary"
	"testing"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// TestContextStoreImmediate: BPF_ST into the context (clang -mcpu=v4 emits
// `*(u32 *)(r1 + off) = imm`), which Linux allows since 6.3, is rewritten
// like a register store and lands in the field on every engine: a
// __sk_buff's mark and cb[0] in a test run, and a sock_addr's user_port,
// whose host layout differs from Linux's, in a hook run.
func TestContextStoreImmediate(t *testing.T) {
	spec, err := bpfhost.LoadCollectionSpec("verifier/testdata/hunt.o")
	if err != nil {
		t.Fatal(err)
	}
	for _, engine := range bpfhost.Engines() {
		for _, checked := range []bool{false, true} {
			coll, err := bpfhost.NewCollection(spec, &bpfhost.CollectionOptions{Engine: engine, Checked: checked,
				Programs: []string{"ctx_store_imm", "sock_addr_store_imm"}})
			if err != nil {
				t.Fatalf("%s: %v", engine, err)
			}
			var skb [192]byte // struct __sk_buff
			if _, err := coll.Programs["ctx_store_imm"].Run(&bpfhost.RunOptions{Data: make([]byte, 64), ContextOut: skb[:]}); err != nil {
				t.Fatalf("%s checked=%v: %v", engine, checked, err)
			}
			// mark at 8, cb[0] at 48 (linux/bpf.h).
			if mark, cb0 := binary.LittleEndian.Uint32(skb[8:]), binary.LittleEndian.Uint32(skb[48:]); mark != 7 || cb0 != 3 {
				t.Errorf("%s checked=%v: mark %d, cb[0] %d; want 7, 3", engine, checked, mark, cb0)
			}
			ctx := &linux.SockAddrContext{UserFamily: 2, UserIP4: 0x0100007f, UserPort: 0x5000, Family: 2, Type: 2, Protocol: 17}
			r, err := coll.Programs["sock_addr_store_imm"].RunSockAddr(ctx, new(linux.SockContext), &bpfhost.SockRun{})
			if err != nil || r != 1 || ctx.UserPort != 0x3500 { // htons(53) in memory
				t.Errorf("%s checked=%v: %d, %v, user_port %#x; want 1, 0x3500", engine, checked, r, err, ctx.UserPort)
			}
			coll.Close()
		}
	}
}

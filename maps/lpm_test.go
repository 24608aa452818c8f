package maps

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// lpmKey builds an LPM key from "10.0.0.0/8" or "2001:db8::/32".
func lpmKey(t testing.TB, cidr string) []byte {
	t.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.NativeEndian.AppendUint32(nil, uint32(p.Bits())), p.Addr().AsSlice()...)
}

func lpmString(k []byte) string {
	a, _ := netip.AddrFromSlice(k[4:])
	return fmt.Sprintf("%v/%d", a, binary.NativeEndian.Uint32(k))
}

func newLPMv4(t testing.TB, n uint32) *LPMTrieMap {
	return mustNew(t, Spec{Name: "lpm", Type: LPMTrie, KeySize: 8, ValueSize: 4, MaxEntries: n, Flags: FlagNoPrealloc}, 1).(*LPMTrieMap)
}

func TestLPMLookup(t *testing.T) {
	m := newLPMv4(t, 16)
	for i, cidr := range []string{"192.168.0.0/16", "192.168.0.0/24", "192.168.1.0/24", "192.168.128.0/24", "10.0.0.0/8", "10.1.2.3/32", "0.0.0.0/0"} {
		wantErrno(t, "Update "+cidr, m.Update(lpmKey(t, cidr), u32(uint32(i)), UpdateNoExist), 0)
	}
	cases := []struct {
		addr string
		want string // "" means ENOENT
	}{
		{"192.168.0.77/32", "192.168.0.0/24"},
		{"192.168.1.1/32", "192.168.1.0/24"},
		{"192.168.2.1/32", "192.168.0.0/16"},
		{"192.168.128.255/32", "192.168.128.0/24"},
		{"192.168.129.1/32", "192.168.0.0/16"},
		{"10.1.2.3/32", "10.1.2.3/32"},
		{"10.1.2.4/32", "10.0.0.0/8"},
		{"11.0.0.1/32", "0.0.0.0/0"},
		{"192.168.0.77/20", "192.168.0.0/16"}, // the key's prefix length bounds the match
		{"192.168.0.77/8", "0.0.0.0/0"},
	}
	index := map[string]uint32{"192.168.0.0/16": 0, "192.168.0.0/24": 1, "192.168.1.0/24": 2, "192.168.128.0/24": 3, "10.0.0.0/8": 4, "10.1.2.3/32": 5, "0.0.0.0/0": 6}
	for _, c := range cases {
		out := make([]byte, 4)
		wantErrno(t, "Lookup "+c.addr, m.Lookup(lpmKey(t, c.addr), out), 0)
		if got := binary.NativeEndian.Uint32(out); got != index[c.want] {
			t.Errorf("Lookup %s = %d, want %d (%s)", c.addr, got, index[c.want], c.want)
		}
		p := m.LookupPtr(lpmKey(t, c.addr), 0)
		if p == nil || *(*uint32)(p) != index[c.want] {
			t.Errorf("LookupPtr %s wrong", c.addr)
		}
	}
	// Without /0 an unmatched address is absent.
	wantErrno(t, "Delete /0", m.Delete(lpmKey(t, "0.0.0.0/0")), 0)
	wantErrno(t, "Lookup unmatched", m.Lookup(lpmKey(t, "11.0.0.1/32"), make([]byte, 4)), ENOENT)
	if m.LookupPtr(lpmKey(t, "11.0.0.1/32"), 0) != nil {
		t.Error("LookupPtr unmatched not nil")
	}
}

func TestLPMUpdateDelete(t *testing.T) {
	m := newLPMv4(t, 3)
	k := func(s string) []byte { return lpmKey(t, s) }
	wantErrno(t, "Update", m.Update(k("10.0.0.0/8"), u32(1), UpdateAny), 0)
	wantErrno(t, "Update noexist", m.Update(k("10.0.0.0/8"), u32(2), UpdateNoExist), EEXIST)
	wantErrno(t, "Update exist missing", m.Update(k("10.0.0.0/16"), u32(2), UpdateExist), ENOENT)
	wantErrno(t, "Update exist", m.Update(k("10.0.0.0/8"), u32(3), UpdateExist), 0)
	wantErrno(t, "Update bad flags", m.Update(k("10.0.0.0/8"), u32(3), UpdateLock), EINVAL)
	bad := k("10.0.0.0/8")
	binary.NativeEndian.PutUint32(bad, 33)
	wantErrno(t, "Update /33", m.Update(bad, u32(3), UpdateAny), EINVAL)
	wantErrno(t, "Delete /33", m.Delete(bad), EINVAL)
	wantErrno(t, "Update", m.Update(k("10.1.0.0/16"), u32(4), UpdateAny), 0)
	wantErrno(t, "Update", m.Update(k("10.2.0.0/16"), u32(5), UpdateAny), 0) // needs an intermediate node
	wantErrno(t, "Update full", m.Update(k("10.3.0.0/16"), u32(6), UpdateAny), ENOSPC)
	wantRet(t, "UpdateElem full", m.UpdateElem(k("10.3.0.0/16"), u32(6), 0, 0), ENOSPC)
	wantErrno(t, "Update existing when full", m.Update(k("10.1.0.0/16"), u32(7), UpdateAny), 0)
	// Delete matches exactly.
	wantErrno(t, "Delete inexact", m.Delete(k("10.1.0.0/17")), ENOENT)
	wantErrno(t, "Delete /8", m.Delete(k("10.0.0.0/8")), 0)
	wantErrno(t, "Delete again", m.Delete(k("10.0.0.0/8")), ENOENT)
	out := make([]byte, 4)
	wantErrno(t, "Lookup under deleted", m.Lookup(k("10.9.9.9/32"), out), ENOENT)
	wantErrno(t, "Lookup", m.Lookup(k("10.1.9.9/32"), out), 0)
	if binary.NativeEndian.Uint32(out) != 7 {
		t.Errorf("value %d, want 7", binary.NativeEndian.Uint32(out))
	}
	wantRet(t, "DeleteElem", m.DeleteElem(k("10.2.0.0/16")), 0)
	wantRet(t, "DeleteElem", m.DeleteElem(k("10.1.0.0/16")), 0)
	if got := keysOf(t, m); len(got) != 0 {
		t.Errorf("keys left: %d", len(got))
	}
	// All nodes went back: the trie can be filled again.
	for _, s := range []string{"1.0.0.0/8", "1.1.0.0/16", "1.2.0.0/16"} {
		wantErrno(t, "refill "+s, m.Update(k(s), u32(1), UpdateNoExist), 0)
	}
	wantErrno(t, "LookupAndDelete", m.LookupAndDelete(k("1.0.0.0/8"), out), ENOTSUPP)
	if m.ForEach(0, nil) != EOPNOTSUPP.Ret() {
		t.Error("ForEach on a trie")
	}
}

func TestLPMNextKey(t *testing.T) {
	// Linux's documented example: postorder, longer prefixes first, then
	// the shorter one containing them.
	m := newLPMv4(t, 16)
	for _, s := range []string{"192.168.0.0/16", "192.168.0.0/24", "192.168.128.0/24", "192.168.1.0/24"} {
		wantErrno(t, "Update", m.Update(lpmKey(t, s), u32(0), UpdateAny), 0)
	}
	var got []string
	for _, k := range keysOf(t, m) {
		got = append(got, lpmString(k))
	}
	want := []string{"192.168.0.0/24", "192.168.1.0/24", "192.168.128.0/24", "192.168.0.0/16"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	// An absent key restarts at the first.
	next := make([]byte, 8)
	wantErrno(t, "NextKey absent", m.NextKey(lpmKey(t, "1.2.3.0/24"), next), 0)
	if lpmString(next) != want[0] {
		t.Errorf("NextKey(absent) = %s", lpmString(next))
	}
	// Deleting the current key and continuing from it restarts too.
	wantErrno(t, "Delete", m.Delete(lpmKey(t, "192.168.1.0/24")), 0)
	wantErrno(t, "NextKey deleted", m.NextKey(lpmKey(t, "192.168.1.0/24"), next), 0)
	if lpmString(next) != want[0] {
		t.Errorf("NextKey(deleted) = %s", lpmString(next))
	}
	wantErrno(t, "NextKey", m.NextKey(lpmKey(t, "192.168.0.0/24"), next), 0)
	if lpmString(next) != "192.168.128.0/24" {
		t.Errorf("NextKey = %s", lpmString(next))
	}
	wantErrno(t, "NextKey last", m.NextKey(lpmKey(t, "192.168.0.0/16"), next), ENOENT)
}

func TestLPMIPv6(t *testing.T) {
	m := mustNew(t, Spec{Name: "lpm6", Type: LPMTrie, KeySize: 20, ValueSize: 8, MaxEntries: 8, Flags: FlagNoPrealloc}, 1).(*LPMTrieMap)
	routes := map[string]uint64{"::/0": 1, "2001:db8::/32": 2, "2001:db8:1::/48": 3, "2001:db8:1::1/128": 4, "fe80::/10": 5}
	for s, v := range routes {
		wantErrno(t, "Update "+s, m.Update(lpmKey(t, s), u64(v), UpdateAny), 0)
	}
	for _, c := range []struct {
		addr string
		want uint64
	}{
		{"2001:db8:1::1/128", 4}, {"2001:db8:1::2/128", 3}, {"2001:db8:2::1/128", 2},
		{"fe80::1/128", 5}, {"fec0::1/128", 1}, {"2001:db9::/128", 1},
	} {
		out := make([]byte, 8)
		wantErrno(t, "Lookup "+c.addr, m.Lookup(lpmKey(t, c.addr), out), 0)
		if got := binary.NativeEndian.Uint64(out); got != c.want {
			t.Errorf("Lookup %s = %d, want %d", c.addr, got, c.want)
		}
	}
	bad := lpmKey(t, "::/0")
	binary.NativeEndian.PutUint32(bad, 129)
	wantErrno(t, "Update /129", m.Update(bad, u64(0), UpdateAny), EINVAL)
	if got := len(keysOf(t, m)); got != len(routes) {
		t.Errorf("%d keys, want %d", got, len(routes))
	}
}

// TestLPMRandom checks the trie against a linear scan over random
// prefixes, inserts and deletes included.
func TestLPMRandom(t *testing.T) {
	m := newLPMv4(t, 64)
	stored := map[netip.Prefix]uint32{}
	seed := uint32(1)
	rnd := func(n uint32) uint32 { seed = seed*1103515245 + 12345; return (seed >> 8) % n }
	for step := 0; step < 3000; step++ {
		a := netip.AddrFrom4([4]byte{10, byte(rnd(4)), byte(rnd(256)), byte(rnd(256))})
		p, _ := a.Prefix(int(8 + rnd(25)))
		key := lpmKey(t, p.String())
		if rnd(3) == 0 {
			_, had := stored[p]
			err := m.Delete(key)
			if had {
				wantErrno(t, "Delete", err, 0)
				delete(stored, p)
			} else {
				wantErrno(t, "Delete", err, ENOENT)
			}
		} else if err := m.Update(key, u32(uint32(step)), UpdateAny); err == nil {
			stored[p] = uint32(step)
		} else {
			wantErrno(t, "Update", err, ENOSPC)
		}
		probe := netip.AddrFrom4([4]byte{10, byte(rnd(4)), byte(rnd(256)), byte(rnd(256))})
		best, bestLen := uint32(0), -1
		for q, v := range stored {
			if q.Contains(probe) && q.Bits() > bestLen {
				best, bestLen = v, q.Bits()
			}
		}
		out := make([]byte, 4)
		err := m.Lookup(lpmKey(t, probe.String()+"/32"), out)
		if bestLen < 0 {
			wantErrno(t, "Lookup", err, ENOENT)
		} else if err != nil || binary.NativeEndian.Uint32(out) != best {
			t.Fatalf("step %d: Lookup %v = %d, %v; want %d", step, probe, binary.NativeEndian.Uint32(out), err, best)
		}
	}
	if got := len(keysOf(t, m)); got != len(stored) {
		t.Errorf("%d keys, want %d", got, len(stored))
	}
}

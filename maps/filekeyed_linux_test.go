package maps

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// keyedSpecs are one map of each keyed type that memory files hold.
func keyedSpecs() []Spec {
	return []Spec{
		{Name: "hash", Type: Hash, KeySize: 6, ValueSize: 12, MaxEntries: 40},
		{Name: "percpu", Type: PerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 40},
		{Name: "lru", Type: LRUHash, KeySize: 4, ValueSize: 8, MaxEntries: 40},
		{Name: "lrupercpu", Type: LRUPerCPUHash, KeySize: 4, ValueSize: 8, MaxEntries: 40},
		{Name: "lpm", Type: LPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 40, Flags: FlagNoPrealloc},
	}
}

// newElemInFile is NewInFile for a map with a program side.
func newElemInFile(spec Spec, slots int, path string) (ElemMap, bool, error) {
	m, reused, err := NewInFile(spec, slots, path)
	if err != nil {
		return nil, false, err
	}
	return m.(ElemMap), reused, nil
}

// TestNewInFileKeyedKeepsEntries: for each keyed type, entries written the
// way programs write them (UpdateElem, stores through LookupPtr, DeleteElem)
// and through the API are in the file: a map over the same file, made
// without any flush, has the same contents, finds its keys (tries: longest
// prefix), and has exactly the free entries the first one had.
func TestNewInFileKeyedKeepsEntries(t *testing.T) {
	const slots = 3
	for _, spec := range keyedSpecs() {
		t.Run(spec.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), spec.Name)
			m, reused, err := newElemInFile(spec, slots, path)
			if err != nil || reused {
				t.Fatalf("new file: reused %v, %v", reused, err)
			}
			val := func(i int) []byte {
				v := make([]byte, spec.ValueSize)
				for j := range v {
					v[j] = byte(i*7 + j + 1)
				}
				return v
			}
			for i := range 30 {
				if r := m.UpdateElem(testKey(spec, i), val(i), 0, i%slots); r != 0 {
					t.Fatalf("UpdateElem %d: %d", i, r)
				}
			}
			for i := 0; i < 30; i += 4 {
				if r := m.DeleteElem(testKey(spec, i)); r != 0 {
					t.Fatalf("DeleteElem %d: %d", i, r)
				}
			}
			// A store through the value pointer, as a program's
			// __sync_fetch_and_add.
			p := m.LookupPtr(testKey(spec, 5), 5%slots)
			if p == nil {
				t.Fatal("LookupPtr of key 5: nil")
			}
			atomic.AddUint64((*uint64)(p), 1000)
			if !spec.Type.PerCPU() {
				if err := m.Update(testKey(spec, 31), val(31), UpdateAny); err != nil {
					t.Fatal(err)
				}
			}
			want := dumpMap(t, m, slots)
			m = nil

			m2, reused, err := newElemInFile(spec, slots, path)
			if err != nil || !reused {
				t.Fatalf("reopening: reused %v, %v", reused, err)
			}
			got := dumpMap(t, m2, slots)
			if len(got) != len(want) {
				t.Fatalf("%d entries after reopening, want %d", len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("key %x: %x after reopening, want %x", k, got[k], v)
				}
			}
			if m2.LookupPtr(testKey(spec, 4), 0) != nil && spec.Type != LPMTrie {
				t.Fatal("a deleted key is back")
			}
			if spec.Type == LPMTrie {
				// Key 13 is a /16; a /32 inside it finds it
				// by longest prefix.
				k := testKey(spec, 13)
				binary.NativeEndian.PutUint32(k, 32)
				if p := m2.LookupPtr(k, 0); p == nil || *(*byte)(p) != val(13)[0] {
					t.Fatal("longest-prefix lookup after reopening")
				}
			}
			// The free entries are the ones the first map had free.
			added := 0
			for i := 100; added < 100; i++ {
				r := m2.UpdateElem(testKey(spec, i), val(i), uint64(UpdateNoExist), 0)
				if r != 0 {
					if r == E2BIG.Ret() || r == ENOSPC.Ret() {
						break
					}
					continue // a trie key that repeats a prefix
				}
				added++
			}
			if spec.Type != LRUHash && spec.Type != LRUPerCPUHash && len(want)+added != int(spec.MaxEntries) {
				t.Fatalf("%d entries fit after reopening with %d, want %d in all", added, len(want), spec.MaxEntries)
			}
			if n := len(dumpMap(t, m2, slots)); n != int(spec.MaxEntries) {
				t.Fatalf("%d entries when full, want %d", n, spec.MaxEntries)
			}
			// Another reader sees the keys and in-use flags.
			mem, err := OpenMemory(path)
			if err != nil {
				t.Fatal(err)
			}
			defer mem.Close()
			inUse := 0
			for i := range spec.MaxEntries {
				k, ok, err := mem.Entry(i)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					inUse++
					if _, found := dumpMap(t, m2, slots)[string(k)]; !found {
						t.Fatalf("entry %d holds key %x, which the map does not have", i, k)
					}
				}
			}
			if inUse != int(spec.MaxEntries) {
				t.Fatalf("%d entries in use in the file, want %d", inUse, spec.MaxEntries)
			}
		})
	}
}

// TestNewInFileKeyedDamaged: a file whose in-use bytes or records were
// damaged by something else opens as a valid map: a flag byte other than
// 0 and 1 is free, a second copy of a key and an invalid trie prefix are
// dropped.
func TestNewInFileKeyedDamaged(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Name: "h", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 8}
	path := filepath.Join(dir, "h")
	m, _, err := newElemInFile(spec, 1, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m.UpdateElem(testKey(spec, i), make([]byte, 8), 0, 0)
	}
	m = nil
	l := layoutOf(spec, 1)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Entry 3 copies entry 0's record and is marked in use; entry 4 has
	// a flag of 7.
	rec := make([]byte, l.RecordStride)
	f.ReadAt(rec, int64(l.RecordsOffset()))
	f.WriteAt(rec, int64(l.RecordsOffset())+3*int64(l.RecordStride))
	f.WriteAt([]byte{1, 7}, int64(l.InUseOffset())+3)
	f.Close()
	m2, _, err := newElemInFile(spec, 1, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(dumpMap(t, m2, 1)); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
	for i := 10; i < 15; i++ {
		if r := m2.UpdateElem(testKey(spec, i), make([]byte, 8), 0, 0); r != 0 {
			t.Fatalf("insert %d into the 5 free entries: %d", i, r)
		}
	}
	if r := m2.UpdateElem(testKey(spec, 20), make([]byte, 8), 0, 0); r != E2BIG.Ret() {
		t.Fatalf("insert into a full map: %d", r)
	}

	lspec := Spec{Name: "lpm", Type: LPMTrie, KeySize: 8, ValueSize: 8, MaxEntries: 4, Flags: FlagNoPrealloc}
	lpath := filepath.Join(dir, "lpm")
	lm, _, err := newElemInFile(lspec, 1, lpath)
	if err != nil {
		t.Fatal(err)
	}
	lm.UpdateElem(testKey(lspec, 1), make([]byte, 8), 0, 0)
	lm = nil
	l = layoutOf(lspec, 1)
	f, err = os.OpenFile(lpath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := binary.NativeEndian.AppendUint32(nil, 33) // longer than the data
	f.WriteAt(bad, int64(l.RecordsOffset())+int64(l.RecordStride)+8)
	f.WriteAt([]byte{1}, int64(l.InUseOffset())+1)
	f.Close()
	lm2, _, err := newElemInFile(lspec, 1, lpath)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(dumpMap(t, lm2, 1)); n != 1 {
		t.Fatalf("%d prefixes, want 1", n)
	}
	for i := 2; i < 5; i++ {
		if r := lm2.UpdateElem(testKey(lspec, i), make([]byte, 8), 0, 0); r != 0 {
			t.Fatalf("insert %d into the 3 free slots: %d", i, r)
		}
	}
}

// TestNewInFileKeyedReplacementInFlight: a file in which a key is in use
// in two entries, as a kill between publishing a replacement and retiring
// the old entry leaves it, opens with the replacement: the entry whose
// generation follows the other's (1, 2, 3, 1, ...), whichever comes first
// in the file; the other entry is free again.
func TestNewInFileKeyedReplacementInFlight(t *testing.T) {
	specs := []Spec{
		{Name: "hash", Type: Hash, KeySize: 4, ValueSize: 24, MaxEntries: 4},
		{Name: "lru", Type: LRUHash, KeySize: 4, ValueSize: 24, MaxEntries: 4},
		{Name: "lpm", Type: LPMTrie, KeySize: 8, ValueSize: 24, MaxEntries: 4, Flags: FlagNoPrealloc},
	}
	for _, spec := range specs {
		for _, c := range []struct {
			gens [2]byte // of entries 0 and 1
			keep int     // the entry whose value stays
		}{{[2]byte{1, 2}, 1}, {[2]byte{2, 1}, 0}, {[2]byte{3, 1}, 1}, {[2]byte{1, 3}, 0}, {[2]byte{2, 3}, 1}} {
			t.Run(fmt.Sprintf("%s/%d%d", spec.Name, c.gens[0], c.gens[1]), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "m")
				m, _, err := newElemInFile(spec, 1, path)
				if err != nil {
					t.Fatal(err)
				}
				key := testKey(spec, 1)
				if r := m.UpdateElem(key, bytes.Repeat([]byte{0xa0}, 24), 0, 0); r != 0 {
					t.Fatal(r)
				}
				m = nil
				l := layoutOf(spec, 1)
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				rec := make([]byte, l.RecordStride)
				f.ReadAt(rec, int64(l.RecordsOffset()))
				f.WriteAt(rec, int64(l.RecordsOffset())+int64(l.RecordStride))
				f.WriteAt(bytes.Repeat([]byte{0xa1}, 24), MemoryFileHeader+int64(l.Stride))
				f.WriteAt(c.gens[:], int64(l.InUseOffset()))
				f.Close()

				m2, _, err := newElemInFile(spec, 1, path)
				if err != nil {
					t.Fatal(err)
				}
				got := dumpMap(t, m2, 1)
				if want := string(bytes.Repeat([]byte{0xa0 + byte(c.keep)}, 24)); len(got) != 1 || got[string(key)] != want {
					t.Fatalf("reopened: %x, want key %x with %x", got, key, want)
				}
				mem, err := OpenMemory(path)
				if err != nil {
					t.Fatal(err)
				}
				defer mem.Close()
				if _, inUse, _ := mem.Entry(uint32(1 - c.keep)); inUse {
					t.Fatal("the replaced entry is still in use")
				}
				// The three free entries take three new keys.
				for i := 2; i < 5; i++ {
					if r := m2.UpdateElem(testKey(spec, i), make([]byte, 24), uint64(UpdateNoExist), 0); r != 0 {
						t.Fatalf("insert %d: %d", i, r)
					}
				}
			})
		}
	}
}

// TestNewInFileKeyedLayouts: a hash map's file is not an LRU map's, nor a
// map's with another key size: errors that name both layouts.
func TestNewInFileKeyedLayouts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h")
	spec := Spec{Name: "h", Type: Hash, KeySize: 4, ValueSize: 8, MaxEntries: 8}
	if _, _, err := NewInFile(spec, 1, path); err != nil {
		t.Fatal(err)
	}
	other := spec
	other.Type = LRUHash
	if _, _, err := NewInFile(other, 1, path); err == nil || !strings.Contains(err.Error(), "remove the file") {
		t.Fatalf("LRU over a hash map's file: %v", err)
	}
	other = spec
	other.KeySize = 8
	if _, _, err := NewInFile(other, 1, path); err == nil {
		t.Fatal("another key size over a hash map's file")
	}
	mem, err := OpenMemory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if l := mem.Layout(); !l.Keyed() || l.RecordStride != 16 || l.FileSize() != 4*PageSize {
		t.Fatalf("layout %+v, file size %d", l, l.FileSize())
	}
}

// killEnv names the map a TestKilledWriter child writes until it is
// killed; killDirEnv its directory.
const (
	killEnv    = "BPFHOST_MAPS_KILL_TYPE"
	killDirEnv = "BPFHOST_MAPS_KILL_DIR"
)

// killOps is how many operations a killed writer makes at most.
const killOps = 2_000_000

// killSpec is the map a killed writer writes: 500 keys in turn, each
// inserted when absent and deleted when present.
func killSpec(name string) Spec {
	for _, s := range keyedSpecs() {
		if s.Name == name {
			s.MaxEntries = 600
			return s
		}
	}
	return Spec{}
}

// killOp is operation i: its key, and the value an insert stores.
func killOp(s Spec, i int) (key []byte, value []byte) {
	k := i % 500
	key = testKey(s, k)
	if s.Type == LPMTrie {
		binary.NativeEndian.PutUint32(key, 32)
		binary.BigEndian.PutUint32(key[4:], uint32(k))
	}
	value = make([]byte, max(s.ValueSize, 8))
	binary.NativeEndian.PutUint64(value, uint64(i)+1)
	return key, value[:s.ValueSize]
}

// TestKilledWriter is the child of TestNewInFileKeyedSIGKILL: it applies
// killOps operations to a keyed map in a memory file the way programs do
// (UpdateElem, DeleteElem), counting each acknowledged one in an array in
// another memory file, until the parent kills it. Without the parent's
// environment it does nothing.
func TestKilledWriter(t *testing.T) {
	name := os.Getenv(killEnv)
	if name == "" {
		t.Skip("the child of TestNewInFileKeyedSIGKILL")
	}
	dir := os.Getenv(killDirEnv)
	spec := killSpec(name)
	if w, ok := strings.CutSuffix(name, wideSuffix); ok {
		spec = wideSpec(w)
	}
	m, _, err := newElemInFile(spec, 2, filepath.Join(dir, "map"))
	if err != nil {
		t.Fatal(err)
	}
	pm, _, err := NewInFile(Spec{Name: "progress", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}, 1, filepath.Join(dir, "progress"))
	if err != nil {
		t.Fatal(err)
	}
	progress := (*uint64)(pm.(*ArrayMap).ValuePtr(0, 0))
	// The array must stay reachable: its mapping goes with it, and
	// progress points into it.
	defer runtime.KeepAlive(pm)
	if strings.HasSuffix(name, wideSuffix) {
		overwrite(t, m, spec, progress)
		return
	}
	fmt.Println("writing")
	for i := range killOps {
		if i == 1000 {
			fmt.Println("1000")
		}
		key, value := killOp(spec, i)
		if m.LookupPtr(key, 0) != nil {
			if r := m.DeleteElem(key); r != 0 {
				t.Fatalf("delete %d: %d", i, r)
			}
		} else if r := m.UpdateElem(key, value, uint64(UpdateNoExist), 0); r != 0 {
			t.Fatalf("insert %d: %d", i, r)
		}
		atomic.StoreUint64(progress, uint64(i)+1)
	}
	time.Sleep(time.Minute)
}

// wideSuffix marks the name of a map a killed writer overwrites (wideSpec).
const wideSuffix = "/wide"

// wideKeys is how many keys a killed overwriter updates in turn.
const wideKeys = 50

// wideSpec is killSpec with values of 256 bytes: copying one is 32 word
// stores, which a kill can interrupt.
func wideSpec(name string) Spec {
	s := killSpec(name)
	s.ValueSize = 256
	return s
}

// wideOp is overwrite i (i >= 0) of a killed overwriter: key i%wideKeys,
// and the byte that every byte of the new value is; the keys start with
// values of zeros (wideOp(-1)).
func wideOp(s Spec, i int) (key []byte, fill byte) {
	key, _ = killOp(s, (i+wideKeys)%wideKeys)
	return key, byte(i/wideKeys + 1)
}

// wideValue is a value of s whose bytes are all fill, every slot's for
// per-CPU maps (Update's layout).
func wideValue(s Spec, slots int, fill byte) []byte {
	n := int(s.ValueSize)
	if s.Type.PerCPU() {
		n = int(round8(uint64(n))) * slots
	}
	return bytes.Repeat([]byte{fill}, n)
}

// overwrite is TestKilledWriter for a wide map: it inserts wideKeys keys,
// then updates them in turn with wideOp's values until it is killed:
// programs' UpdateElem, except for per-CPU maps, whose program-side
// updates write one slot in place (as Linux's do): user space's Update,
// which writes every slot.
func overwrite(t *testing.T, m ElemMap, spec Spec, progress *uint64) {
	const slots = 2
	for k := range wideKeys {
		key, fill := wideOp(spec, k-wideKeys)
		if err := m.Update(key, wideValue(spec, slots, fill), UpdateNoExist); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Println("writing")
	for i := range killOps {
		if i == 1000 {
			fmt.Println("1000")
		}
		key, fill := wideOp(spec, i)
		if spec.Type.PerCPU() {
			if err := m.Update(key, wideValue(spec, slots, fill), UpdateExist); err != nil {
				t.Fatalf("update %d: %v", i, err)
			}
		} else if r := m.UpdateElem(key, wideValue(spec, slots, fill), uint64(UpdateExist), 0); r != 0 {
			t.Fatalf("update %d: %d", i, r)
		}
		atomic.StoreUint64(progress, uint64(i)+1)
	}
	time.Sleep(time.Minute)
}

// TestNewInFileKeyedSIGKILL: a process writing a keyed map in a memory
// file is killed with SIGKILL at a random moment; the map over the same
// file then holds every operation the process had completed, in order:
// the state after the acknowledged ones, or after one more (the one in
// flight), never a mix or a torn entry. A process that overwrites the
// values of keys in the map (wide ones, of identical bytes) leaves each
// key with its last acknowledged value or the one in flight, whole.
func TestNewInFileKeyedSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, spec := range keyedSpecs() {
		t.Run(spec.Name, func(t *testing.T) {
			for round := range 2 {
				killRound(t, killSpec(spec.Name), time.Duration(rand.IntN(10)+round*10)*time.Millisecond)
			}
		})
		t.Run(spec.Name+wideSuffix, func(t *testing.T) {
			for round := range 4 {
				killWideRound(t, spec.Name, time.Duration(rand.IntN(10)+round*5)*time.Millisecond)
			}
		})
	}
}

// startKilledWriter starts TestKilledWriter for the map name in dir, kills
// it after it has made 1000 operations and after, and returns how many
// it had acknowledged.
func startKilledWriter(t *testing.T, name, dir string, after time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$", "-test.v")
	cmd.Env = append(os.Environ(), killEnv+"="+name, killDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var said []string
	for sc.Scan() && sc.Text() != "1000" {
		said = append(said, sc.Text())
	}
	time.Sleep(after)
	cmd.Process.Kill()
	cmd.Wait()

	pm, _, err := NewInFile(Spec{Name: "progress", Type: Array, KeySize: 4, ValueSize: 8, MaxEntries: 1}, 1, filepath.Join(dir, "progress"))
	if err != nil {
		t.Fatal(err)
	}
	acked := int(*(*uint64)(pm.(*ArrayMap).ValuePtr(0, 0)))
	if acked < 1000 {
		t.Fatalf("killed after %d operations, before the child said it had made 1000; it said:\n%s", acked, strings.Join(said, "\n"))
	}
	if acked == killOps {
		t.Logf("killed after all %d operations: the kill missed the writes", killOps)
	}
	return acked
}

// killWideRound kills an overwriter of map name and checks that every key
// holds one whole value: its last acknowledged one, or the one in flight.
func killWideRound(t *testing.T, name string, after time.Duration) {
	dir := t.TempDir()
	spec := wideSpec(name)
	acked := startKilledWriter(t, name+wideSuffix, dir, after)
	m, reused, err := NewInFile(spec, 2, filepath.Join(dir, "map"))
	if err != nil || !reused {
		t.Fatalf("reopening: reused %v, %v", reused, err)
	}
	got := dumpMap(t, m, 2)
	if len(got) != wideKeys {
		t.Fatalf("after SIGKILL at %d acknowledged updates: %d entries, want %d", acked, len(got), wideKeys)
	}
	flight, flightFill := wideOp(spec, acked)
	for k := range wideKeys {
		key, fill := wideOp(spec, k-wideKeys)
		if last := acked - 1 - (acked-1-k+wideKeys)%wideKeys; last >= 0 {
			_, fill = wideOp(spec, last)
		}
		v, ok := got[string(key)]
		switch {
		case !ok:
			t.Fatalf("after SIGKILL at %d acknowledged updates: key %x is gone", acked, key)
		case v == string(wideValue(spec, 2, fill)):
		case string(key) == string(flight) && v == string(wideValue(spec, 2, flightFill)):
		default:
			t.Fatalf("after SIGKILL at %d acknowledged updates: key %x holds %x, want all %#x (or the update in flight's %#x)",
				acked, key, v, fill, flightFill)
		}
	}
}

func killRound(t *testing.T, spec Spec, after time.Duration) {
	dir := t.TempDir()
	acked := startKilledWriter(t, spec.Name, dir, after)
	m, reused, err := NewInFile(spec, 2, filepath.Join(dir, "map"))
	if err != nil || !reused {
		t.Fatalf("reopening: reused %v, %v", reused, err)
	}
	got := map[string]uint64{}
	for k, v := range dumpMap(t, m, 2) {
		got[k] = binary.NativeEndian.Uint64([]byte(v)[:8])
	}
	model := map[string]uint64{}
	for i := range acked {
		key, value := killOp(spec, i)
		if _, ok := model[string(key)]; ok {
			delete(model, string(key))
		} else {
			model[string(key)] = binary.NativeEndian.Uint64(append(value, make([]byte, 8)...))
		}
	}
	if equalModel(got, model) {
		return
	}
	// The operation in flight may have completed.
	key, value := killOp(spec, acked)
	if _, ok := model[string(key)]; ok {
		delete(model, string(key))
	} else {
		model[string(key)] = binary.NativeEndian.Uint64(append(value, make([]byte, 8)...))
	}
	if !equalModel(got, model) {
		t.Fatalf("after SIGKILL at %d acknowledged operations: %d entries, want %d (or the state one operation later)", acked, len(got), len(model))
	}
}

func equalModel(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if w, ok := a[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// BenchmarkHashInFile compares a hash map in a memory file with one in
// process memory (same code, other memory): program-side lookups and
// updates of 32,768 keys in a 65,536-entry map, and reopening the file
// (rebuilding the index from the entries in use).
func BenchmarkHashInFile(b *testing.B) {
	spec := Spec{Name: "h", Type: Hash, KeySize: 16, ValueSize: 8, MaxEntries: 1 << 16}
	path := filepath.Join(b.TempDir(), "h")
	fill := func(m ElemMap) {
		key := make([]byte, 16)
		for i := uint32(0); i < 1<<15; i++ {
			binary.NativeEndian.PutUint32(key, i)
			if r := m.UpdateElem(key, u64(1), 0, 0); r != 0 {
				b.Fatal(r)
			}
		}
	}
	inFile, _, err := newElemInFile(spec, 1, path)
	if err != nil {
		b.Fatal(err)
	}
	fill(inFile)
	inMem := mustNew(b, spec, 1).(ElemMap)
	fill(inMem)
	for _, c := range []struct {
		name string
		m    ElemMap
	}{{"memory", inMem}, {"file", inFile}} {
		b.Run("lookup/"+c.name, func(b *testing.B) {
			key := make([]byte, 16)
			for i := uint32(0); b.Loop(); i++ {
				binary.NativeEndian.PutUint32(key, i&(1<<15-1))
				if c.m.LookupPtr(key, 0) == nil {
					b.Fatal("missing")
				}
			}
		})
		b.Run("update/"+c.name, func(b *testing.B) {
			key, val := make([]byte, 16), u64(2)
			for i := uint32(0); b.Loop(); i++ {
				binary.NativeEndian.PutUint32(key, i&(1<<15-1))
				if c.m.UpdateElem(key, val, 0, 0) != 0 {
					b.Fatal("update failed")
				}
			}
		})
	}
	b.Run("reopen", func(b *testing.B) {
		for b.Loop() {
			if _, reused, err := NewInFile(spec, 1, path); err != nil || !reused {
				b.Fatal(reused, err)
			}
		}
	})
}

package bpfhost
import ("testing";"github.com/cilium/ebpf")
func TestDbgRemakeKernel(t *testing.T){
	ks, err := ebpf.LoadCollectionSpec("/tmp/va3/remake.o"); if err != nil {t.Fatal(err)}
	c, err := ebpf.NewCollection(ks)
	t.Logf("kernel: %v", err)
	if err == nil { r, err := c.Programs["remake"].Run(&ebpf.RunOptions{Data: make([]byte, 64)}); t.Logf("kernel run: %d %v", r, err); c.Close() }
	bs, err := LoadCollectionSpec("/tmp/va3/remake.o"); if err != nil {t.Fatal(err)}
	bc, err := NewCollection(bs, nil)
	t.Logf("bpfhost: %v", err)
	if err == nil { r, err := bc.Programs["remake"].Run(&RunOptions{Data: make([]byte, 64)}); t.Logf("bpfhost run: %d %v", r, err); bc.Close() }
}

package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapOut writes frames that leave bpfhost to a pcapng file (--pcap-out),
// with one pcapng interface per interface they leave on.
type pcapOut struct {
	mu   sync.Mutex
	file *os.File
	w    *pcapgo.NgWriter
	ids  map[int]int // ifindex -> pcapng interface ID, for write
	err  error
}

// newPcapOut creates path with the named interfaces, whose pcapng IDs are
// their positions in names.
func newPcapOut(path string, names []string) (*pcapOut, error) {
	file, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	p := &pcapOut{file: file, ids: map[int]int{}}
	for i, name := range names {
		intf := pcapgo.NgInterface{Name: name, LinkType: layers.LinkTypeEthernet, SnapLength: 0, TimestampResolution: 9}
		if i == 0 {
			p.w, err = pcapgo.NewNgWriterInterface(file, intf, pcapgo.DefaultNgWriterOptions)
		} else {
			_, err = p.w.AddInterface(intf)
		}
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("--pcap-out: %w", err)
		}
	}
	return p, nil
}

// write records a frame that left on the interface with index ifindex
// (hooks/xdp Options.Output).
func (p *pcapOut) write(ifindex int, frame []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.ids[ifindex]; ok {
		p.add(id, frame)
	}
}

// add records a frame on pcapng interface id; p.mu is held.
func (p *pcapOut) add(id int, frame []byte) {
	if p.err != nil {
		return
	}
	ci := gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(frame), Length: len(frame), InterfaceIndex: id}
	p.err = p.w.WritePacket(ci, frame)
}

// writeRunPcap writes the output packets of test runs (run --pcap-out), in
// order, on one pcapng interface "bpfhost-run"; refused runs have none.
func writeRunPcap(path string, runs []runResult) error {
	p, err := newPcapOut(path, []string{"bpfhost-run"})
	if err != nil {
		return fmt.Errorf("--pcap-out: %w", err)
	}
	p.mu.Lock()
	for _, r := range runs {
		if r.Error != "" {
			continue
		}
		frame, err := hex.DecodeString(r.DataOut)
		if err != nil {
			p.err = err
			break
		}
		p.add(0, frame)
	}
	p.mu.Unlock()
	return p.close()
}

func (p *pcapOut) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.err
	if ferr := p.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := p.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--pcap-out: %w", err)
	}
	return nil
}

package main

// "prog dump xlated name NAME" when several programs have that name:
// bpftool dumps each of them under its header.

import (
	"context"
	"fmt"
	"io"

	"github.com/bpfhost/bpfhost/daemon/api"
	"github.com/bpfhost/bpfhost/remote"
)

// programsNamed lists the programs of a name, by ID.
func programsNamed(c *remote.Client, name string) ([]api.ProgInfo, error) {
	all, err := c.Programs(context.Background())
	if err != nil {
		return nil, err
	}
	var out []api.ProgInfo
	for _, p := range all {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out, nil
}

// progXlatedHeader is one program in bpftool's JSON of a dump of several:
// its header fields, then its instructions.
type progXlatedHeader struct {
	ID            uint32        `json:"id"`
	Type          string        `json:"type"`
	Name          string        `json:"name"`
	Tag           string        `json:"tag"`
	GPLCompatible bool          `json:"gpl_compatible"`
	RunTimeNs     uint64        `json:"run_time_ns,omitempty"`
	RunCnt        uint64        `json:"run_cnt,omitempty"`
	Insns         []bpftoolInsn `json:"insns"`
}

// progXlatedMany dumps several programs' instructions as bpftool does:
// with -j a list of their headers with their instructions; for people,
// each program's header line and its instructions, programs apart by an
// empty line.
func progXlatedMany(out io.Writer, f *toolFlags, c *remote.Client, progs []api.ProgInfo, linum bool) error {
	docs := make([]progXlatedHeader, len(progs))
	for i, p := range progs {
		insns, err := c.Xlated(context.Background(), api.Ref{ID: p.ID})
		if err != nil {
			return err
		}
		if f.asJSON() {
			docs[i] = progXlatedHeader{ID: p.ID, Type: p.Type, Name: p.Name, Tag: p.Tag, GPLCompatible: p.GPLCompatible,
				RunTimeNs: p.RunTimeNs, RunCnt: p.RunCnt, Insns: xlatedJSON(insns, linum)}
			continue
		}
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%d: %s  name %s  tag %s", p.ID, p.Type, p.Name, p.Tag)
		if p.GPLCompatible {
			fmt.Fprint(out, "  gpl")
		}
		if p.RunCnt > 0 {
			fmt.Fprintf(out, " run_time_ns %d run_cnt %d", p.RunTimeNs, p.RunCnt)
		}
		fmt.Fprintln(out)
		printXlated(out, insns, linum)
	}
	if f.asJSON() {
		return f.emit(out, docs)
	}
	return nil
}

package main

import (
	"github.com/spf13/pflag"

	"github.com/bpfhost/bpfhost"
)

// engineValue is an --engine flag: its value is checked against
// bpfhost.Engines when the flag is parsed, so a bad name is a usage error
// that lists the valid ones.
type engineValue struct{ e *bpfhost.Engine }

func (v engineValue) String() string { return string(*v.e) }

func (v engineValue) Set(s string) error {
	e, err := bpfhost.ParseEngine(s)
	if err != nil {
		return err
	}
	*v.e = e
	return nil
}

func (v engineValue) Type() string { return "engine" }

// engineFlag adds an --engine flag to fs that sets *p, starting at def.
func engineFlag(fs *pflag.FlagSet, p *bpfhost.Engine, def bpfhost.Engine, usage string) {
	*p = def
	fs.Var(engineValue{p}, "engine", "execution engine: "+bpfhost.EngineNames()+usage)
}

package daemon

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
)

// funcProtos are the prototypes of the object's functions (programs and
// the functions they call), by name, as bpftool prints them above a
// function's instructions ("int count_packets(struct xdp_md * ctx)"),
// from the object's BTF; nil without BTF.
func funcProtos(object []byte) map[string]string {
	if len(object) == 0 {
		return nil
	}
	cs, err := ebpf.LoadCollectionSpecFromReader(bytes.NewReader(object))
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, ps := range cs.Programs {
		for i := range ps.Instructions {
			if fn := btf.FuncMetadata(&ps.Instructions[i]); fn != nil {
				if s, ok := btfTypeOnly(fn); ok {
					out[fn.Name] = strings.TrimSuffix(s, " ")
				}
			}
		}
	}
	return out
}

// btfTypeOnly prints a type as bpftool's btf_dumper_type_only does: a
// name followed by a space ("int ", "struct xdp_md "), a pointer as its
// target and "* ", a function as its return type, name and parameters;
// ok is false for what bpftool does not print.
func btfTypeOnly(t btf.Type) (string, bool) {
	var b strings.Builder
	var write func(t btf.Type) bool
	write = func(t btf.Type) bool {
		switch t := t.(type) {
		case *btf.Void:
			b.WriteString("void ")
		case *btf.Int:
			b.WriteString(t.Name + " ")
		case *btf.Typedef:
			b.WriteString(t.Name + " ")
		case *btf.Float:
			b.WriteString(t.Name + " ")
		case *btf.Struct:
			b.WriteString("struct " + t.Name + " ")
		case *btf.Union:
			b.WriteString("union " + t.Name + " ")
		case *btf.Enum:
			b.WriteString("enum " + t.Name + " ")
		case *btf.Fwd:
			kind := "struct"
			if t.Kind == btf.FwdUnion {
				kind = "union"
			}
			b.WriteString(kind + " " + t.Name + " ")
		case *btf.Array:
			if !write(t.Type) {
				return false
			}
			fmt.Fprintf(&b, "[%d]", t.Nelems)
		case *btf.Pointer:
			if !write(t.Target) {
				return false
			}
			b.WriteString("* ")
		case *btf.Volatile:
			b.WriteString("volatile ")
			return write(t.Type)
		case *btf.Const:
			b.WriteString("const ")
			return write(t.Type)
		case *btf.Restrict:
			b.WriteString("restrict ")
			return write(t.Type)
		case *btf.Func:
			proto, ok := t.Type.(*btf.FuncProto)
			return ok && writeFunc(&b, write, proto, t.Name)
		case *btf.FuncProto:
			return writeFunc(&b, write, t, "")
		default:
			return false
		}
		return true
	}
	if !write(t) {
		return "", false
	}
	return b.String(), true
}

// writeFunc writes a function's return type, name and parameters, as
// bpftool's btf_dump_func does.
func writeFunc(b *strings.Builder, write func(btf.Type) bool, proto *btf.FuncProto, name string) bool {
	if !write(proto.Return) {
		return false
	}
	b.WriteString(name + "(")
	for i, p := range proto.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.Type == nil {
			b.WriteString("...")
			continue
		}
		if !write(p.Type) {
			return false
		}
		if p.Name != "" {
			b.WriteString(p.Name)
		} else if s := b.String(); strings.HasSuffix(s, " ") {
			// No name: no space after the type.
			rest := s[:len(s)-1]
			b.Reset()
			b.WriteString(rest)
		}
	}
	b.WriteString(")")
	return true
}

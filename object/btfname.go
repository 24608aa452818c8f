package object

import (
	"strconv"

	"github.com/cilium/ebpf/btf"
)

// typeString names a BTF type the way C spells it ("struct foo", "__u32",
// "char *", "int[4]"), for messages and VariableSpec.Type.
func typeString(t btf.Type) string {
	return typeStringDepth(t, 0)
}

func typeStringDepth(t btf.Type, depth int) string {
	if depth > 16 {
		return "..."
	}
	tagged := func(kind, name string) string {
		if name == "" {
			return kind + " {...}"
		}
		return kind + " " + name
	}
	switch t := t.(type) {
	case nil, *btf.Void:
		return "void"
	case *btf.Int:
		return t.Name
	case *btf.Float:
		return t.Name
	case *btf.Struct:
		return tagged("struct", t.Name)
	case *btf.Union:
		return tagged("union", t.Name)
	case *btf.Enum:
		return tagged("enum", t.Name)
	case *btf.Fwd:
		if t.Kind == btf.FwdUnion {
			return "union " + t.Name
		}
		return "struct " + t.Name
	case *btf.Typedef:
		return t.Name
	case *btf.Pointer:
		return typeStringDepth(t.Target, depth+1) + " *"
	case *btf.Array:
		return typeStringDepth(t.Type, depth+1) + "[" + strconv.FormatUint(uint64(t.Nelems), 10) + "]"
	case *btf.Const:
		return "const " + typeStringDepth(t.Type, depth+1)
	case *btf.Volatile:
		return "volatile " + typeStringDepth(t.Type, depth+1)
	case *btf.Restrict:
		return typeStringDepth(t.Type, depth+1) + " restrict"
	case *btf.TypeTag:
		return typeStringDepth(t.Type, depth+1)
	case *btf.FuncProto:
		return "function"
	}
	if name := t.TypeName(); name != "" {
		return name
	}
	return "?"
}

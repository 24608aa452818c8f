package bpfhost

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
)

// Assigning a collection's objects to the fields of a struct, as
// cilium/ebpf's Collection.Assign and CollectionSpec.LoadAndAssign do (the
// shape bpf2go generates code for):
//
//	var objs struct {
//		Filter *bpfhost.Program `ebpf:"xdp_filter"`
//		Counts *bpfhost.Map     `ebpf:"counts"`
//	}
//	if err := bpfhost.LoadAndAssign(spec, &objs, nil); err != nil { ... }
//	defer objs.Filter.Close()
//	defer objs.Counts.Close()
//
// A field is assigned if it has an `ebpf:"name"` tag and type *Program,
// *Map or *Variable; untagged struct fields and pointers to structs are
// searched for more. In cilium/ebpf each program and map is a kernel object
// of its own; in bpfhost a collection is the unit that owns memory and
// execution slots, so LoadAndAssign's collection stays alive until every
// program and map it assigned has been closed, and then closes (with the
// objects nobody asked for: maps no field names, programs loaded because a
// program array holds them). Variables have no Close: they live as long as
// the collection (a struct of variables only gets a closed collection).

// assignment is what the objects LoadAndAssign handed out share: the
// collection they came from and how many of them are still open.
type assignment struct {
	coll *Collection
	open atomic.Int32
}

// assignedTo maps each *Program and *Map LoadAndAssign handed out to its
// assignment; Close removes it (closeAssigned).
var assignedTo sync.Map

// closeAssigned records that obj, if LoadAndAssign handed it out, is closed:
// the last one closes the collection.
func closeAssigned(obj any) error {
	a, ok := assignedTo.LoadAndDelete(obj)
	if !ok {
		return nil
	}
	if a.(*assignment).open.Add(-1) == 0 {
		return a.(*assignment).coll.Close()
	}
	return nil
}

var (
	programPtr  = reflect.TypeFor[*Program]()
	mapPtr      = reflect.TypeFor[*Map]()
	variablePtr = reflect.TypeFor[*Variable]()
)

// taggedField is a field with an `ebpf` tag.
type taggedField struct {
	name  string // the tag: the program's or map's name
	field string // the Go field's name, for errors
	v     reflect.Value
}

// taggedFields returns the tagged fields of the struct to points to, and
// of the untagged structs and pointers to structs it holds.
func taggedFields(to any) ([]taggedField, error) {
	v := reflect.ValueOf(to)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: assign to %T: want a non-nil pointer to a struct", ErrInvalid, to)
	}
	var out []taggedField
	err := collectTagged(v.Elem(), map[reflect.Type]bool{}, &out)
	return out, err
}

func collectTagged(v reflect.Value, seen map[reflect.Type]bool, out *[]taggedField) error {
	t := v.Type()
	if seen[t] {
		return fmt.Errorf("%w: assign: %s contains itself", ErrInvalid, t)
	}
	seen[t] = true
	defer delete(seen, t)
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if name := f.Tag.Get("ebpf"); name != "" {
			switch {
			case f.Type != programPtr && f.Type != mapPtr && f.Type != variablePtr:
				return fmt.Errorf("%w: assign: field %s (%s): want *bpfhost.Program, *bpfhost.Map or *bpfhost.Variable", ErrInvalid, f.Name, f.Type)
			case !fv.CanSet():
				return fmt.Errorf("%w: assign: field %s is not exported", ErrInvalid, f.Name)
			}
			*out = append(*out, taggedField{name: name, field: f.Name, v: fv})
			continue
		}
		switch {
		case f.Type.Kind() == reflect.Struct:
			if err := collectTagged(fv, seen, out); err != nil {
				return err
			}
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			if fv.IsNil() {
				return fmt.Errorf("%w: assign: field %s is a nil %s", ErrInvalid, f.Name, f.Type)
			}
			if err := collectTagged(fv.Elem(), seen, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolve finds the object each field names in c, refusing missing ones and
// one object in two fields.
func (c *Collection) resolve(fields []taggedField) ([]any, error) {
	objs := make([]any, len(fields))
	by := map[any]string{}
	for i, f := range fields {
		var obj any
		var ok bool
		switch f.v.Type() {
		case programPtr:
			obj, ok = c.Programs[f.name]
		case mapPtr:
			obj, ok = c.Maps[f.name]
		default:
			obj, ok = c.Variables[f.name]
		}
		if !ok {
			return nil, fmt.Errorf("%w: assign: field %s: no %s %q in the collection", ErrInvalid, f.field, strings.ToLower(f.v.Type().Elem().Name()), f.name)
		}
		if other, dup := by[obj]; dup {
			return nil, fmt.Errorf("%w: assign: field %s: %q is assigned to %s already", ErrInvalid, f.field, f.name, other)
		}
		by[obj] = f.field
		objs[i] = obj
	}
	return objs, nil
}

// Assign sets the fields of the struct to points to that have an
// `ebpf:"name"` tag to the collection's program or map of that name (see
// LoadAndAssign for the rules). Unlike cilium/ebpf's, the objects stay the
// collection's: Collection.Close closes them.
func (c *Collection) Assign(to any) error {
	if c.closed.Load() {
		return fmt.Errorf("assign: %w", ErrClosed)
	}
	fields, err := taggedFields(to)
	if err != nil {
		return err
	}
	objs, err := c.resolve(fields)
	if err != nil {
		return err
	}
	for i, f := range fields {
		f.v.Set(reflect.ValueOf(objs[i]))
	}
	return nil
}

// LoadAndAssign loads the programs that the fields of the struct to points
// to name (and those their program arrays reach; opts.Programs, if set,
// chooses instead) with every map of spec, and sets each field with an
// `ebpf:"name"` tag and type *Program, *Map or *Variable to that object.
// Nothing is set if an error is returned. The caller closes every object it was given:
// the last Close closes the collection they came from. A map field holds a
// handle of its own (as a duplicated descriptor would): its Close ends that
// handle only, the map lives on for the programs until the last Close.
func LoadAndAssign(spec *CollectionSpec, to any, opts *CollectionOptions) error {
	fields, err := taggedFields(to)
	if err != nil {
		return err
	}
	var o CollectionOptions
	if opts != nil {
		o = *opts
	}
	if o.Programs == nil {
		o.Programs = []string{}
		for _, f := range fields {
			if f.v.Type() == programPtr {
				o.Programs = append(o.Programs, f.name)
			}
		}
	}
	c, err := NewCollection(spec, &o)
	if err != nil {
		return err
	}
	objs, err := c.resolve(fields)
	if err != nil {
		return errors.Join(err, c.Close())
	}
	a := &assignment{coll: c}
	for i, obj := range objs {
		switch x := obj.(type) {
		case *Map:
			pinNS.mu.Lock()
			h := x.handleLocked()
			pinNS.mu.Unlock()
			h.user = true
			objs[i] = h
		case *Variable:
			continue // lives as long as the collection; has no Close
		}
		a.open.Add(1)
		assignedTo.Store(objs[i], a)
	}
	if a.open.Load() == 0 {
		return c.Close()
	}
	for i, f := range fields {
		f.v.Set(reflect.ValueOf(objs[i]))
	}
	return nil
}

// LoadCollection parses the object at path and loads all of it with the
// default options, as cilium/ebpf's LoadCollection does.
func LoadCollection(path string) (*Collection, error) {
	spec, err := LoadCollectionSpec(path)
	if err != nil {
		return nil, err
	}
	return NewCollection(spec, nil)
}

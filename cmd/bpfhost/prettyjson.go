package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// writeBpftoolPretty writes the JSON document doc laid out as bpftool's
// json_writer lays out pretty JSON (-p, and its output for people of maps
// with BTF): a name on its own line, indented four spaces a level; values
// in an array on one line; an object that follows another as "},{"; a
// closing bracket on its own line after members. A string that starts with
// a NUL character is written bare, without it (api.Entry.Formatted).
func writeBpftoolPretty(w io.Writer, doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var b strings.Builder
	depth := 0
	sep := byte(0) // what goes before the next element: 0 or ','
	// inObject tracks, per level, whether the level is an object (its
	// values follow names).
	var inObject []bool
	afterName := false
	eol := func() {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("    ", depth))
	}
	eor := func() {
		if sep != 0 {
			b.WriteByte(sep)
		}
		sep = ','
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if depth != 0 || afterName {
				return io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			return err
		}
		isName := len(inObject) > 0 && inObject[len(inObject)-1] && !afterName
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if !afterName {
					eor()
				}
				afterName = false
				b.WriteRune(rune(t))
				depth++
				sep = 0
				inObject = append(inObject, t == '{')
			default:
				depth--
				if sep != 0 {
					eol()
				}
				b.WriteRune(rune(t))
				sep = ','
				inObject = inObject[:len(inObject)-1]
			}
			continue
		case string:
			q, _ := json.Marshal(t)
			if isName {
				eor()
				eol()
				sep = 0
				b.Write(q)
				b.WriteString(": ")
				afterName = true
				continue
			}
			if !afterName {
				eor()
			}
			if bare, ok := strings.CutPrefix(t, "\x00"); ok {
				// What bpftool prints bare for people (api.Entry).
				b.WriteString(bare)
			} else {
				b.Write(q)
			}
		default:
			if !afterName {
				eor()
			}
			if t == nil {
				b.WriteString("null")
			} else {
				fmt.Fprint(&b, t)
			}
		}
		afterName = false
		sep = ','
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

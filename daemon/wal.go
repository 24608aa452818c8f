package daemon

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// Record operations of a map's write-ahead log.
const (
	walUpdate = 'U' // set key to value with flags
	walDelete = 'D' // delete key
	walClear  = 'C' // delete every key: the start of a snapshot
)

// walHeader is op (1), flags (8), key length (4), value length (4).
const walHeader = 1 + 8 + 4 + 4

// maxWALField bounds a key or value read back from a log, so that a
// corrupt length cannot allocate much: Linux's limits are far below it.
const maxWALField = 1 << 26

// walRecord is one operation of a map's log.
type walRecord struct {
	op         byte
	flags      uint64
	key, value []byte
}

// appendRecord encodes r with its CRC-32 after it.
func appendRecord(b []byte, r walRecord) []byte {
	start := len(b)
	b = append(b, r.op)
	b = binary.LittleEndian.AppendUint64(b, r.flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.key)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.value)))
	b = append(b, r.key...)
	b = append(b, r.value...)
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// readRecords reads a log's records until its end, or until a torn or
// corrupt record: a write the daemon did not finish (it was killed) and so
// never acknowledged. It returns the records and the length of the intact
// prefix.
func readRecords(r io.Reader) ([]walRecord, int64, error) {
	br := bufio.NewReader(r)
	var recs []walRecord
	var good int64
	for {
		hdr := make([]byte, walHeader)
		if _, err := io.ReadFull(br, hdr); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return recs, good, nil
			}
			return recs, good, err
		}
		kl, vl := binary.LittleEndian.Uint32(hdr[9:]), binary.LittleEndian.Uint32(hdr[13:])
		op := hdr[0]
		if (op != walUpdate && op != walDelete && op != walClear && op != walPop) || kl > maxWALField || vl > maxWALField {
			return recs, good, nil
		}
		body := make([]byte, int(kl)+int(vl)+4)
		if _, err := io.ReadFull(br, body); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return recs, good, nil
			}
			return recs, good, err
		}
		sum := crc32.NewIEEE()
		sum.Write(hdr)
		sum.Write(body[:kl+vl])
		if sum.Sum32() != binary.LittleEndian.Uint32(body[kl+vl:]) {
			return recs, good, nil
		}
		recs = append(recs, walRecord{op: op, flags: binary.LittleEndian.Uint64(hdr[1:]), key: body[:kl], value: body[kl : kl+vl]})
		good += int64(walHeader) + int64(len(body))
	}
}

// wal is a map's open write-ahead log.
type wal struct {
	path   string
	f      *os.File
	size   int64 // bytes in the file
	nosync bool  // append does not fsync (Options.NoSync)
}

// A log is compacted (replaced by a snapshot) after an update when it is
// bigger than walCompactMin and walCompactFactor times its map's memory;
// variables for tests.
var (
	walCompactMin    int64 = 4 << 20
	walCompactFactor int64 = 4
)

// compactLimit is the size over which the log of a map of mem bytes is
// compacted.
func compactLimit(mem int64) int64 { return max(walCompactMin, walCompactFactor*mem) }

// needsCompaction reports whether the log has outgrown a snapshot of a map
// of mem bytes enough to be replaced by one.
func (w *wal) needsCompaction(mem int64) bool { return w.size > compactLimit(mem) }

// openWAL opens (creating) the log at path for appending.
func openWAL(path string) (*wal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &wal{path: path, f: f, size: st.Size()}, nil
}

// append writes r and syncs it to disk: when it returns nil, the record
// survives the daemon being killed.
func (w *wal) append(r walRecord) error {
	b := appendRecord(nil, r)
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("map log %s: %w", w.path, err)
	}
	w.size += int64(len(b))
	if w.nosync {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("map log %s: sync: %w", w.path, err)
	}
	return nil
}

// replace atomically replaces the log's contents by recs (a snapshot),
// synced, and reopens it for appending.
func (w *wal) replace(recs []walRecord) error {
	var b []byte
	for _, r := range recs {
		b = appendRecord(b, r)
	}
	if err := writeFileSync(w.path, b); err != nil {
		return fmt.Errorf("map log %s: snapshot: %w", w.path, err)
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w.f.Close()
	w.f = f
	w.size = int64(len(b))
	return nil
}

func (w *wal) close() error { return w.f.Close() }

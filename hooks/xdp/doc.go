// Package xdp attaches verified XDP programs to live network interfaces: a
// user-space data path with the kernel's verdicts.
//
// Attach opens AF_PACKET sockets with memory-mapped TPACKET_V3 receive rings
// on an interface (and, in bridge mode, on its peer), spread over N workers
// with PACKET_FANOUT. Each worker copies a batch of received frames into
// pages with XDP_PACKET_HEADROOM (256 bytes) in front and tailroom behind,
// runs the program on the batch in one execution slot
// (bpfhost.Program.RunXDPBatch, the same context descriptor and helpers as a
// test run), and acts on each verdict:
//
//   - bridge mode (Options.Peer set): XDP_PASS forwards the (possibly
//     rewritten) frame to the other interface, XDP_TX sends it back out of
//     the interface it came from, XDP_DROP drops it, XDP_ABORTED drops it,
//     counts it and leaves a trace line, XDP_REDIRECT sends it to the
//     interface bpf_redirect or a devmap/devmap_hash entry names, which must
//     be attached in the same process (a cpumap target is a local
//     delivery: forwarded as XDP_PASS);
//   - monitor mode (no peer): the program sees every received frame and
//     updates its maps; verdicts are only counted, nothing is forwarded or
//     blocked (the kernel still delivers every frame).
//
// Frames leave with sendmmsg on the worker's socket, in batches; sockets
// ignore outgoing frames (PACKET_IGNORE_OUTGOING), so nothing loops.
// Bridged interfaces are put in promiscuous mode. Nothing is allocated per
// frame on the hot path. Options.LowLatency receives with TPACKET_V2 rings
// instead, frame by frame, for tens of microseconds of added latency rather
// than up to a millisecond (docs/decisions/0013-xdp-data-path.md).
//
// Link.Stats counts frames, bytes and program time per verdict; Link.Update
// swaps the program between batches; Link.Close detaches.
//
// The package works on Linux; elsewhere Attach returns ErrNotSupported.
package xdp

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
//     be attached in the same process (an entry's program, struct
//     bpf_devmap_val with a program ID for the fd, runs first with
//     egress_ifindex set, on a copy of its own for BPF_F_BROADCAST:
//     XDP_PASS sends, anything else drops); a frame redirected to a cpumap
//     entry for CPU c is copied to the queue of worker c mod workers, which
//     runs the entry's program on it (struct bpf_cpumap_val, with a
//     program ID for the fd; none: XDP_PASS) and delivers it (XDP_PASS:
//     forwarded to the peer, as the kernel passes it to the stack),
//     redirects or drops it, as Linux's cpumap kthread does on that CPU;
//   - monitor mode (no peer): the program sees every received frame and
//     updates its maps; verdicts are only counted, nothing is forwarded or
//     blocked (the kernel still delivers every frame).
//
// Frames leave with sendmmsg on the worker's socket, in batches; sockets
// ignore outgoing frames (PACKET_IGNORE_OUTGOING), so nothing loops.
// Bridged interfaces are put in promiscuous mode. Nothing is allocated per
// frame on the hot path. Options.LowLatency receives with TPACKET_V2 rings
// instead, frame by frame, for tens of microseconds of added latency rather
// than up to a millisecond (docs/decisions/0015-xdp-data-path.md).
//
// rx_queue_index is real: on an interface with several receive queues
// (ethtool channels), the sockets form a PACKET_FANOUT_QM group with one
// member per recorded queue mapping, so each socket knows the queue of its
// frames and reports what the kernel's generic XDP reports (a frame without
// a recorded queue is queue 0); a single-queue interface is spread over the
// workers by the CPU that received each frame (PACKET_FANOUT_CPU: where
// generic XDP would run it; by flow hash with more workers than CPUs),
// every frame queue 0.
//
// Frames are limited to the MTU, as in XDP. Attach turns off GRO and LRO on
// the interfaces (Close turns them on again; Options.KeepOffloads keeps
// them): they merge received segments into larger frames. Segmentation
// offload aggregates that a local sender (the far end of a veth pair) hands
// over unsegmented (TCP or UDP over IPv4 or IPv6) are cut into the segments
// its NIC would have sent (PACKET_VNET_HDR gives gso_type and gso_size),
// and the program runs on each; with TPACKET_V2 rings, or for what cannot
// be cut, they are dropped as oversize with one trace line saying so.
// Entry programs (SEC("xdp/devmap"), SEC("xdp/cpumap")) run only from map
// entries: Attach refuses them, as Linux does.
//
// Frames up to the MTU run, jumbo MTUs included: pages are sized for the
// largest MTU of the link's interfaces at Attach. Interfaces are attached
// per network namespace. An interface that goes down is waited for; one
// that goes away stops the link (Link.Done, Link.Err). Close runs the
// frames the rings already hold before it detaches
// (docs/decisions/0032-xdp-link-lifecycle.md).
//
// Link.Stats counts frames, bytes and program time per verdict, and the
// workers' CPU time; Link.Update swaps the program between batches;
// Link.Close detaches.
//
// The package works on Linux; elsewhere Attach returns ErrNotSupported.
package xdp

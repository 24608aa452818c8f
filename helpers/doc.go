// Package helpers implements Linux's BPF helper functions by their Linux
// IDs (enum bpf_func_id), for the engines of package vm.
//
// The runtime builds one table per set of programs with New(host) and puts
// it in vm.Program.Helpers; an ID the table lacks makes Compile fail with an
// error naming it. Host is the runtime's side: it resolves map arguments
// (the values lddw map references load) to maps.Map, turns map-of-maps
// handles into register values and prog_array handles into executables,
// and receives bpf_trace_printk output. Before each run that uses context
// or packet helpers, the runtime sets rc.Value to a *Run: the program type,
// the host context struct (platform/linux XDPContext, SKBContext) and the
// packet buffer. After the run, Run.Redirect says where bpf_redirect and
// bpf_redirect_map sent the packet. Kfuncs() is the table of the kfuncs
// bpfhost implements (the open-coded number iterator, iternum.go), by
// their numbers in the Linux ABI's kfunc table, for vm.Program.Kfuncs.
//
// # Semantics
//
// Each helper does what the Linux helper of that ID does (bpf-helpers(7)),
// including its error numbers: ordinary failures are negative errno return
// values (maps.Errno numbers), never Go errors. A helper returns an error,
// which stops the run, only for what a verified program cannot do: a
// memory argument outside the run's memory in checked mode (via
// rc.CheckArg, an *vm.AccessError), an unknown map in checked mode
// (ErrNotAMap), a missing or wrong *Run (ErrNoRun, ErrContext), a ring
// buffer record that was never reserved (ErrBadRecord), a socket released
// that the run does not hold (ErrBadSocket), a spin lock that
// stays taken too long (ErrLockTimeout), a
// callback that failed or that the engine cannot make.
//
// Keys and values are passed to the maps as slices over program memory
// (vm.Bytes): map lookup and update do not allocate.
//
// # Memory of checked runs
//
// Checked runs may only touch registered memory, so the runtime registers,
// besides the context and the packet, every map's value memory
// (maps.ElemMap.ValueMemory) and every ring buffer's data
// (maps.RingBufMap.DataMemory) as regions: programs dereference what
// bpf_map_lookup_elem and bpf_ringbuf_reserve return. The Packet region
// should be the whole Run.Packet buffer, since the xdp_adjust helpers move
// the packet inside it. bpf_for_each_map_elem adds each element's key and
// value as regions while its callback runs; the socket lookups add each
// socket they return as a read-only region until bpf_sk_release (or
// Run.Release) gives it back (socket.go).
//
// The probe_read helpers read only memory the run owns, in both modes: the
// live stack frames, rc.Regions, Run.Packet and Run.Ctx. Anything else
// reads as -EFAULT with the destination zeroed, as Linux's _nofault copies
// do for unmapped memory; a trusted runtime that wants probe_read to reach
// map values registers them as regions too. bpf_trace_printk,
// bpf_trace_vprintk and bpf_snprintf read %s and %pI arguments the same
// way.
//
// # Callbacks
//
// bpf_loop and bpf_for_each_map_elem call a BPF function of the running
// program through vm.RunContext.CallFunc, which the engine provides by
// setting rc.Call for programs that take function addresses (lddw src=4);
// Run.Call overrides it. The callback runs as a BPF-to-BPF call one frame
// below the helper's caller, on the run's budget; its errors stop the run.
// A callback that returns non-zero stops the iteration, as in Linux.
//
// # Cost
//
// A helper call is one instruction of the run's budget; the work a helper
// does beyond that is charged with vm.RunContext.Charge (cost.go): one unit
// per bpf_loop iteration, per element and per empty hash bucket that
// bpf_for_each_map_elem visits, per 64 bytes copied, compared or formatted.
// When the budget runs out, or the run's context is done, the helper stops
// and returns the error, which ends the run.
//
// # Differences from Linux
//
//   - bpf_get_smp_processor_id is the run's execution slot; NUMA node is 0.
//   - The current task is the host process: pid/tgid, uid/gid (0 on
//     Windows) and comm (the kernel's comm on Linux, the executable's name
//     elsewhere).
//   - bpf_ktime_get_ns and _coarse_ns are CLOCK_MONOTONIC; _boot_ns does
//     not advance while the host is suspended after start; bpf_jiffies64
//     counts HZ (1000) ticks from INITIAL_JIFFIES. Off Linux the clocks
//     count from process start.
//   - %p, %pK and %px print the address unhashed; %ps, %pS and %pB print
//     it as 0x... (no symbols).
//   - bpf_csum_diff returns the 16-bit folded sum of Linux 6.13 and later
//     (the same on every architecture) and keeps the older size rules:
//     multiples of 4, at most 512 bytes in all.
//   - sk_buffs are linear and have no checksum state (CHECKSUM_NONE):
//     BPF_F_RECOMPUTE_CSUM is accepted and has nothing to update;
//     bpf_get_hash_recalc hashes the flow with a per-process key.
//   - bpf_redirect_map accepts any map with u32 keys; an entry exists if a
//     lookup finds one. An xskmap never has one (bpfhost has no AF_XDP
//     sockets): the redirect takes its flags' action, as in Linux on a
//     queue no socket is bound to.
//   - bpf_tail_call returns -ENOENT or -E2BIG when it falls through
//     (Linux leaves r0 unspecified).
package helpers

package sockaddr

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bpfhost/bpfhost"
	"github.com/bpfhost/bpfhost/platform/linux"
)

// ErrNotSupported is returned where the hook cannot run (not Linux, or an
// architecture without a seccomp filter here).
var ErrNotSupported = errors.New("socket hooks are not supported on this OS")

// Attach names a program and the hook it runs on.
type Attach struct {
	// Type is the libbpf section name of the hook: "cgroup/connect4",
	// "cgroup/connect6", "cgroup/bind4", "cgroup/bind6",
	// "cgroup/sendmsg4", "cgroup/sendmsg6", "cgroup/recvmsg4",
	// "cgroup/recvmsg6", "cgroup/getpeername4", "cgroup/getpeername6",
	// "cgroup/getsockname4", "cgroup/getsockname6", "cgroup/sock_create",
	// "cgroup/post_bind4" or "cgroup/post_bind6" (see Types).
	Type string
	// Program is a loaded program of that attach type (cgroup_sock_addr;
	// cgroup_sock for sock_create and post_bind).
	Program *bpfhost.Program
}

// hook is a supervised operation and address family.
type hook int

const (
	hookConnect4 hook = iota
	hookConnect6
	hookBind4
	hookBind6
	hookSendmsg4
	hookSendmsg6
	hookGetpeername4
	hookGetpeername6
	hookGetsockname4
	hookGetsockname6
	hookSockCreate
	hookPostBind4
	hookPostBind6
	hookRecvmsg4
	hookRecvmsg6
	numHooks
)

// v6 reports whether the hook sees IPv6 addresses.
func (h hook) v6() bool {
	switch h {
	case hookConnect6, hookBind6, hookSendmsg6, hookGetpeername6, hookGetsockname6, hookRecvmsg6:
		return true
	}
	return false
}

var hookTypes = [numHooks]struct {
	name   string
	attach linux.AttachType
}{
	hookSockCreate: {"cgroup/sock_create", linux.AttachCGroupInetSockCreate},
	hookPostBind4:  {"cgroup/post_bind4", linux.AttachCGroupInet4PostBind},
	hookPostBind6:  {"cgroup/post_bind6", linux.AttachCGroupInet6PostBind},

	hookConnect4: {"cgroup/connect4", linux.AttachCGroupInet4Connect},
	hookConnect6: {"cgroup/connect6", linux.AttachCGroupInet6Connect},
	hookBind4:    {"cgroup/bind4", linux.AttachCGroupInet4Bind},
	hookBind6:    {"cgroup/bind6", linux.AttachCGroupInet6Bind},
	hookSendmsg4: {"cgroup/sendmsg4", linux.AttachCGroupUDP4Sendmsg},
	hookSendmsg6: {"cgroup/sendmsg6", linux.AttachCGroupUDP6Sendmsg},

	hookGetpeername4: {"cgroup/getpeername4", linux.AttachCGroupInet4Getpeername},
	hookGetpeername6: {"cgroup/getpeername6", linux.AttachCGroupInet6Getpeername},
	hookGetsockname4: {"cgroup/getsockname4", linux.AttachCGroupInet4Getsockname},
	hookGetsockname6: {"cgroup/getsockname6", linux.AttachCGroupInet6Getsockname},

	hookRecvmsg4: {"cgroup/recvmsg4", linux.AttachCGroupUDP4Recvmsg},
	hookRecvmsg6: {"cgroup/recvmsg6", linux.AttachCGroupUDP6Recvmsg},
}

// Types returns the attach types the hook supports, as libbpf section names.
func Types() []string {
	out := make([]string, 0, numHooks)
	for _, h := range hookTypes {
		out = append(out, h.name)
	}
	sort.Strings(out)
	return out
}

// parseHook checks an attachment and returns its hook.
func parseHook(a Attach) (hook, error) {
	if a.Program == nil {
		return 0, fmt.Errorf("attach %s: no program", a.Type)
	}
	for h, t := range hookTypes {
		if t.name != a.Type {
			continue
		}
		info := a.Program.TypeInfo()
		want := linux.CGroupSockAddr
		if h := hook(h); h == hookSockCreate || h == hookPostBind4 || h == hookPostBind6 {
			want = linux.CGroupSock
		}
		if info.Type != want || info.Attach != t.attach {
			return 0, fmt.Errorf("attach %s: program %q is %s, want a program of attach type %s", a.Type, a.Program.Name(), info, linux.AttachTypeName(t.attach))
		}
		return hook(h), nil
	}
	return 0, fmt.Errorf("attach type %q: want one of %s", a.Type, strings.Join(Types(), ", "))
}

// ProgramStats counts what one attached program did.
type ProgramStats struct {
	// Name is the program's name and AttachType the hook's section name.
	Name, AttachType string
	// Runs counts the runs, Denied those that refused the call and
	// Rewritten those that changed the address or port.
	Runs, Denied, Rewritten uint64
}

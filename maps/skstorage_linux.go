package maps

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// socketOfFD identifies the socket open as fd in this process (as Linux's
// sockfd_lookup, EBADF or ENOTSOCK).
func socketOfFD(fd int32) (SocketID, Errno) {
	var st unix.Stat_t
	if err := unix.Fstat(int(fd), &st); err != nil {
		return SocketID{}, EBADF
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return SocketID{}, enotsock
	}
	c, err := unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_COOKIE)
	if err != nil {
		return SocketID{}, EINVAL
	}
	return SocketID{Cookie: c, Inode: st.Ino}, 0
}

// liveSocketInodes returns the inodes of the sockets that some process's
// file descriptors name ("socket:[N]" in /proc/PID/fd). Processes whose
// descriptors this one may not read (another user's, or outside its
// namespaces) count as holding none: a socket passed only to such a
// process loses its values (docs/decisions/0038-sock-addr-socket.md).
func liveSocketInodes() (map[uint64]bool, error) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	live := map[uint64]bool{}
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		dir := "/proc/" + p.Name() + "/fd/"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, fd := range fds {
			l, err := os.Readlink(dir + fd.Name())
			if n, ok := strings.CutPrefix(l, "socket:["); ok && err == nil {
				if ino, err := strconv.ParseUint(strings.TrimSuffix(n, "]"), 10, 64); err == nil {
					live[ino] = true
				}
			}
		}
	}
	return live, nil
}

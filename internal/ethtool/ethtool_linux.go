// Package ethtool reads and sets an interface's offload settings with the
// SIOCETHTOOL ioctl (linux/ethtool.h), on a socket: the interface is looked
// up in the socket's network namespace, whichever thread calls.
package ethtool

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ethtool_value commands (linux/ethtool.h).
const (
	GTSO   = 0x1e // ETHTOOL_GTSO
	STSO   = 0x1f // ETHTOOL_STSO
	GGSO   = 0x23 // ETHTOOL_GGSO
	SGSO   = 0x24 // ETHTOOL_SGSO
	GFlags = 0x25 // ETHTOOL_GFLAGS
	SFlags = 0x26 // ETHTOOL_SFLAGS
	GGRO   = 0x2b // ETHTOOL_GGRO
	SGRO   = 0x2c // ETHTOOL_SGRO

	// FlagLRO is large receive offload in the GFlags/SFlags value.
	FlagLRO = 1 << 15 // ETH_FLAG_LRO
)

const siocEthtool = 0x8946

// ioctl issues an ethtool command whose structure, starting with the
// command, is at arg.
func ioctl(fd int, dev string, arg unsafe.Pointer) error {
	if len(dev) >= unix.IFNAMSIZ {
		return fmt.Errorf("ethtool: interface name %q too long", dev)
	}
	var ifr [40]byte // struct ifreq: the name, then a pointer to the command
	copy(ifr[:unix.IFNAMSIZ], dev)
	*(*uintptr)(unsafe.Pointer(&ifr[unix.IFNAMSIZ])) = uintptr(arg)
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocEthtool, uintptr(unsafe.Pointer(&ifr)))
	if errno != 0 {
		return fmt.Errorf("ethtool %s cmd %#x: %w", dev, *(*uint32)(arg), errno)
	}
	return nil
}

// value issues one ethtool_value command (Get or Set) on dev through fd.
func value(fd int, dev string, cmd, v uint32) (uint32, error) {
	val := [2]uint32{cmd, v}
	err := ioctl(fd, dev, unsafe.Pointer(&val))
	runtime.KeepAlive(&val)
	return val[1], err
}

// Get returns the value of a G* command for dev, through socket fd.
func Get(fd int, dev string, cmd uint32) (uint32, error) { return value(fd, dev, cmd, 0) }

// Set issues an S* command for dev with value v, through socket fd.
func Set(fd int, dev string, cmd, v uint32) error {
	_, err := value(fd, dev, cmd, v)
	return err
}

// Channels are the queue counts of an interface (struct ethtool_channels).
type Channels struct {
	MaxRX, MaxTX, MaxOther, MaxCombined uint32
	RX, TX, Other, Combined             uint32
}

// GetChannels returns dev's channels (ETHTOOL_GCHANNELS), through socket
// fd; drivers without channels fail with EOPNOTSUPP.
func GetChannels(fd int, dev string) (Channels, error) {
	var arg struct {
		cmd uint32
		ch  Channels
	}
	arg.cmd = 0x3c // ETHTOOL_GCHANNELS
	err := ioctl(fd, dev, unsafe.Pointer(&arg))
	runtime.KeepAlive(&arg)
	return arg.ch, err
}

//go:build !linux

package bench

import "testing"

func runKernel(b *testing.B, prog string) { b.Skip("no Linux kernel to compare with on this OS") }

func runKernelRingbuf(b *testing.B) { b.Skip("no Linux kernel to compare with on this OS") }

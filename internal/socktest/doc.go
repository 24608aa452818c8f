// Package socktest gives tests of the socket lookup helpers real sockets to
// find (Linux): a TCP listener, a connection to it and a bound UDP socket on
// 127.0.0.1, and the packets that name them.
package socktest

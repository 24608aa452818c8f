# The cost of send(2) without an address (decision 0038): a TCP send and a
# send on a UDPv6 socket connected to an IPv4-mapped peer, 5 rounds of 2,000,
# median in microseconds. Run it alone and under bpfhost exec, e.g.
#   bpfhost exec --attach cgroup/sendmsg4=hooks/sockaddr/testdata/sockaddr.o:redirect_udp -- python3 hooks/sockaddr/testdata/sendcost.py
# A server on 127.0.0.1:9 and :10 (UDP) keeps the UDP sends from failing with
# ECONNREFUSED.
import socket, time, threading
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
def drain():
    c, _ = srv.accept()
    while c.recv(65536): pass
threading.Thread(target=drain, daemon=True).start()
s = socket.create_connection(srv.getsockname())
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.connect(("::ffff:127.0.0.1", 9))
for name, sock in (("tcp send", s), ("udp6 mapped send", u)):
    ts = []
    for r in range(5):
        t0 = time.perf_counter_ns()
        for i in range(2000): sock.send(b"x"*64)
        ts.append((time.perf_counter_ns()-t0)/2000/1000)
    print(name, "median us", sorted(ts)[2])

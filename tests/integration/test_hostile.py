#!/usr/bin/env python3
"""Hostile clients: slowloris, slow bodies, slow readers, connection floods,
descriptor exhaustion and 10,000 idle keep-alive connections.

Every test is bounded in connections and time and talks to 127.0.0.1 only;
the module as a whole stays under ~90 s.  Sockets this module closes in bulk
are reset (SO_LINGER 0) so that no ephemeral ports linger in TIME_WAIT.
"""
import errno
import os
import re
import resource
import selectors
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import HOST, Server, Skip, TestFailure, check, eq, run, wait_for  # noqa: E402

harness.TEST_TIMEOUT = 40  # the 10,000-connection test needs more than the default 25 s

ROUTES = r"""
routes:
  - GET /:
      text: "ok\n"
  - "* /body":
      echo: body
  - GET /f/{name}:
      files: %s
"""

BIG_FILE = 32 * 1024 * 1024  # more than loopback socket buffers hold


def server(extra="", big_file=False, **kw):
    root = tempfile.mkdtemp(prefix="yhttpd-hostile-")
    if big_file:
        with open(os.path.join(root, "big.bin"), "wb") as f:
            f.truncate(BIG_FILE)  # sparse: costs no disk
    return Server(extra + ROUTES % root, **kw)


# ------------------------------------------------------------------ helpers

def reset_close(sock):
    """Closes with RST: no TIME_WAIT left behind on our side."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def open_many(port, n, timeout=5.0):
    """n connected sockets (non-blocking connects, then blocking with a timeout).
    Connections the server has not accepted yet still complete in its backlog."""
    socks = []
    sel = selectors.DefaultSelector()
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((HOST, port))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                raise TestFailure("connect: %s" % os.strerror(rc))
            socks.append(s)
            sel.register(s, selectors.EVENT_WRITE)
        pending = len(socks)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=deadline - time.monotonic()):
                sel.unregister(key.fileobj)
                pending -= 1
                err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise TestFailure("connect: %s" % os.strerror(err))
        check(pending == 0, "%d of %d connects still pending after %.0f s"
              % (pending, n, timeout))
        for s in socks:
            s.settimeout(3.0)
        return socks
    except BaseException:
        for s in socks:
            reset_close(s)
        raise
    finally:
        sel.close()


def timed_request(port, path="/", timeout=2.0):
    """One GET on a new connection (Connection: close); returns (status, seconds)."""
    t0 = time.monotonic()
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", data)
    check(m is not None, "bad answer %r" % data[:100])
    return int(m.group(1)), time.monotonic() - t0


def p99(samples):
    """Nearest-rank 99th percentile."""
    s = sorted(samples)
    return s[max(0, -(-len(s) * 99 // 100) - 1)]


def settled_socket_fds(pid):
    """The server's socket count once the start-up probe connection is gone."""
    time.sleep(0.2)
    return socket_fds(pid)


def socket_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise TestFailure("no VmRSS for %d" % pid)


def raise_nofile(want):
    """Raises our soft RLIMIT_NOFILE (children inherit it); Skip when the hard
    limit is too low.  Returns the old soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        raise Skip("RLIMIT_NOFILE hard limit %d < %d" % (hard, want))
    if soft == resource.RLIM_INFINITY or soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return soft


class Prober:
    """A normal client making a request every `interval` while an attack runs."""

    def __init__(self, port, count, interval):
        self.port, self.count, self.interval = port, count, interval
        self.latencies, self.failures = [], []
        self.next = time.monotonic()

    def due(self):
        return len(self.latencies) + len(self.failures) < self.count and \
            time.monotonic() >= self.next

    def probe(self):
        self.next = time.monotonic() + self.interval
        try:
            status, dt = timed_request(self.port)
            if status != 200:
                self.failures.append("status %d" % status)
            self.latencies.append(dt)
        except (OSError, TestFailure) as e:
            self.failures.append(str(e))

    def finish(self):
        while len(self.latencies) + len(self.failures) < self.count:
            self.probe()

    def verdict(self, what, bound=0.100, at_least=None):
        check(not self.failures, "%s: normal client failed: %s" % (what, self.failures[:5]))
        if at_least is None:
            eq(len(self.latencies), self.count, what + ": normal requests made")
        else:
            check(len(self.latencies) >= at_least, "%s: only %d normal requests made"
                  % (what, len(self.latencies)))
        worst = p99(self.latencies)
        print("  %s: %d normal requests, p99 %.1f ms, max %.1f ms"
              % (what, len(self.latencies), worst * 1000, max(self.latencies) * 1000))
        check(worst < bound, "%s: normal client p99 %.0f ms >= %.0f ms"
              % (what, worst * 1000, bound * 1000))


# ------------------------------------------------------------------ slowloris

SLOW_HEAD = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64


def test_slowloris_raw_sockets():
    # 300 connections, each sending one header byte a second and reopened
    # when the server closes it, for 4.5 s; timeouts.header is 2 s.  Every
    # one must get 408 and a close about 2 s after it connected, while a
    # normal client gets 100 answers (a new connection each) with p99 < 100 ms.
    header_timeout, n, attack = 2.0, 300, 4.5
    with server("timeouts: {header: 2s}\n") as s:
        sel = selectors.DefaultSelector()
        state = {}
        done = []  # (seconds from connect to 408, closed)

        def open_attacker():
            sock = socket.create_connection((HOST, s.port), timeout=2)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            st = {"t0": time.monotonic(), "pos": 1, "buf": b"", "t408": None}
            sock.send(SLOW_HEAD[:1])
            state[sock] = st
            sel.register(sock, selectors.EVENT_READ)

        t_start = time.monotonic()
        try:
            for _ in range(n):
                open_attacker()
            prober = Prober(s.port, 100, attack / 100)
            next_tick = time.monotonic() + 1.0
            end = t_start + attack + header_timeout + 1.5
            while state and time.monotonic() < end:
                now = time.monotonic()
                if now >= next_tick:
                    next_tick += 1.0
                    for sock, st in list(state.items()):
                        if st["t408"] is None and st["pos"] < len(SLOW_HEAD):
                            try:
                                sock.send(SLOW_HEAD[st["pos"]:st["pos"] + 1])
                                st["pos"] += 1
                            except OSError:
                                pass  # the server may close it at any moment
                if prober.due():
                    prober.probe()
                for key, _ in sel.select(timeout=0.01):
                    sock = key.fileobj
                    st = state[sock]
                    try:
                        chunk = sock.recv(4096)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        chunk = b""
                    st["buf"] += chunk
                    if st["t408"] is None and b"\r\n\r\n" in st["buf"]:
                        st["t408"] = time.monotonic() - st["t0"]
                    if not chunk:
                        status = st["buf"][9:12]
                        done.append((st["t408"], status, time.monotonic() - st["t0"]))
                        sel.unregister(sock)
                        del state[sock]
                        reset_close(sock)
                        if time.monotonic() - t_start < attack:
                            open_attacker()  # keep the pool full, like slowloris does
        finally:
            for sock in list(state):
                reset_close(sock)
            sel.close()
        check(not state, "%d attacker connections still open at the end" % len(state))
        check(len(done) >= 2 * n, "only %d attacker connections ended" % len(done))
        bad = [d for d in done if d[1] != b"408"]
        check(not bad, "%d of %d attackers got no 408: %r" % (len(bad), len(done), bad[:3]))
        times = sorted(d[0] for d in done)
        closes = sorted(d[2] for d in done)
        print("  %d attacker connections: 408 after %.2f..%.2f s, closed by %.2f s"
              % (len(done), times[0], times[-1], closes[-1]))
        check(times[0] >= header_timeout - 0.1 and times[-1] <= header_timeout + 1.0,
              "408 after %.2f..%.2f s, want about %.0f s" % (times[0], times[-1], header_timeout))
        check(closes[-1] <= header_timeout + 1.5, "a connection closed %.2f s after it opened"
              % closes[-1])
        prober.verdict("slowloris")


def test_slow_body_408():
    # Content-Length: 1000, one body byte a second: the body never stalls for
    # timeouts.body (2 s), but it does not progress either: 408 and close.
    with server("timeouts: {body: 2s}\n") as s:
        conns = []
        sel = selectors.DefaultSelector()
        try:
            for i in range(20):
                c = s.connect()
                c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
                conns.append(c)
                sel.register(c.sock, selectors.EVENT_READ, i)
            t0 = time.monotonic()
            next_byte = t0
            prober = Prober(s.port, 20, 0.15)
            answered = {}
            while len(answered) < len(conns) and time.monotonic() - t0 < 5.0:
                if time.monotonic() >= next_byte:
                    next_byte += 1.0
                    for i, c in enumerate(conns):
                        if i not in answered:
                            try:
                                c.send(b"x")
                            except OSError:
                                pass
                if prober.due():
                    prober.probe()
                for key, _ in sel.select(timeout=0.01):
                    answered.setdefault(key.data, time.monotonic() - t0)
                    sel.unregister(key.fileobj)
            eq(len(answered), len(conns), "slow bodies answered within 5 s")
            for c in conns:
                r = c.read_response()
                eq(r.status, 408)
                eq(r.header("Connection"), "close")
                check(c.closed_within(2.0), "not closed after the 408")
            first, last = min(answered.values()), max(answered.values())
            print("  slow bodies: 408 after %.2f..%.2f s" % (first, last))
            check(1.8 <= first and last <= 3.0, "408 after %.2f..%.2f s, want about 2 s"
                  % (first, last))
            prober.finish()
            prober.verdict("slow body", bound=0.5)
        finally:
            sel.close()
            for c in conns:
                c.close()


def test_slow_reader_closed_after_write_timeout():
    # A client asks for 32 MiB and never reads: once the socket is full the
    # server waits timeouts.write (2 s), then closes; others are served.
    with server("timeouts: {write: 2s}\n", big_file=True) as s:
        base = settled_socket_fds(s.pid)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        try:
            sock.settimeout(3)
            sock.connect((HOST, s.port))
            sock.sendall(b"GET /f/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            t0 = time.monotonic()
            prober = Prober(s.port, 20, 0.1)
            while time.monotonic() - t0 < 1.5:
                if prober.due():
                    prober.probe()
                time.sleep(0.01)
            eq(socket_fds(s.pid), base + 1, "the slow reader is still connected at 1.5 s")
            gone = wait_for(lambda: socket_fds(s.pid) == base, 3.0)
            elapsed = time.monotonic() - t0
            check(gone, "slow reader still connected after %.1f s" % elapsed)
            print("  slow reader closed %.2f s after its request" % elapsed)
            check(elapsed <= 4.0, "closed after %.2f s, want about 2 s" % elapsed)
            # What it can still read is a truncated answer, then EOF (or RST).
            got = 0
            try:
                while True:
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        break
                    got += len(chunk)
            except (ConnectionResetError, socket.timeout):
                pass
            check(got < BIG_FILE, "the whole file arrived (%d bytes)" % got)
            prober.finish()
            prober.verdict("slow reader", bound=0.5)
        finally:
            reset_close(sock)


def test_slowhttptest():
    # Debian's slowhttptest, slow headers then slow body, 200 connections
    # opened at 50/s, at most 10 s each: a normal client keeps being served.
    tool = shutil.which("slowhttptest")
    if not tool:
        raise Skip("slowhttptest is not installed (apt-get install slowhttptest)")
    with server("timeouts: {header: 2s, body: 2s}\n") as s:
        results = []
        for mode in (["-H"], ["-B", "-s", "8192"]):
            out = tempfile.TemporaryFile(mode="w+")
            p = subprocess.Popen([tool] + mode + ["-c", "200", "-r", "50", "-i", "1",
                                                  "-l", "10", "-p", "2",
                                                  "-u", "http://%s:%d/body" % (HOST, s.port)],
                                 stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
            t0 = time.monotonic()
            try:
                prober = Prober(s.port, 1000, 0.1)
                while p.poll() is None and time.monotonic() - t0 < 15:
                    if prober.due():
                        prober.probe()
                    time.sleep(0.01)
                check(p.poll() is not None, "slowhttptest %s still running after 15 s" % mode[0])
            finally:
                if p.poll() is None:
                    p.kill()
                p.wait(timeout=5)
                out.seek(0)
                text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out.read())
                out.close()
            avail = re.findall(r"service available:\s*(\w+)", text)
            ended = re.findall(r"Test ended on (\d+)\w* second", text)
            results.append("%s: %.1f s, ended on second %s, service available %s"
                           % (mode[0], time.monotonic() - t0, ended[-1] if ended else "?",
                              "/".join(sorted(set(avail))) or "?"))
            check("NO" not in avail, "slowhttptest %s saw the service down:\n%s"
                  % (mode[0], text[-1500:]))
            prober.verdict("slowhttptest " + mode[0], bound=0.5, at_least=20)
        print("  slowhttptest: " + "; ".join(results))


# ------------------------------------------------------------------ floods

def test_connection_flood_over_limit():
    # limits.connections: 50, 200 connections: the worker holds 50, the rest
    # wait in the listen queue and are served as slots free up.
    with server("limits: {connections: 50}\n") as s:
        base = settled_socket_fds(s.pid)
        socks = open_many(s.port, 200)
        try:
            wait_for(lambda: socket_fds(s.pid) - base >= 50, 2.0)
            time.sleep(0.3)  # time to accept more, were it to
            held = socket_fds(s.pid) - base
            print("  200 connections opened: the server holds %d" % held)
            eq(held, 50, "connections the worker accepted")
            t0 = time.monotonic()
            for sock in socks:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answered = 0
            for sock in socks:
                data = b""
                while True:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"HTTP/1.1 200 ") and data.endswith(b"\r\n\r\nok\n"):
                    answered += 1
                sock.close()  # frees its slot at once (the server lingers until we close)
            eq(answered, 200, "answers to the flood (served as slots free up)")
            print("  all 200 answered in %.2f s" % (time.monotonic() - t0))
        finally:
            for sock in socks:
                reset_close(sock)
        check(s.proc.poll() is None, "server died")
        status, dt = timed_request(s.port)
        eq(status, 200, "a request after the flood")


def test_connection_flood_idle_then_recovery():
    # 200 idle connections against a limit of 50: a new client waits in the
    # queue; when the flood goes away it is served.
    with server("limits: {connections: 50}\n") as s:
        socks = open_many(s.port, 200)
        try:
            time.sleep(0.2)
            late = socket.create_connection((HOST, s.port), timeout=3)
            late.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            late.settimeout(0.5)
            try:
                early = late.recv(100)
            except socket.timeout:
                early = None
            eq(early, None, "a client past the limit served while 50 idle connections are held")
        finally:
            for sock in socks:
                reset_close(sock)
        late.settimeout(3)
        data = late.recv(4096)
        late.close()
        check(data.startswith(b"HTTP/1.1 200 "), "queued client after the flood: %r" % data[:60])
        eq(timed_request(s.port)[0], 200)
        check(s.proc.poll() is None, "server died")


def test_fd_exhaustion_does_not_spin():
    # RLIMIT_NOFILE 64 and 300 connections: accept4 fails with EMFILE.  The
    # worker must pause accepting (not spin on the level-triggered listener):
    # its CPU over 2 s of saturation stays far below 50%.
    if not shutil.which("prlimit"):
        raise Skip("prlimit (util-linux) is not installed")
    with server(wrapper=["prlimit", "--nofile=64:64", "--"]) as s:
        socks = open_many(s.port, 300)
        try:
            check(wait_for(lambda: "Too many open files" in s.stderr_text(), 2.0),
                  "the server never reported EMFILE:\n" + s.stderr_text()[-500:])
            cpu0, t0 = cpu_seconds(s.pid), time.monotonic()
            time.sleep(2.0)
            share = (cpu_seconds(s.pid) - cpu0) / (time.monotonic() - t0)
            print("  server CPU while out of descriptors: %.1f%%" % (share * 100))
            check(share < 0.5, "server used %.0f%% CPU while out of descriptors" % (share * 100))
            check(s.proc.poll() is None, "server died")
        finally:
            for sock in socks:
                reset_close(sock)
        ok = wait_for(lambda: _request_ok(s.port), 5.0, step=0.1)
        check(ok, "no answer after the flood closed")
        for _ in range(20):
            eq(timed_request(s.port)[0], 200, "requests after the flood")


def _request_ok(port):
    try:
        return timed_request(port, timeout=1.0)[0] == 200
    except (OSError, TestFailure):
        return False


def test_10k_idle_keepalive_connections():
    # 10,000 connections, each made one request and now idles in keep-alive:
    # the server stays responsive and each costs little memory.
    n = 10000
    old_soft = raise_nofile(n + 512)
    try:
        with server("limits: {connections: 20000}\n") as s:
            eq(timed_request(s.port)[0], 200)
            rss0 = rss_kib(s.pid)
            t0 = time.monotonic()
            answer_len = None
            socks = []
            try:
                for start in range(0, n, 500):
                    batch = open_many(s.port, min(500, n - start))
                    socks.extend(batch)
                    for sock in batch:
                        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    for sock in batch:
                        data = b""
                        while answer_len is None or len(data) < answer_len:
                            chunk = sock.recv(4096)
                            check(chunk, "connection %d closed before its answer"
                                  % len(socks))
                            data += chunk
                            if answer_len is None and data.endswith(b"ok\n"):
                                answer_len = len(data)
                        check(data.startswith(b"HTTP/1.1 200 "), "answer %r" % data[:40])
                    check(time.monotonic() - t0 < 20, "opening %d connections took over 20 s"
                          % len(socks))
                opened = time.monotonic() - t0
                time.sleep(0.3)
                rss1 = rss_kib(s.pid)
                held = socket_fds(s.pid)
                lat = [timed_request(s.port)[1] for _ in range(5)]
                print("  %d idle keep-alive connections opened in %.1f s; server holds %d sockets"
                      % (n, opened, held))
                print("  server RSS %d KiB -> %d KiB: %.2f KiB per connection"
                      % (rss0, rss1, (rss1 - rss0) / n))
                print("  new requests meanwhile: %s ms" % ", ".join("%.1f" % (x * 1000)
                                                                  for x in lat))
                check(held >= n, "server holds only %d sockets" % held)
                check(sorted(lat)[2] < 0.100, "new requests took %r s" % lat)
                check(max(lat) < 0.5, "new requests took %r s" % lat)
                # One of the idle connections is still usable.
                socks[0].sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                check(socks[0].recv(4096).startswith(b"HTTP/1.1 200 "), "idle connection reuse")
            finally:
                for sock in socks:
                    reset_close(sock)
            check(s.proc.poll() is None, "server died")
    finally:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (old_soft, hard))


if __name__ == "__main__":
    run(globals())

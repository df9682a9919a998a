#!/usr/bin/env python3
"""`io_uring: auto | off`: with auto, a worker batches the socket reads and
answer writes of each loop pass through one io_uring (where the kernel allows
it); with off, or where the kernel refuses, plain system calls. Answers are
the same either way: many connections at once, pipelined requests, answers
bigger than the socket buffer to a slow reader, clients that vanish mid-batch;
a reload switches the mode without closing connections."""
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HOST, Server, Skip, build_request, check, children, eq, run,  # noqa: E402
                     wait_for, yhttpd_run)

ROUTES = r"""
routes:
  - GET /:
      text: "Hello, world\n"
  - GET /hello/{name}:
      text: "Hello, {name}\n"
  - "* /body":
      echo: body
      body_size: 8MiB
"""
# Spelled out, so a suite run with YH_IO_URING=off leaves these tests alone.
AUTO = "io_uring: auto\n" + ROUTES


def ring_fds(pid):
    """The io_uring instances the process holds (from /proc)."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "anon_inode:[io_uring]":
                n += 1
        except OSError:
            pass
    return n


def batching(s):
    """True when the server says it batches; Skip when this kernel refuses."""
    check(wait_for(lambda: "io_uring" in s.stderr_text(), 2), "no io_uring line in the log")
    text = s.stderr_text()
    if "io_uring unavailable" in text:
        raise Skip("the kernel refuses io_uring here: " + text.strip().splitlines()[-1])
    return "batched" in text


def many_clients(s, clients=40, rounds=5, depth=4):
    """clients threads, each on one connection sending `depth` pipelined
    requests per round; every answer must match its request, in order."""
    errors = []

    def client(i):
        try:
            with s.connect(timeout=10) as c:
                for r in range(rounds):
                    names = ["c%dr%dq%d" % (i, r, q) for q in range(depth)]
                    c.send(b"".join(build_request("GET", "/hello/" + n) for n in names))
                    for n in names:
                        resp = c.read_response()
                        if resp.status != 200 or resp.body != ("Hello, %s\n" % n).encode():
                            errors.append((n, resp.status, resp.body[:40]))
        except Exception as e:  # noqa: B902 - collected and reported below
            errors.append((i, repr(e)))
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    eq(errors, [], "wrong or missing answers")


def test_auto_batches_and_answers_right():
    with Server(AUTO) as s:
        check(batching(s), "auto did not batch: %s" % s.stderr_text())
        eq(ring_fds(s.pid), 1, "io_uring instances in the worker")
        many_clients(s)
        eq(s.stop(), 0)


def test_off_uses_plain_calls():
    with Server("io_uring: off\n" + ROUTES) as s:
        eq(ring_fds(s.pid), 0, "io_uring instances with io_uring: off")
        many_clients(s, clients=10)
        eq(s.stop(), 0)


def test_big_answer_to_a_slow_reader():
    """An echoed 4 MiB body is far more than one batched write can place: the
    rest goes out as the client reads, byte-exact, and others are served meanwhile."""
    with Server(AUTO) as s:
        batching(s)
        body = bytes(range(256)) * (4 * 4096)
        with s.connect(timeout=20) as c:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            c.send(build_request("POST", "/body", body=body))
            time.sleep(0.3)  # the server is stuck on a full socket by now
            eq(s.get("/").body, b"Hello, world\n", "another client while one is slow")
            resp = c.read_response(timeout=20)
            eq(resp.status, 200)
            check(resp.body == body, "echoed body differs (%d bytes)" % len(resp.body))
            c.send(build_request("GET", "/hello/after"))
            eq(c.read_response().body, b"Hello, after\n", "same connection afterwards")
        eq(s.stop(), 0)


def test_clients_vanishing_mid_batch():
    """Clients that send pipelined requests and reset at once must cost only
    themselves: the batch drops their reads and writes."""
    with Server(AUTO) as s:
        batching(s)
        req = build_request("GET", "/hello/gone") * 16
        for _ in range(20):
            socks = []
            for _ in range(30):
                k = socket.create_connection((HOST, s.port), timeout=5)
                k.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                k.sendall(req)
                socks.append(k)
            for k in socks:
                k.close()  # RST: the answers queued for it have nowhere to go
        eq(s.get("/hello/still").body, b"Hello, still\n")
        check(s.proc.poll() is None, "server died")
        eq(s.stop(), 0)


def test_reload_switches_mode_keeping_connections():
    with Server(AUTO) as s:
        batching(s)
        with s.connect() as c:
            c.send(build_request("GET", "/hello/one"))
            eq(c.read_response().body, b"Hello, one\n")
            s.write_config("io_uring: off\n" + ROUTES)
            s.signal(signal.SIGHUP)
            check(wait_for(lambda: ring_fds(s.pid) == 0, 3), "ring still open after reload to off")
            c.send(build_request("GET", "/hello/two"))
            eq(c.read_response().body, b"Hello, two\n", "same connection, plain calls")
            s.write_config(AUTO)
            s.signal(signal.SIGHUP)
            check(wait_for(lambda: ring_fds(s.pid) == 1, 3), "no ring after reload to auto")
            c.send(build_request("GET", "/hello/three") * 3)
            for _ in range(3):
                eq(c.read_response().body, b"Hello, three\n", "same connection, batched")
        eq(s.stop(), 0)


def test_workers_each_have_their_ring():
    with Server("workers: 2\n" + AUTO) as s:
        check(wait_for(lambda: len(children(s.pid)) == 2, 5), "two workers")
        kids = children(s.pid)
        if "io_uring unavailable" in s.stderr_text():
            raise Skip("the kernel refuses io_uring here")
        check(wait_for(lambda: [ring_fds(k) for k in kids] == [1, 1], 3),
              "one ring per worker: %r" % [ring_fds(k) for k in kids])
        eq(ring_fds(s.pid), 0, "the master holds no ring")
        many_clients(s, clients=10, rounds=2)
        eq(s.stop(), 0)


def test_bad_value_is_a_config_error():
    with Server(ROUTES, start=False) as s:
        s.write_config("io_uring: sometimes\n" + ROUTES)
        r = yhttpd_run(["-t", "-c", s.config_path])
        eq(r.returncode, 1, "exit status of -t")
        err = r.stderr.decode()
        check("yhttpd.yaml:" in err and "io_uring: expected auto or off" in err,
              "error names file:line:col and the choices: %r" % err)


if __name__ == "__main__":
    run(globals())

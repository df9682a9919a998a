#!/usr/bin/env python3
"""Route option `limit: N`: at most N requests in flight per worker on the
route; beyond, an immediate 503 with Retry-After; slots come back when
requests finish, fail or their clients go away; other routes are unaffected;
bad values are config errors."""
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, TestFailure, build_request, check, eq, run, wait_for,  # noqa: E402
                     yhttpd_run)
from upstream import Upstream, closed_port  # noqa: E402

ROUTES = r"""
routes:
  - GET /t:
      text: "local\n"
  - GET /lim/{tail:.*}:
      proxy: "@U@/{tail}"
      limit: 2
  - GET /one/{tail:.*}:
      proxy: "@U@/{tail}"
      limit: 1
  - GET /down:
      proxy: "@DOWN@/x"
      limit: 1
"""


def server(up):
    down = "http://127.0.0.1:%d" % closed_port()
    return Server(ROUTES.replace("@U@", up.url).replace("@DOWN@", down))


def start(s, path, n):
    """n connections, each with a request to path sent."""
    conns = []
    for _ in range(n):
        c = s.connect(timeout=5)
        c.send(build_request("GET", path))
        conns.append(c)
    return conns


def close_all(conns):
    for c in conns:
        c.close()


def wait_log(s, pred, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = s.access_text().splitlines()
        if any(pred(line) for line in lines):
            return lines
        time.sleep(0.02)
    raise TestFailure("no matching access log line in %r" % s.access_text())


def test_limit_503_then_recovers():
    with Upstream() as up, server(up) as s:
        first = start(s, "/lim/sleep?s=1", 2)
        try:
            check(wait_for(lambda: up.requests == 2, 2), "the first two never reached upstream")
            t0 = time.monotonic()
            with s.connect() as c:
                c.send(build_request("GET", "/lim/sleep?s=1"))
                r = c.read_response()
            elapsed = time.monotonic() - t0
            eq(r.status, 503, "third concurrent request")
            check(elapsed < 0.5, "503 after %.2fs, want immediate" % elapsed)
            eq(r.header("Retry-After"), "1")
            eq(up.requests, 2, "the refused request must not reach upstream")
            for i, c in enumerate(first):
                r = c.read_response()
                eq((r.status, r.body), (200, b"slept\n"), "request %d within the limit" % (i + 1))
        finally:
            close_all(first)
        again = start(s, "/lim/sleep?s=0.3", 2)
        try:
            for i, c in enumerate(again):
                eq(c.read_response().status, 200, "request %d after the first ones finished" % (i + 1))
        finally:
            close_all(again)
        lines = wait_log(s, lambda line: re.search(r'"GET /lim/sleep\?s=1 HTTP/1\.1" 503 ', line))
        eq(sum(1 for line in lines if '" 503 ' in line), 1, "503 lines in %r" % lines)


def test_limit_is_per_route():
    with Upstream() as up, server(up) as s:
        busy = start(s, "/one/sleep?s=1", 1)
        try:
            check(wait_for(lambda: up.requests == 1, 2), "request never reached upstream")
            eq(s.get("/one/text").status, 503, "second request on the limit: 1 route")
            t0 = time.monotonic()
            eq(s.get("/t").body, b"local\n", "unlimited route")
            r = s.get("/lim/text")
            eq((r.status, r.body), (200, b"plain text\n"), "another limited route")
            check(time.monotonic() - t0 < 0.5, "other routes slowed: %.2fs" % (time.monotonic() - t0))
            eq(busy[0].read_response().status, 200)
        finally:
            close_all(busy)
        eq(s.get("/one/text").status, 200, "after the busy one finished")


def test_sequential_requests_never_limited():
    with Upstream() as up, server(up) as s:
        with s.connect() as c:
            for i in range(10):
                c.send(build_request("GET", "/one/text"))
                eq(c.read_response().status, 200, "keep-alive request %d" % (i + 1))
        for i in range(5):
            eq(s.get("/one/text").status, 200, "new connection %d" % (i + 1))


def test_slot_released_after_502():
    with Upstream() as up, server(up) as s:
        for i in range(5):
            eq(s.get("/down").status, 502, "request %d to a closed port (not 503)" % (i + 1))


def test_slot_released_when_client_resets():
    with Upstream() as up, server(up) as s:
        gone = start(s, "/lim/sleep?s=2", 2)
        check(wait_for(lambda: up.requests == 2, 2), "requests never reached upstream")
        for c in gone:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        close_all(gone)  # RST: the requests are cancelled
        time.sleep(0.3)
        again = start(s, "/lim/text", 2)
        try:
            for i, c in enumerate(again):
                eq(c.read_response().status, 200,
                   "request %d after two clients reset theirs (slots not released?)" % (i + 1))
        finally:
            close_all(again)


def test_slot_released_when_client_half_closes():
    # A FIN is a half-close: the answer is still produced (and the slot held
    # until then), after which the slot must come back.
    with Upstream() as up, server(up) as s:
        gone = start(s, "/lim/sleep?s=0.5", 2)
        check(wait_for(lambda: up.requests == 2, 2), "requests never reached upstream")
        close_all(gone)
        time.sleep(1.0)
        again = start(s, "/lim/text", 2)
        try:
            for i, c in enumerate(again):
                eq(c.read_response().status, 200, "request %d after clients left" % (i + 1))
        finally:
            close_all(again)


def check_bad(value):
    d = tempfile.mkdtemp(prefix="yhttpd-limit-")
    try:
        path = os.path.join(d, "conf.yaml")
        with open(path, "w") as f:
            f.write("listen: 127.0.0.1:8080\nworkers: 0\nroutes:\n"
                    "  - GET /:\n      text: x\n      limit: %s\n" % value)
        p = yhttpd_run(["-t", "-c", path])
        err = p.stderr.decode(errors="replace")
        eq(p.returncode, 1, "limit: %s (stderr %r)" % (value, err))
        check(re.search(r"^%s:6:\d+: " % re.escape(path), err, re.M),
              "limit: %s: no %s:6:COL: in %r" % (value, path, err))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_bad_limit_values_are_config_errors():
    for value in ("-1", "abc", "[1]", "1.5"):
        check_bad(value)


if __name__ == "__main__":
    run(globals())

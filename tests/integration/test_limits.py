#!/usr/bin/env python3
"""Limits and timeouts: 431, 414, 413, 408, keep-alive timeout and count, Server header."""
import os
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, TestFailure, build_request, check, eq, run  # noqa: E402

ROUTES = r"""
routes:
  - GET /:
      text: "root\n"
  - GET /{tail:.*}:
      text: "tail\n"
  - "* /body":
      echo: body
  - "* /big":
      echo: body
      body_size: 64
"""

LIMITS = r"""
limits:
  header_size: 1KiB
  body_size: 16
  keepalive_requests: 3
timeouts:
  header: 1s
  body: 1s
  keepalive: 1s
"""


def server(extra=LIMITS):
    return Server(extra + ROUTES)


def expect_error_close(c, status, what):
    r = c.read_response()
    eq(r.status, status, what)
    eq(r.header("Connection"), "close", what)
    eq(c.read_until_close(timeout=3), b"", what + ": bytes after the error")
    return r


# ------------------------------------------------------------------ header size

def test_big_headers_431():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("GET", "/", headers={"X-Big": "a" * 2000}))
            expect_error_close(c, 431, "2000-byte header")


def test_many_headers_431():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("GET", "/", headers=[("X-H%d" % i, "v" * 20) for i in range(60)]))
            expect_error_close(c, 431, "60 headers over 1 KiB")


def test_headers_just_under_limit_ok():
    with server() as s:
        r = s.request("GET", "/", headers={"X-Pad": "a" * 800})
        eq((r.status, r.body), (200, b"root\n"))


def test_long_uri_414():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("GET", "/" + "a" * 2000))
            expect_error_close(c, 414, "2000-byte URI")


def test_long_uri_arriving_slowly_414():
    # The URI alone outgrows the limit before the request line ends.
    with server() as s:
        with s.connect() as c:
            c.send(b"GET /" + b"b" * 1500)
            expect_error_close(c, 414, "unterminated 1500-byte URI")


# ------------------------------------------------------------------ body size

def test_body_over_limit_content_length_413():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("POST", "/body", body=b"x" * 17))
            expect_error_close(c, 413, "17 bytes over 16")


def test_body_at_limit_ok():
    with server() as s:
        r = s.request("POST", "/body", body=b"y" * 16)
        eq((r.status, r.body), (200, b"y" * 16))


def test_body_over_limit_chunked_413():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("POST", "/body", headers=[("Transfer-Encoding", "chunked")],
                                 body=b"a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"))
            expect_error_close(c, 413, "chunked 20 bytes over 16")


def test_413_before_body_sent():
    # A declared length over the limit is refused from the head alone.
    with server() as s:
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            r = c.read_response(timeout=2)
            eq(r.status, 413)


def test_route_body_size_override():
    with server() as s:
        r = s.request("POST", "/big", body=b"z" * 64)
        eq((r.status, r.body), (200, b"z" * 64))
        with s.connect() as c:
            c.send(build_request("POST", "/big", body=b"z" * 65))
            expect_error_close(c, 413, "65 bytes over route's 64")


# ------------------------------------------------------------------ timeouts

def test_header_timeout_408():
    with server() as s:
        with s.connect() as c:
            t0 = time.monotonic()
            c.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Partial: y")
            r = c.read_response(timeout=4)
            elapsed = time.monotonic() - t0
            eq(r.status, 408)
            eq(r.header("Connection"), "close")
            check(0.9 <= elapsed <= 2.5, "408 after %.2fs, want ~1-2.5s" % elapsed)
            check(c.closed_within(2), "socket not closed after 408")


def test_idle_new_connection_closed():
    # A connection that never sends anything is closed by timeouts.header
    # (with or without a 408).
    with server() as s:
        with s.connect() as c:
            t0 = time.monotonic()
            check(c.closed_within(4), "silent connection never closed")
            check(time.monotonic() - t0 <= 2.5, "closed after %.2fs" % (time.monotonic() - t0))


def test_body_timeout_408():
    with server() as s:
        with s.connect() as c:
            t0 = time.monotonic()
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            r = c.read_response(timeout=4)
            eq(r.status, 408)
            check(time.monotonic() - t0 <= 2.5, "408 after %.2fs" % (time.monotonic() - t0))
            check(c.closed_within(2), "socket not closed after 408")


def test_steady_upload_outlives_body_timeout():
    # timeouts.body bounds a stall, not the whole upload: 64 KiB at 40 KiB/s
    # takes 1.6 s against a 1 s timeout and is still accepted.
    with Server("timeouts: {body: 1s}\n" + ROUTES) as s:
        with s.connect() as c:
            body = bytes(range(256)) * 256
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
            t0 = time.monotonic()
            for i in range(0, len(body), 4096):
                c.send(body[i:i + 4096])
                time.sleep(0.1)
            r = c.read_response()
            check(time.monotonic() - t0 > 1.2, "the upload was not slower than the timeout")
            eq((r.status, r.body == body), (200, True))


def test_steady_download_outlives_write_timeout():
    # timeouts.write closes a client that stops reading, not one that reads
    # steadily: 12 MiB read at about 4 MB/s takes ~3 s against write: 1s.
    root = tempfile.mkdtemp(prefix="yhttpd-limits-")
    size = 12 * 1024 * 1024
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.truncate(size)
    with Server("timeouts: {write: 1s}\nroutes:\n  - GET /f/{name}:\n      files: %s\n"
                % root) as s:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.settimeout(3)
        try:
            sock.connect(("127.0.0.1", s.port))
            sock.sendall(b"GET /f/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            t0 = time.monotonic()
            got = 0
            while time.monotonic() - t0 < 10:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
                time.sleep(0.015)
            elapsed = time.monotonic() - t0
        finally:
            sock.close()
        check(elapsed > 1.5, "the download was not slower than the timeout (%.1f s)" % elapsed)
        check(got > size, "download cut after %d of %d body bytes, %.1f s" % (got, size, elapsed))


def test_keepalive_timeout_closes_idle():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("GET", "/"))
            eq(c.read_response().status, 200)
            t0 = time.monotonic()
            check(c.closed_within(4), "idle keep-alive connection not closed")
            elapsed = time.monotonic() - t0
            check(0.9 <= elapsed <= 2.5, "closed after %.2fs, want ~1-2.5s" % elapsed)
            eq(c.buf, b"", "no bytes (no 408) on an idle keep-alive close")


def test_keepalive_activity_resets_timer():
    with server() as s:
        with s.connect() as c:
            for i in range(3):  # 0.6 s gaps: 1.2 s in total > the 1 s idle limit
                c.send(build_request("GET", "/"))
                try:
                    r = c.read_response()
                except TestFailure as e:
                    raise TestFailure("request %d, %.1f s after the previous answer: %s"
                                      % (i + 1, 0.6 if i else 0, e))
                eq(r.status, 200, "request %d" % (i + 1))
                if i < 2:
                    time.sleep(0.6)


def test_keepalive_requests_limit():
    with server() as s:
        with s.connect() as c:
            for i in range(1, 3):
                c.send(build_request("GET", "/"))
                r = c.read_response()
                eq(r.status, 200)
                check(r.header("Connection") is None, "answer %d: Connection %r" % (i, r.header("Connection")))
            c.send(build_request("GET", "/"))
            r = c.read_response()
            eq(r.status, 200)
            eq(r.header("Connection"), "close", "third answer")
            eq(c.read_until_close(timeout=3), b"", "socket after the third answer")


def test_keepalive_requests_limit_pipelined():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("GET", "/a") * 5)
            rs = c.read_responses(3)
            eq([r.status for r in rs], [200, 200, 200])
            eq(rs[2].header("Connection"), "close")
            eq(c.read_until_close(timeout=3), b"", "the 4th and 5th requests are not answered")


# ------------------------------------------------------------------ server header

def test_server_header_false():
    with server("server_header: false\n") as s:
        r = s.get("/")
        eq(r.status, 200)
        check(not r.has("Server"), "Server header present: %r" % r.header("Server"))
        check(r.has("Date"), "Date missing")
        r = s.get("/nope/../..")
        check(not r.has("Server"), "Server header on an error answer")


def test_server_header_custom():
    with server('server_header: "acme/9.9 (test)"\n') as s:
        eq(s.get("/").header("Server"), "acme/9.9 (test)")
        eq(s.request("OPTIONS", "/").header("Server"), "acme/9.9 (test)")


if __name__ == "__main__":
    run(globals())

#!/usr/bin/env python3
"""HTTP/1.x protocol: pipelining, keep-alive, 1.0, Expect, framing errors."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, TestFailure, build_request, check, eq, parse_all, raw_exchange, run  # noqa: E402

CONFIG = r"""
routes:
  - GET /n/{n}:
      text: "n={n}\n"
  - GET /:
      text: "root\n"
  - "* /body":
      echo: body
  - "* /echo":
      echo: json
"""

DATE_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
                     r"Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


def server():
    return Server(CONFIG)


def req(path="/", **kw):
    return build_request("GET", path, **kw)


def assert_error_and_closed(s, data, status, what):
    """Sends data on a new connection: exactly one answer `status` with
    Connection: close, then the server closes the socket."""
    with s.connect() as c:
        c.send(data)
        r = c.read_response()
        eq(r.status, status, what)
        eq(r.header("Connection"), "close", what + " Connection header")
        check(r.header("Date") is not None, what + ": no Date")
        rest = c.read_until_close(timeout=3)
        eq(rest, b"", what + ": bytes after the error answer")


# ------------------------------------------------------------------ pipelining / keep-alive

def test_pipelined_in_one_write():
    with server() as s:
        with s.connect() as c:
            c.send(b"".join(req("/n/%d" % i) for i in range(10)))
            rs = c.read_responses(10)
            eq([r.body for r in rs], [("n=%d\n" % i).encode() for i in range(10)])
            check(all(r.status == 200 for r in rs), "statuses %r" % [r.status for r in rs])
            check(all(r.header("Connection") is None for r in rs), "no Connection header on 1.1 keep-alive")


def test_pipelined_mixed_methods_and_bodies():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("POST", "/body", body=b"first") + req("/n/2") +
                   build_request("HEAD", "/n/3") +
                   build_request("PUT", "/body", headers=[("Transfer-Encoding", "chunked")],
                                 body=b"4\r\nlast\r\n0\r\n\r\n") + req("/n/5"))
            eq(c.read_response().body, b"first")
            eq(c.read_response().body, b"n=2\n")
            h = c.read_response(head_only=True)
            eq((h.status, h.header("Content-Length")), (200, "4"))
            eq(c.read_response().body, b"last")
            eq(c.read_response().body, b"n=5\n")


def test_keepalive_reuse():
    with server() as s:
        with s.connect() as c:
            for i in range(5):
                c.send(req("/n/%d" % i))
                r = c.read_response()
                eq((r.status, r.body), (200, ("n=%d\n" % i).encode()))
            check(not c.closed_within(0.1), "server closed a keep-alive connection")


def test_connection_close_honoured():
    with server() as s:
        with s.connect() as c:
            c.send(req("/n/1", headers={"Connection": "close"}) + req("/n/2"))
            r = c.read_response()
            eq(r.body, b"n=1\n")
            eq(r.header("Connection"), "close")
            eq(c.read_until_close(), b"", "nothing after the close answer")


def test_http10_default_close():
    with server() as s:
        data = raw_exchange(s.port, b"GET /n/1 HTTP/1.0\r\n\r\n")
        rs = parse_all(data)
        eq(len(rs), 1)
        eq((rs[0].status, rs[0].body), (200, b"n=1\n"))
        check(rs[0].header("Connection", "close").lower() == "close",
              "1.0 without keep-alive: %r" % rs[0].header("Connection"))
        check(rs[0].version in ("1.1", "1.0"), "version %s" % rs[0].version)


def test_http10_keepalive_requested():
    with server() as s:
        with s.connect() as c:
            for i in range(2):
                c.send(b"GET /n/%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % i)
                r = c.read_response()
                eq(r.body, b"n=%d\n" % i)
                eq((r.header("Connection") or "").lower(), "keep-alive")
            check(not c.closed_within(0.1), "closed despite keep-alive")


# ------------------------------------------------------------------ Expect

def test_expect_100_continue():
    with server() as s:
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Expect: 100-continue\r\n\r\n")
            first = c.read_response(skip_interim=False, timeout=2)
            eq((first.version, first.status), ("1.1", 100), "interim answer before the body")
            check(first.raw == b"HTTP/1.1 100 Continue\r\n\r\n", "interim answer %r" % first.raw)
            c.send(b"hello")
            r = c.read_response()
            eq((r.status, r.body), (200, b"hello"))


def test_expect_100_continue_curl():
    with server() as s:
        from harness import curl
        # curl waits up to 1 s for 100 Continue; it must come at once.
        t0 = time.monotonic()
        p = curl("-H", "Expect: 100-continue", "--data-binary", "x" * 2000, s.url("/body"))
        eq(p.returncode, 0)
        eq(p.stdout, b"x" * 2000)
        check(time.monotonic() - t0 < 0.9, "curl waited for 100-continue")


def test_expect_other_417():
    with server() as s:
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Expect: something-else\r\n\r\nhello")
            r = c.read_response()
            eq(r.status, 417)


# ------------------------------------------------------------------ bodies

def test_chunked_request_body():
    with server() as s:
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                   b"Content-Type: text/plain\r\n\r\n"
                   b"3\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n")
            r = c.read_response()
            eq((r.status, r.body), (200, b"abc0123456789"))
            c.send(req("/n/9"))
            eq(c.read_response().body, b"n=9\n", "keep-alive after a chunked body")


def test_trailer_fields_dropped_and_bounded():
    """Trailers are read and dropped (never visible as headers, even when split
    across reads), and count against limits.header_size (431 past it)."""
    import json
    with server() as s:
        with s.connect() as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n0\r\nX-Trai")
            time.sleep(0.1)
            c.send(b"ler: late\r\nX-Other: 1\r\n\r\n")
            r = c.read_response()
            eq(r.status, 200)
            headers = {k.lower() for k in json.loads(r.body)["headers"]}
            check("x-trailer" not in headers and "x-other" not in headers,
                  "trailer fields leaked into the request headers: %r" % headers)
            c.send(req("/n/1"))
            eq(c.read_response().body, b"n=1\n", "keep-alive after trailers")
        big = b"X-Big: " + b"a" * 9000 + b"\r\n"
        assert_error_and_closed(s, b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                                   b"\r\n\r\n1\r\na\r\n0\r\n" + big + b"\r\n", 431,
                                "a trailer past limits.header_size")


def test_transfer_encoding_gzip_501():
    with server() as s:
        assert_error_and_closed(s, b"POST /body HTTP/1.1\r\nHost: x\r\n"
                                   b"Transfer-Encoding: gzip\r\n\r\n", 501, "TE gzip")
        assert_error_and_closed(s, b"POST /body HTTP/1.1\r\nHost: x\r\n"
                                   b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                                501, "TE gzip, chunked")


# ------------------------------------------------------------------ malformed input

MALFORMED = [
    ("whitespace before colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
    ("CL + TE", b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("duplicate differing CL", b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                               b"Content-Length: 4\r\n\r\nabcd"),
    ("invalid CL", b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\nabcd"),
    ("invalid header name", b"GET / HTTP/1.1\r\nHost: x\r\nBad(Name): v\r\n\r\n"),
    ("bare LF", b"GET / HTTP/1.1\nHost: x\n\n"),
    ("bare LF in header", b"GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n  folded\r\n\r\n"),
    ("garbage request line", b"HELLO\r\n\r\n"),
    ("bad chunk size", b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       b"zz\r\nabc\r\n0\r\n\r\n"),
    ("TE chunked twice", b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n"
                         b"\r\n0\r\n\r\n"),
    ("missing Host in 1.1", b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n"),
    ("two Host headers", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("TE in HTTP/1.0", b"POST /body HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
]


def test_malformed_requests_400_while_other_client_served():
    with server() as s:
        with s.connect() as good:
            good.send(req("/n/0"))
            eq(good.read_response().body, b"n=0\n")
            errors = []
            for i, (what, data) in enumerate(MALFORMED, 1):
                try:
                    assert_error_and_closed(s, data, 400, what)
                except TestFailure as e:
                    errors.append(str(e))  # keep going: report every case at once
                good.send(req("/n/%d" % i))
                r = good.read_response()
                eq((r.status, r.body), (200, b"n=%d\n" % i), "good client after " + what)
            check(not errors, "; ".join(errors))


def test_malformed_after_valid_pipelined():
    # A valid request, then garbage on the same connection: the first is
    # answered, then 400 and close.
    with server() as s:
        data = raw_exchange(s.port, req("/n/1") + b"GET / HTTP/1.1\r\nHost : x\r\n\r\n")
        rs = parse_all(data)
        eq([r.status for r in rs], [200, 400])
        eq(rs[0].body, b"n=1\n")
        eq(rs[1].header("Connection"), "close")


def test_missing_host_http11_400():
    with server() as s:
        assert_error_and_closed(s, b"GET / HTTP/1.1\r\n\r\n", 400, "no Host")


def test_two_host_headers_400():
    with server() as s:
        assert_error_and_closed(s, b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400,
                                "duplicate Host")


def test_http10_without_host_ok():
    with server() as s:
        rs = parse_all(raw_exchange(s.port, b"GET / HTTP/1.0\r\n\r\n"))
        eq((rs[0].status, rs[0].body), (200, b"root\n"))


def test_unsupported_version_505():
    with server() as s:
        with s.connect() as c:
            c.send(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
            r = c.read_response()
            check(r.status in (400, 505), "HTTP/2.0 request line: %d" % r.status)
            eq(r.header("Connection"), "close")


# ------------------------------------------------------------------ odd delivery

def test_one_byte_writes():
    with server() as s:
        with s.connect() as c:
            c.send_bytewise(build_request("POST", "/body", body=b"split!") + req("/n/7"))
            eq(c.read_response().body, b"split!")
            eq(c.read_response().body, b"n=7\n")


def test_half_closed_client_gets_answer():
    with server() as s:
        data = raw_exchange(s.port, req("/n/1") + req("/n/2"), shutdown=True)
        rs = parse_all(data)
        eq([r.body for r in rs], [b"n=1\n", b"n=2\n"])


def test_half_closed_after_body():
    with server() as s:
        data = raw_exchange(s.port, build_request("POST", "/body", body=b"abc"), shutdown=True)
        rs = parse_all(data)
        eq(len(rs), 1)
        eq((rs[0].status, rs[0].body), (200, b"abc"))


def test_every_answer_has_date_server_and_length():
    with server() as s:
        cases = [req("/"), req("/nope"), build_request("DELETE", "/n/1"),
                 build_request("OPTIONS", "/"), build_request("HEAD", "/"),
                 build_request("POST", "/body", body=b"x"), b"GET / HTTP/1.1\r\n\r\n",
                 b"GET /../ HTTP/1.1\r\nHost: x\r\n\r\n"]
        for data in cases:
            with s.connect() as c:
                c.send(data)
                head_only = data.startswith(b"HEAD")
                r = c.read_response(head_only=head_only)
                what = data.split(b"\r\n")[0].decode()
                check(DATE_RE.match(r.header("Date") or ""), "%s: Date %r" % (what, r.header("Date")))
                eq(r.header("Server"), "yhttpd", what)
                if r.status not in (204, 304) and not (100 <= r.status < 200):
                    check(r.header("Content-Length") is not None or
                          (r.header("Transfer-Encoding") or "").lower() == "chunked",
                          "%s: answer %d is not self-delimiting" % (what, r.status))
                eq(len(r.header_all("Date")), 1, what + " single Date")


if __name__ == "__main__":
    run(globals())

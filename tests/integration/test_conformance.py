#!/usr/bin/env python3
"""RFC 9112 / 9110 conformance: raw request bytes -> status and connection state.

The table below is the contract for how yhttpd answers odd and hostile
request heads and framing; the tests after it check that error answers are
self-delimiting and close, that half-closed clients still get them, that a
request split anywhere is never answered early, and that HEAD matches GET.
"""
import os
import select
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, TestFailure, check, eq, parse_response,  # noqa: E402
                     run)

CONFIG = r"""
routes:
  - GET /:
      text: "root\n"
  - GET /host:
      text: "host={host}\n"
  - GET /j:
      json: {a: 1, b: [true, null]}
  - GET /f/{name}:
      files: %s
  - "* /body":
      echo: body
  - "* /echo":
      echo: json
  - POST /only-post:
      text: "posted\n"
"""

CLOSE_BOUND = 2.0  # seconds within which the server must close after an error

H = b"Host: x\r\n"
CHUNKED = b"POST /body HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"


def post(headers, body=b""):
    return b"POST /body HTTP/1.1\r\n" + H + headers + b"\r\n" + body


# (name, raw request, expected status, "closed" or "kept")
ROWS = [
    # ---- baseline
    ("plain GET", b"GET / HTTP/1.1\r\n" + H + b"\r\n", 200, "kept"),
    ("POST with Content-Length", post(b"Content-Length: 3\r\n", b"abc"), 200, "kept"),
    ("chunked POST", CHUNKED + b"3\r\nabc\r\n0\r\n\r\n", 200, "kept"),
    ("HTTP/1.0 default close", b"GET / HTTP/1.0\r\n\r\n", 200, "closed"),
    ("HTTP/1.0 keep-alive", b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, "kept"),
    ("Connection: close", b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n", 200, "closed"),
    ("404 keeps the connection", b"GET /nope HTTP/1.1\r\n" + H + b"\r\n", 404, "kept"),
    ("405 keeps the connection", b"GET /only-post HTTP/1.1\r\n" + H + b"\r\n", 405, "kept"),
    ("empty line before request line", b"\r\nGET / HTTP/1.1\r\n" + H + b"\r\n", 200, "kept"),
    ("obs-text in a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: caf\xe9\r\n\r\n", 200, "kept"),
    ("tab in a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\tb\r\n\r\n", 200, "kept"),
    # ---- Host
    ("Host missing in 1.1", b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400, "closed"),
    ("Host repeated, same value", b"GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", 400, "closed"),
    ("Host repeated, other value", b"GET / HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n", 400, "closed"),
    ("Host with a space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "closed"),
    ("Host with a slash", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "closed"),
    ("Host with userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, "closed"),
    ("Host empty (allowed, RFC 9112 3.2)", b"GET / HTTP/1.1\r\nHost:\r\n\r\n", 200, "kept"),
    ("Host missing in 1.0 (allowed)", b"GET / HTTP/1.0\r\n\r\n", 200, "closed"),
    # ---- header syntax
    ("header name with (", b"GET / HTTP/1.1\r\n" + H + b"Bad(Name): v\r\n\r\n", 400, "closed"),
    ("header name with a space", b"GET / HTTP/1.1\r\n" + H + b"X A: v\r\n\r\n", 400, "closed"),
    ("header name empty", b"GET / HTTP/1.1\r\n" + H + b": v\r\n\r\n", 400, "closed"),
    ("header name non-ASCII", b"GET / HTTP/1.1\r\n" + H + b"X-\xe9: v\r\n\r\n", 400, "closed"),
    ("header line without colon", b"GET / HTTP/1.1\r\n" + H + b"NoColon\r\n\r\n", 400, "closed"),
    ("NUL in a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400, "closed"),
    ("bare CR in a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400, "closed"),
    ("control char in a value", b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x01b\r\n\r\n", 400, "closed"),
    ("space before colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "closed"),
    ("tab before colon", b"GET / HTTP/1.1\r\n" + H + b"X-A\t: v\r\n\r\n", 400, "closed"),
    ("obs-fold with spaces", b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n  folded\r\n\r\n", 400, "closed"),
    ("obs-fold with a tab", b"GET / HTTP/1.1\r\n" + H + b"X-A: b\r\n\tfolded\r\n\r\n", 400, "closed"),
    ("first header line folded", b"GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400, "closed"),
    ("bare LF after request line", b"GET / HTTP/1.1\n" + H + b"\r\n", 400, "closed"),
    ("bare LF after a header", b"GET / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400, "closed"),
    ("bare LF ends the head", b"GET / HTTP/1.1\r\n" + H + b"\n", 400, "closed"),
    ("bare CR line endings", b"GET / HTTP/1.1\rHost: x\r\r", 400, "closed"),
    # ---- Content-Length / Transfer-Encoding framing
    ("CL and TE", post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
     400, "closed"),
    ("TE and CL", post(b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", b"0\r\n\r\n"),
     400, "closed"),
    ("CL repeated, same value", post(b"Content-Length: 3\r\nContent-Length: 3\r\n", b"abc"),
     400, "closed"),
    ("CL repeated, other value", post(b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"),
     400, "closed"),
    ("CL as a list", post(b"Content-Length: 3, 3\r\n", b"abc"), 400, "closed"),
    ("CL negative", post(b"Content-Length: -1\r\n", b"abc"), 400, "closed"),
    ("CL with a plus sign", post(b"Content-Length: +3\r\n", b"abc"), 400, "closed"),
    ("CL overflowing 64 bits", post(b"Content-Length: 99999999999999999999999\r\n", b"abc"),
     400, "closed"),
    ("CL empty", post(b"Content-Length: \r\n", b"abc"), 400, "closed"),
    ("CL non-digit", post(b"Content-Length: 1x\r\n", b"abc"), 400, "closed"),
    ("CL hexadecimal", post(b"Content-Length: 0x3\r\n", b"abc"), 400, "closed"),
    ("CL with inner space", post(b"Content-Length: 1 2\r\n", b"abc"), 400, "closed"),
    ("chunked not last", post(b"Transfer-Encoding: chunked, gzip\r\n", b"0\r\n\r\n"),
     400, "closed"),
    ("chunked not last, two fields",
     post(b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", b"0\r\n\r\n"),
     400, "closed"),
    ("chunked twice", post(b"Transfer-Encoding: chunked, chunked\r\n", b"0\r\n\r\n"),
     400, "closed"),
    ("TE empty", post(b"Transfer-Encoding: \r\n"), 400, "closed"),
    ("TE unknown coding", post(b"Transfer-Encoding: gzip\r\n"), 501, "closed"),
    ("TE unknown coding before chunked",
     post(b"Transfer-Encoding: deflate, chunked\r\n", b"0\r\n\r\n"), 501, "closed"),
    ("TE xchunked", post(b"Transfer-Encoding: xchunked\r\n"), 501, "closed"),
    ("TE in HTTP/1.0", b"POST /body HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400, "closed"),
    ("chunk size not hex", CHUNKED + b"zz\r\nabc\r\n0\r\n\r\n", 400, "closed"),
    ("chunk size negative", CHUNKED + b"-3\r\nabc\r\n0\r\n\r\n", 400, "closed"),
    ("chunk size overflowing", CHUNKED + b"fffffffffffffffff1\r\nabc\r\n0\r\n\r\n",
     400, "closed"),
    ("chunk size then bare LF", CHUNKED + b"3\nabc\r\n0\r\n\r\n", 400, "closed"),
    ("chunk size then space", CHUNKED + b"3 \r\nabc\r\n0\r\n\r\n", 400, "closed"),
    ("chunk data without CRLF", CHUNKED + b"3\r\nabcX\r\n0\r\n\r\n", 400, "closed"),
    ("chunk data longer than its size", CHUNKED + b"3\r\nabcd\r\n0\r\n\r\n", 400, "closed"),
    ("chunk extension (ignored)", CHUNKED + b"3;a=b\r\nabc\r\n0;c\r\n\r\n", 200, "kept"),
    ("chunk extension quoted", CHUNKED + b'3;a="b c"\r\nabc\r\n0\r\n\r\n', 200, "kept"),
    ("chunk extension of 16 KiB (> header_size)",
     CHUNKED + b"3;a=" + b"v" * 16384 + b"\r\nabc\r\n0\r\n\r\n", 400, "closed"),
    ("chunk extensions of 1 KiB x 10",
     CHUNKED + b"".join(b"1;e=" + b"v" * 1024 + b"\r\nx\r\n" for _ in range(10)) + b"0\r\n\r\n",
     400, "closed"),
    ("trailer field (dropped)", CHUNKED + b"3\r\nabc\r\n0\r\nX-T: v\r\n\r\n", 200, "kept"),
    ("trailer section of 16 KiB", CHUNKED + b"3\r\nabc\r\n0\r\nX-T: " + b"t" * 16384
     + b"\r\n\r\n", 431, "closed"),
    # ---- request line
    ("HTTP/2.0 in a 1.x request line", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505, "closed"),
    ("HTTP/3.0", b"GET / HTTP/3.0\r\n" + H + b"\r\n", 505, "closed"),
    ("HTTP/1.2 (unknown minor)", b"GET / HTTP/1.2\r\n" + H + b"\r\n", 505, "closed"),
    ("HTTP/0.9 named", b"GET / HTTP/0.9\r\n" + H + b"\r\n", 505, "closed"),
    ("version without a dot", b"GET / HTTP/11\r\n" + H + b"\r\n", 400, "closed"),
    ("version without minor", b"GET / HTTP/1.\r\n" + H + b"\r\n", 400, "closed"),
    ("version without digits", b"GET / HTTP/\r\n" + H + b"\r\n", 400, "closed"),
    ("version with two-digit minor", b"GET / HTTP/1.10\r\n" + H + b"\r\n", 400, "closed"),
    ("version in lower case", b"GET / http/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("version not HTTP", b"GET / XTTP/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("space after version", b"GET / HTTP/1.1 \r\n" + H + b"\r\n", 400, "closed"),
    ("no version, headers", b"GET /\r\n" + H + b"\r\n", 400, "closed"),
    ("no version, no headers", b"GET /\r\n\r\n", 400, "closed"),
    ("method in lower case", b"get / HTTP/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("asterisk-form with GET", b"GET * HTTP/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("authority-form with GET", b"GET x:80 HTTP/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("absolute-form", b"GET http://x/ HTTP/1.1\r\n" + H + b"\r\n", 200, "kept"),
    ("absolute-form, empty path", b"GET http://x HTTP/1.1\r\n" + H + b"\r\n", 200, "kept"),
    ("absolute-form with userinfo", b"GET http://u@x/ HTTP/1.1\r\n" + H + b"\r\n",
     400, "closed"),
    ("absolute-form without host", b"GET http:///x HTTP/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("absolute-form, other scheme", b"GET ftp://x/ HTTP/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("fragment in target", b"GET /#f HTTP/1.1\r\n" + H + b"\r\n", 400, "closed"),
    ("OPTIONS *", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n", 204, "kept"),
    ("CONNECT", b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", 501, "closed"),
    ("CONNECT with origin-form", b"CONNECT / HTTP/1.1\r\n" + H + b"\r\n", 501, "closed"),
]


def server(**kw):
    root = tempfile.mkdtemp(prefix="yhttpd-conf-")
    with open(os.path.join(root, "a.txt"), "wb") as f:
        f.write(b"file body\n" * 7)
    return Server(CONFIG % root, **kw)


def peer_closed(c, timeout):
    """True when the server closes c within timeout; fails on any byte."""
    deadline = time.monotonic() + timeout
    while not c.eof:
        if not c._recv(deadline):
            return False
    eq(c.buf, b"", "bytes after the answer")
    return True


def check_row(port, name, data, status, state, half_close=False):
    """One row on a new connection.  Returns a failure message or None."""
    head_only = data.startswith(b"HEAD")
    try:
        with Conn(port) as c:
            c.send(data)
            if half_close:
                c.shutdown_write()
            r = c.read_response(head_only=head_only)
            eq(r.status, status, "status")
            if status >= 400 and state == "closed":
                cl = r.header("Content-Length")
                check(cl is not None and int(cl) == len(r.body),
                      "error answer not self-delimiting: Content-Length %r, body %d bytes"
                      % (cl, len(r.body)))
                eq(r.header("Connection"), "close", "Connection header of the error answer")
            if status == 204:
                check(r.header("Content-Length") in (None, "0"), "204 with a body length")
            if half_close or state == "closed":
                check(peer_closed(c, CLOSE_BOUND),
                      "connection still open %.1f s after the answer" % CLOSE_BOUND)
            else:
                check(r.header("Connection") != "close", "kept connection says close")
                c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                follow = c.read_response()
                eq((follow.status, follow.body), (200, b"root\n"), "request after the answer")
    except (TestFailure, OSError) as e:
        return "%s: %s" % (name, e)
    return None


def run_table(half_close):
    with server() as s:
        errors = [m for m in (check_row(s.port, *row, half_close=half_close) for row in ROWS) if m]
        check(not errors, "%d of %d rows failed:\n  %s" % (len(errors), len(ROWS),
                                                          "\n  ".join(errors)))
        r = s.get("/")
        eq(r.status, 200, "server after the table")


# ------------------------------------------------------------------ the table

def test_table():
    run_table(half_close=False)


def test_table_half_closed_client():
    # The same requests followed by shutdown(SHUT_WR): every one still gets
    # its answer (kept rows then close, as the client can send no more).
    run_table(half_close=True)


def test_options_star_allow():
    with server() as s:
        with s.connect() as c:
            c.send(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
            r = c.read_response()
            eq(r.status, 204)
            allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
            check({"GET", "HEAD", "POST"} <= allow, "Allow %r" % r.header("Allow"))


def test_trailers_not_merged_into_headers():
    with server() as s:
        with s.connect() as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n0\r\nHost: evil\r\nX-Injected: 1\r\n\r\n")
            r = c.read_response()
            eq(r.status, 200)
            j = r.json()
            eq(j["body"], "abc")
            eq(j["headers"].get("Host"), "x", "Host after a Host trailer")
            check("X-Injected" not in j["headers"], "trailer merged: %r" % j["headers"])


def test_trailer_section_over_several_reads_431():
    # A trailer section too big for limits.header_size arriving in pieces:
    # refused (it used to be kept as a span into input already discarded).
    with server() as s:
        with s.connect() as c:
            c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n0\r\nX-T: ")
            for _ in range(4):
                time.sleep(0.05)
                c.send(b"t" * 4096)
            c.send(b"\r\n\r\n")
            r = c.read_response()
            eq(r.status, 431)
            eq(r.header("Connection"), "close")
            check(peer_closed(c, CLOSE_BOUND), "not closed after the 431")


def test_absolute_form_authority_is_the_host():
    with server() as s:
        with s.connect() as c:
            c.send(b"GET http://target.example:8080/host HTTP/1.1\r\nHost: header.example\r\n\r\n")
            r = c.read_response()
            eq((r.status, r.body), (200, b"host=target.example:8080\n"))


# ------------------------------------------------------------------ partial input

REQUESTS = {
    "GET": b"GET /j?x=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
    "POST": b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world",
    "chunked": b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;e=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n",
}
EXPECT = {"GET": b'{"a":1,"b":[true,null]}', "POST": b"hello world",
          "chunked": b"hello world"}


def readable(sock, timeout):
    return bool(select.select([sock], [], [], timeout)[0])


def test_bytewise_never_answered_early():
    # Each byte is its own read on the server (TCP_NODELAY and a pause); the
    # answer comes after the last byte, never before.
    with server() as s:
        t0 = time.monotonic()
        for what, data in REQUESTS.items():
            with s.connect() as c:
                c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for i in range(len(data)):
                    c.sock.sendall(data[i:i + 1])
                    if i < len(data) - 1 and readable(c.sock, 0.003):
                        raise TestFailure("%s: answer (or close) after %d of %d bytes: %r"
                                          % (what, i + 1, len(data), c.sock.recv(200)))
                r = c.read_response()
                eq((r.status, r.body.strip()), (200, EXPECT[what].strip()), what)
                check(time.monotonic() - t0 < 15, "byte-wise sends took too long")


def test_every_prefix_waits_for_the_rest():
    # For every split point: send the prefix, check nothing comes back, then
    # send the rest and get exactly one answer.  Connections run side by side
    # so the whole sweep costs one pause per request kind.
    with server() as s:
        for what, data in REQUESTS.items():
            conns = []
            try:
                for k in range(1, len(data)):
                    c = s.connect()
                    conns.append(c)
                    c.send(data[:k])
                time.sleep(0.3)
                early = [k + 1 for k, c in enumerate(conns) if readable(c.sock, 0)]
                check(not early, "%s: answered after only %s bytes" % (what, early[:10]))
                for k, c in enumerate(conns, 1):
                    c.send(data[k:])
                for k, c in enumerate(conns, 1):
                    r = c.read_response()
                    eq((r.status, r.body.strip()), (200, EXPECT[what].strip()),
                       "%s split after %d bytes" % (what, k))
                    check(not readable(c.sock, 0), "%s split at %d: extra bytes" % (what, k))
            finally:
                for c in conns:
                    c.close()
        eq(s.get("/").status, 200, "server after the sweep")


def test_pipelined_pair_split_everywhere():
    pair = REQUESTS["POST"] + REQUESTS["GET"]
    with server() as s:
        t0 = time.monotonic()
        splits = list(range(1, len(pair)))
        for start in range(0, len(splits), 64):
            batch = splits[start:start + 64]
            conns = [s.connect() for _ in batch]
            try:
                for k, c in zip(batch, conns):
                    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    c.send(pair[:k])
                time.sleep(0.05)
                for k, c in zip(batch, conns):
                    c.send(pair[k:])
                for k, c in zip(batch, conns):
                    rs = c.read_responses(2)
                    eq([(r.status, r.body) for r in rs],
                       [(200, b"hello world"), (200, EXPECT["GET"])], "split after %d bytes" % k)
            finally:
                for c in conns:
                    c.close()
        check(time.monotonic() - t0 < 20, "split sweep took %.1f s" % (time.monotonic() - t0))


# ------------------------------------------------------------------ HEAD

def test_head_matches_get():
    with server() as s:
        for path in ("/", "/j", "/f/a.txt"):
            with s.connect() as c:
                c.send(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
                g = c.read_response()
                eq(g.status, 200, "GET " + path)
                # HEAD then GET on one connection: a body after the HEAD answer
                # would be read as the start of the next answer.
                c.send(b"HEAD %s HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
                       % path.encode())
                h = c.read_response(head_only=True)
                eq(h.status, 200, "HEAD " + path)
                eq(h.header("Content-Length"), str(len(g.body)), "HEAD %s Content-Length" % path)
                eq(h.header("Content-Type"), g.header("Content-Type"), "HEAD %s type" % path)
                check(c.buf.startswith(b"HTTP/1.1 200") or not c.buf,
                      "HEAD %s sent body bytes: %r" % (path, c.buf[:40]))
                nxt = c.read_response()
                eq((nxt.status, nxt.body), (200, b"root\n"), "answer after HEAD " + path)
                parsed = parse_response(c.buf)
                check(parsed is None, "extra bytes after HEAD %s" % path)


if __name__ == "__main__":
    run(globals())

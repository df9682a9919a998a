#!/usr/bin/env python3
"""proxy handler: pass-through of status, headers and bodies (both ways,
Content-Length and chunked), hop-by-hop and X-Forwarded-*/Forwarded headers,
URL templates, HEAD, upstream keep-alive pool, 502/504 and truncated answers,
round robin and passive health, clients that go away, a loop that never
blocks, pipelining, workers: 2."""
import os
import re
import socket
import struct
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, ParseError, Server, build_request, check, curl,  # noqa: E402
                     curl_response, eq, parse_response, run, wait_for)
from upstream import Upstream, closed_port, pattern, sha256  # noqa: E402

OLD_DATE = "Mon, 01 Jan 2001 00:00:00 GMT"


def routes(up, down_port=None):
    """The standard route table, every proxy route aimed at Upstream up."""
    return r"""
routes:
  - GET /t:
      text: "local\n"
  - "GET,POST,PUT,DELETE /api/{tail:.*}":
      proxy: "%(u)s/{tail}"
      body_size: 4MiB
  - "GET,POST /e/{tail:.*}":
      proxy: "%(u)s/echo/{tail}"
  - GET /inj/{tail:(?s).*}:
      proxy: "%(u)s/echo/{tail}"
  - GET /raw/{tail:.*}:
      proxy: "%(u)s"
  - GET /named/{name}:
      proxy:
        to: ["%(u)s/echo/named"]
        headers: {X-User: "{name}", X-Static: fixed}
  - GET /rh/{tail:.*}:
      proxy: "%(u)s/{tail}"
      headers: {X-Route: added}
  - GET /slow/{tail:.*}:
      proxy:
        to: ["%(u)s/{tail}"]
        timeout: {connect: 1s, read: 1s}
  - "GET,POST /down/{tail:.*}":
      proxy: "http://127.0.0.1:%(down)d/{tail}"
""" % {"u": up.url, "down": down_port or closed_port()}


def server(up, top=""):
    return Server(top + routes(up))


def q(s):
    return urllib.parse.quote(s, safe="")


def hdr(name, value):
    return "header=" + q("%s:%s" % (name, value))


# ------------------------------------------------------------------ pass-through

def test_get_passthrough_status_and_body():
    with Upstream() as up, server(up) as s:
        r = s.get("/api/echo/x?status=201&" + hdr("X-Up", "yes"))
        eq(r.status, 201)
        eq(r.header("X-Up"), "yes", "custom upstream header")
        eq(r.header("Content-Type"), "application/json")
        d = r.json()
        eq(d["method"], "GET")
        check(d["path"].startswith("/echo/x?status=201"), "upstream path %r" % d["path"])
        r = s.get("/api/text")
        eq((r.status, r.body), (200, b"plain text\n"))
        eq(r.header("Content-Type"), "text/plain")
        r = s.get("/api/nothing-here")
        eq(r.status, 404, "upstream 404 passed on")
        r = s.get("/api/text?status=500")
        eq((r.status, r.body), (500, b"plain text\n"), "upstream 500 passed on")


def test_response_hop_by_hop_dropped():
    with Upstream() as up, server(up) as s:
        path = "/api/echo?" + "&".join([
            hdr("Connection", "X-Hop"), hdr("X-Hop", "secret"), hdr("Keep-Alive", "timeout=5"),
            hdr("Proxy-Connection", "keep-alive"), hdr("X-Up", "kept")])
        with s.connect() as c:
            c.send(build_request("GET", path))
            r = c.read_response()
            eq(r.status, 200)
            eq(r.header("X-Up"), "kept")
            check(not r.has("X-Hop"), "header named in upstream's Connection leaked: %r" % r.headers)
            check(not r.has("Keep-Alive"), "Keep-Alive leaked: %r" % r.headers)
            check(not r.has("Proxy-Connection"), "Proxy-Connection leaked: %r" % r.headers)
            for v in r.header_all("Connection"):
                check(v.lower() in ("keep-alive", "close"),
                      "upstream's Connection value reached the client: %r" % v)
            # the client connection is still usable
            c.send(build_request("GET", "/t"))
            eq(c.read_response().body, b"local\n")


def test_date_and_server_replaced():
    with Upstream() as up, server(up) as s:
        own = s.get("/t").header("Server")
        r = s.get("/api/text?" + hdr("Date", OLD_DATE) + "&" + hdr("Server", "UpstreamTest/1.0"))
        eq(r.status, 200)
        eq(len(r.header_all("Date")), 1, "Date headers: %r" % r.header_all("Date"))
        check(r.header("Date") != OLD_DATE, "upstream's Date passed on: %r" % r.headers)
        eq(r.header_all("Server"), [own] if own else [], "Server headers")


def test_route_headers_added_to_proxied_answer():
    with Upstream() as up, server(up) as s:
        r = s.get("/rh/text")
        eq((r.status, r.body), (200, b"plain text\n"))
        eq(r.header("X-Route"), "added")


# ------------------------------------------------------------------ request headers

def test_request_headers_forwarded():
    with Upstream() as up, server(up) as s:
        r = s.request("GET", "/api/echo/h", headers=[("Host", "client.example:8080"),
                                                      ("X-Foo", "bar"), ("X-Multi", "1"),
                                                      ("X-Multi", "2"), ("User-Agent", "it/1")])
        eq(r.status, 200)
        h = up.last["headers"]
        eq(h.get("x-foo"), "bar")
        eq(h.get("x-multi"), "1, 2", "repeated header (joined)")
        eq(h.get("user-agent"), "it/1")
        check(h.get("host"), "no Host header upstream: %r" % up.last["header_list"])
        eq(up.last["method"], "GET")
        eq(up.last["body"], b"")


def test_request_hop_by_hop_dropped():
    with Upstream() as up, server(up) as s:
        with s.connect() as c:
            c.send(build_request("GET", "/api/echo/hop", headers=[
                ("Connection", "close, X-Secret"), ("X-Secret", "s"), ("Keep-Alive", "300"),
                ("TE", "trailers"), ("Upgrade", "h2c"), ("Proxy-Connection", "keep-alive"),
                ("X-Kept", "k")]))
            r = c.read_response()
            eq(r.status, 200)
            eq(r.header("Connection"), "close", "client asked to close")
            check(c.closed_within(2), "client connection not closed after Connection: close")
        h = up.last["headers"]
        eq(h.get("x-kept"), "k")
        for name in ("keep-alive", "te", "upgrade", "proxy-connection", "x-secret"):
            check(name not in h, "hop-by-hop %s reached upstream: %r" % (name, up.last["header_list"]))
        check(h.get("connection", "keep-alive").lower() == "keep-alive",
              "client's Connection reached upstream: %r" % h.get("connection"))


def test_forwarded_headers():
    with Upstream() as up, server(up) as s:
        r = s.request("GET", "/api/echo/f", headers={"Host": "client.example:8080"})
        eq(r.status, 200)
        h = up.last["headers"]
        eq(h.get("x-forwarded-for"), "127.0.0.1")
        eq(h.get("x-forwarded-proto"), "http")
        eq(h.get("x-forwarded-host"), "client.example:8080")
        fwd = h.get("forwarded", "")
        check(re.search(r'(^|[;,\s])for="?127\.0\.0\.1"?($|[;,\s])', fwd, re.I), "Forwarded: %r" % fwd)
        check(re.search(r'(^|[;,\s])host="?client\.example:8080"?($|[;,\s])', fwd, re.I),
              "Forwarded host: %r" % fwd)
        check(re.search(r'(^|[;,\s])proto="?http"?($|[;,\s])', fwd, re.I), "Forwarded proto: %r" % fwd)


def test_x_forwarded_for_appended():
    with Upstream() as up, server(up) as s:
        r = s.request("GET", "/api/echo/xff", headers={"X-Forwarded-For": "10.0.0.1"})
        eq(r.status, 200)
        eq(up.last["headers"].get("x-forwarded-for"), "10.0.0.1, 127.0.0.1")
        eq(sum(1 for k, _ in up.last["header_list"] if k.lower() == "x-forwarded-for"), 1,
           "X-Forwarded-For header count")


def test_spoofed_forwarded_proto_and_host_replaced():
    with Upstream() as up, server(up) as s:
        r = s.request("GET", "/api/echo/spoof", headers=[("Host", "real.example"),
                                                          ("X-Forwarded-Proto", "https"),
                                                          ("X-Forwarded-Host", "evil.example")])
        eq(r.status, 200)
        eq(up.last["headers"].get("x-forwarded-proto"), "http")
        eq(up.last["headers"].get("x-forwarded-host"), "real.example")


def test_config_headers_templated():
    with Upstream() as up, server(up) as s:
        r = s.get("/named/bob")
        eq(r.status, 200)
        eq(up.last["path"], "/echo/named")
        eq(up.last["headers"].get("x-user"), "bob")
        eq(up.last["headers"].get("x-static"), "fixed")


# ------------------------------------------------------------------ URL templates

def test_url_template_tail_and_query():
    with Upstream() as up, server(up) as s:
        r = s.get("/e/a/b?x=1&y=2")
        eq(r.status, 200)
        eq(up.last["path"], "/echo/a/b?x=1&y=2")
        r = s.get("/e/plain")
        eq(up.last["path"], "/echo/plain")


def test_url_template_reencodes_decoded_tail():
    with Upstream() as up, server(up) as s:
        r = s.get("/e/a%20b")
        eq(r.status, 200)
        eq(up.last["path"], "/echo/a%20b", "a decoded space must be re-encoded")
        # a decoded CR LF must never split the upstream request (the route's
        # regex matches newlines: (?s))
        r = s.get("/inj/x%0D%0AX-Injected:%20yes")
        eq(r.status, 200)
        check("x-injected" not in up.last["headers"], "header injected upstream: %r"
              % up.last["header_list"])
        eq(up.last["path"], "/echo/x%0D%0AX-Injected:%20yes")


def test_url_without_path_forwards_original_target():
    with Upstream() as up, server(up) as s:
        s.get("/raw/a%20b/c?q=%41&z")
        eq(up.last["path"], "/raw/a%20b/c?q=%41&z")
        s.get("/raw/x")
        eq(up.last["path"], "/raw/x")


# ------------------------------------------------------------------ bodies

def test_post_1mib_both_ways():
    data = os.urandom(1 << 20)
    with Upstream() as up, server(up) as s:
        with Conn(s.port, timeout=10) as c:
            c.send(build_request("POST", "/api/upload?echo=1", body=data,
                                 headers={"Content-Type": "application/octet-stream"}))
            r = c.read_response()
            eq(r.status, 200)
            eq(up.last["body"] == data, True, "upstream received the 1 MiB body intact")
            eq(r.header("X-Upload-Sha256"), sha256(data))
            eq(len(r.body), len(data), "answer length")
            check(r.body == data, "answer bytes differ from the upload")
            # the connection is still usable
            c.send(build_request("PUT", "/api/upload", body=b"small"))
            r = c.read_response()
            eq(r.json()["len"], 5)
            eq(up.last["method"], "PUT")


def test_chunked_request_body():
    data = os.urandom(300000)
    sizes = [1, 7, 1000, 65536, 100000]
    chunks, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        piece = data[pos:pos + n]
        chunks.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
        pos += n
        i += 1
    body = b"".join(chunks) + b"0\r\n\r\n"
    with Upstream() as up, server(up) as s:
        with Conn(s.port, timeout=10) as c:
            c.send(build_request("POST", "/api/upload", body=body,
                                 headers=[("Transfer-Encoding", "chunked")]))
            r = c.read_response()
            eq(r.status, 200)
            eq(r.json()["len"], len(data))
            eq(r.json()["sha256"], sha256(data))
            # and the connection still frames requests correctly
            c.send(build_request("GET", "/api/text"))
            eq(c.read_response().body, b"plain text\n")


def test_curl_chunked_upload_echo():
    data = os.urandom(200000)
    with Upstream() as up, server(up) as s, tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        p = curl("-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + f.name,
                 s.url("/api/upload?echo=1"))
        eq(p.returncode, 0, "curl: %s" % p.stderr.decode(errors="replace"))
        check(p.stdout == data, "echoed %d bytes, sha %s" % (len(p.stdout), sha256(p.stdout)))
        check(up.last["body"] == data, "upstream got %d bytes" % len(up.last["body"]))


def test_curl_expect_continue_upload():
    data = os.urandom(1 << 20)
    with Upstream() as up, server(up) as s, tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        r = curl_response("-H", "Expect: 100-continue", "--data-binary", "@" + f.name,
                          s.url("/api/upload"))
        eq(r.status, 200)
        eq(r.json(), {"sha256": sha256(data), "len": len(data), "chunked": up.last["chunked"]})


def test_chunked_upstream_answer():
    n = 1 << 20
    with Upstream() as up, server(up) as s:
        with Conn(s.port, timeout=10) as c:
            c.send(build_request("GET", "/api/bytes?n=%d&chunked=1" % n))
            r = c.read_response()
            eq(r.status, 200)
            eq(len(r.body), n, "body length")
            check(r.body == pattern(n), "body bytes differ")
            cl = r.header("Content-Length")
            check(cl is None or int(cl) == n, "Content-Length %r" % cl)
            c.send(build_request("GET", "/api/bytes?n=3&chunked=1"))
            eq(c.read_response().body, pattern(3))


def test_large_content_length_answer_via_curl():
    n = 3 << 20
    with Upstream() as up, server(up) as s:
        r = curl_response(s.url("/api/bytes?n=%d" % n))
        eq(r.status, 200)
        eq(r.header("Content-Length"), str(n))
        check(r.body == pattern(n), "3 MiB answer differs (%d bytes)" % len(r.body))


def test_head_through_proxy():
    with Upstream() as up, server(up) as s:
        with s.connect() as c:
            c.send(build_request("HEAD", "/api/bytes?n=5000"))
            r = c.read_response(head_only=True)
            eq(r.status, 200)
            eq(r.header("Content-Length"), "5000")
            c.send(build_request("HEAD", "/api/bytes?n=5000&chunked=1"))
            r = c.read_response(head_only=True)
            eq(r.status, 200)
            c.send(build_request("GET", "/api/text"))
            r = c.read_response()
            eq((r.status, r.body), (200, b"plain text\n"), "request after HEADs (no stray body bytes)")
            eq(c.read_some(0.2), b"", "stray bytes after the answers")


def test_204_and_304_no_body():
    with Upstream() as up, server(up) as s:
        with s.connect() as c:
            c.send(build_request("GET", "/api/text?status=204"))
            r = c.read_response()
            eq((r.status, r.body), (204, b""))
            c.send(build_request("GET", "/api/text?status=304"))
            r = c.read_response()
            eq((r.status, r.body), (304, b""))
            c.send(build_request("GET", "/api/text"))
            eq(c.read_response().body, b"plain text\n")


def test_delete_method():
    with Upstream() as up, server(up) as s:
        r = s.request("DELETE", "/api/echo/d")
        eq(r.status, 200)
        eq(up.last["method"], "DELETE")


# ------------------------------------------------------------------ upstream keep-alive

def test_keepalive_reuse():
    with Upstream() as up, server(up) as s:
        for i in range(20):
            r = s.get("/api/text")  # a new client connection each time
            eq((r.status, r.body), (200, b"plain text\n"), "request %d" % (i + 1))
        eq(up.requests, 20)
        check(up.connections < 20, "no upstream reuse: %d connections" % up.connections)
        eq(up.connections, 1, "upstream connections for 20 sequential requests")


def test_upstream_connection_close_not_reused():
    with Upstream() as up, server(up) as s:
        r = s.get("/api/close")
        eq((r.status, r.body), (200, b"closing\n"))
        for i in range(3):
            r = s.get("/api/text")
            eq(r.status, 200, "request %d after upstream Connection: close" % (i + 1))
        eq(up.connections, 2)


def test_stale_pooled_connection_retried():
    with Upstream() as up, server(up) as s:
        eq(s.get("/api/text").status, 200)
        up.drop_connections()       # the upstream's idle timeout fired
        check(wait_for(lambda: up.open_connections == 0, 2), "upstream did not close")
        time.sleep(0.05)
        r = s.get("/api/text")
        eq((r.status, r.body), (200, b"plain text\n"), "GET after the upstream closed its idle connection")
        eq(s.get("/api/text").status, 200)


# ------------------------------------------------------------------ errors

def test_closed_port_502_fast():
    with Upstream() as up, server(up) as s:
        for method in ("GET", "POST"):
            t0 = time.monotonic()
            r = s.request(method, "/down/x", body=b"abc" if method == "POST" else b"")
            elapsed = time.monotonic() - t0
            eq(r.status, 502, method)
            check(elapsed < 1.0, "%s 502 after %.2fs" % (method, elapsed))
        eq(s.get("/t").body, b"local\n")


def test_read_timeout_504():
    with Upstream() as up, server(up) as s:
        t0 = time.monotonic()
        r = s.request("GET", "/slow/sleep?s=3", timeout=5)
        elapsed = time.monotonic() - t0
        eq(r.status, 504)
        check(0.8 <= elapsed <= 2.5, "504 after %.2fs, want ~1s" % elapsed)
        r = s.get("/slow/text")
        eq((r.status, r.body), (200, b"plain text\n"), "next request on the same route")


def _check_truncated(c, what):
    data = c.read_until_close(timeout=5)  # fails if the client is left hanging
    try:
        parsed = parse_response(data, eof=True)
    except ParseError:
        return  # head then a short body, then close: the truncation is visible
    if parsed is None:
        return  # an unterminated chunked body, then close
    resp, _ = parsed
    check(resp.status >= 500, "%s: a truncated upstream answer reached the client as a "
          "complete %d answer of %d bytes" % (what, resp.status, len(resp.body)))


def test_upstream_truncated_content_length():
    with Upstream() as up, server(up) as s:
        with Conn(s.port, timeout=5) as c:
            c.send(build_request("GET", "/api/truncate?n=200000"))
            _check_truncated(c, "Content-Length")
        eq(s.get("/api/text").status, 200, "request after a truncated answer")


def test_upstream_truncated_chunked():
    with Upstream() as up, server(up) as s:
        with Conn(s.port, timeout=5) as c:
            c.send(build_request("GET", "/api/truncate?n=200000&chunked=1"))
            _check_truncated(c, "chunked")
        eq(s.get("/api/text").status, 200, "request after a truncated answer")


# ------------------------------------------------------------------ round robin, health

def rr_routes(urls):
    return r"""
routes:
  - "GET,POST /rr/{tail:.*}":
      proxy:
        to: [%s]
        timeout: {connect: 1s, read: 5s}
""" % ", ".join('"%s/{tail}"' % u for u in urls)


def test_round_robin():
    with Upstream() as a, Upstream() as b, Server(rr_routes([a.url, b.url])) as s:
        for i in range(10):
            r = s.get("/rr/text")
            eq(r.status, 200, "request %d" % (i + 1))
        eq(a.requests + b.requests, 10)
        check(4 <= a.requests <= 6 and 4 <= b.requests <= 6,
              "not round robin: A got %d, B got %d" % (a.requests, b.requests))


def test_down_upstream_skipped_for_get():
    down = "http://127.0.0.1:%d" % closed_port()
    with Upstream() as b, Server(rr_routes([down, b.url])) as s:
        for i in range(10):
            t0 = time.monotonic()
            r = s.get("/rr/text")
            eq((r.status, r.body), (200, b"plain text\n"), "GET %d" % (i + 1))
            check(time.monotonic() - t0 < 1.0, "GET %d took %.2fs" % (i + 1, time.monotonic() - t0))
        eq(b.requests, 10)


def test_post_to_single_down_upstream_502():
    down = "http://127.0.0.1:%d" % closed_port()
    with Server(rr_routes([down])) as s:
        t0 = time.monotonic()
        r = s.request("POST", "/rr/upload", body=b"payload")
        eq(r.status, 502)
        check(time.monotonic() - t0 < 1.0, "502 after %.2fs" % (time.monotonic() - t0))


def test_post_with_one_down_upstream():
    # A connect failure sends nothing upstream, so retrying a POST on the next
    # upstream is allowed but not required: 502 or 200 with the body intact.
    down = "http://127.0.0.1:%d" % closed_port()
    with Upstream() as b, Server(rr_routes([down, b.url])) as s:
        for i in range(4):
            r = s.request("POST", "/rr/upload", body=b"payload-%d" % i)
            check(r.status in (200, 502), "POST %d: status %d" % (i + 1, r.status))
            if r.status == 200:
                eq(r.json()["sha256"], sha256(b"payload-%d" % i), "POST %d body" % (i + 1))
        eq(s.get("/rr/text").status, 200)


# ------------------------------------------------------------------ clients that go away

def established_from(port):
    """States of the TCP sockets whose local port is `port` (upstream side),
    listeners excluded: '01' ESTABLISHED, '08' CLOSE_WAIT, ..."""
    states = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != "0A":
                states.append(fields[3])
    return states


def test_client_gone_server_keeps_serving():
    with Upstream() as up, server(up) as s:
        c = s.connect()
        c.send(build_request("GET", "/api/sleep?s=2"))
        check(wait_for(lambda: up.requests == 1, 2), "request never reached upstream")
        c.close()
        t0 = time.monotonic()
        eq(s.get("/t").body, b"local\n")
        eq(s.get("/api/text").body, b"plain text\n")
        check(time.monotonic() - t0 < 0.5, "other requests slowed: %.2fs" % (time.monotonic() - t0))
        time.sleep(max(0, 2.3 - (time.monotonic() - t0)))  # the sleep finishes
        for i in range(3):
            r = s.get("/api/text")
            eq((r.status, r.body), (200, b"plain text\n"), "pool after a client went away, request %d" % i)


def test_client_gone_releases_upstream_connection():
    # A FIN alone is a legitimate half-close (the answer is still owed), so
    # the client leaves with a reset: the pending proxy request is cancelled
    # and its upstream connection closed without waiting for the answer.
    with Upstream() as up, server(up) as s:
        c = s.connect()
        c.send(build_request("GET", "/api/sleep?s=3"))
        check(wait_for(lambda: up.requests == 1, 2), "request never reached upstream")
        eq(established_from(up.port), ["01"], "upstream-side sockets before")
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()  # RST
        released = wait_for(lambda: "01" not in established_from(up.port), 1.0)
        check(released, "upstream connection still open 1s after its client left: states %r"
              % established_from(up.port))


def test_client_gone_during_big_download():
    with Upstream() as up, server(up) as s:
        with Conn(s.port, timeout=5) as c:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.send(build_request("GET", "/api/bytes?n=%d" % (16 << 20)))
            got = c.read_some(2)
            check(got.startswith(b"HTTP/1.1 200"), "start of answer %r" % got[:40])
        time.sleep(0.2)
        eq(s.get("/t").body, b"local\n")
        for i in range(2):
            r = s.get("/api/bytes?n=1000")
            eq((r.status, r.body), (200, pattern(1000)), "after an abandoned download, %d" % i)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def test_backpressure_slow_reader():
    """A client that stops reading holds the upstream back: yhttpd keeps a
    bounded amount in memory, not the 64 MiB answer, and then delivers it all."""
    n = 64 << 20
    with Upstream() as up, server(up) as s:
        s.get("/api/bytes?n=1000")  # warm: pools and buffers exist
        before = rss_kib(s.proc.pid)
        with Conn(s.port, timeout=10) as c:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            c.send(build_request("GET", "/api/bytes?n=%d" % n))
            time.sleep(1.5)
            grown = rss_kib(s.proc.pid) - before
            check(grown < 16 * 1024, "yhttpd grew by %d KiB while its client did not read" % grown)
            got = bytearray()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                chunk = c.sock.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
                head_end = got.find(b"\r\n\r\n")
                if head_end >= 0 and len(got) - head_end - 4 >= n:
                    break
            head_end = got.find(b"\r\n\r\n")
            check(head_end > 0, "no answer head")
            check(b"Content-Length: %d" % n in got[:head_end], "length kept: %r" % got[:head_end])
            body = bytes(got[head_end + 4:])
            eq(len(body), n, "bytes delivered")
            eq(sha256(body), sha256(pattern(n)), "body digest")


# ------------------------------------------------------------------ the loop never blocks

def test_loop_not_blocked():
    with Upstream() as up, server(up) as s:
        with s.connect(timeout=5) as slow:
            slow.send(build_request("GET", "/api/sleep?s=2"))
            check(wait_for(lambda: up.requests == 1, 2), "request never reached upstream")
            t0 = time.monotonic()
            eq(s.get("/t").body, b"local\n")
            check(time.monotonic() - t0 < 0.3, "text route took %.2fs" % (time.monotonic() - t0))
            t0 = time.monotonic()
            eq(s.get("/api/text").body, b"plain text\n")
            check(time.monotonic() - t0 < 0.3, "second proxied request took %.2fs"
                  % (time.monotonic() - t0))
            r = slow.read_response()
            eq((r.status, r.body), (200, b"slept\n"))


def test_concurrent_upstream_requests():
    with Upstream() as up, server(up) as s:
        conns = [s.connect(timeout=5) for _ in range(5)]
        try:
            t0 = time.monotonic()
            for c in conns:
                c.send(build_request("GET", "/api/sleep?s=1"))
            for c in conns:
                r = c.read_response()
                eq((r.status, r.body), (200, b"slept\n"))
            elapsed = time.monotonic() - t0
            check(elapsed < 1.8, "5 concurrent 1 s requests took %.2fs" % elapsed)
        finally:
            for c in conns:
                c.close()


def test_pipelined_answers_in_order():
    with Upstream() as up, server(up) as s:
        with s.connect(timeout=5) as c:
            c.send(build_request("GET", "/api/sleep?s=0.5") + build_request("GET", "/api/text")
                   + build_request("GET", "/t") + build_request("GET", "/api/echo/p"))
            rs = c.read_responses(4)
            eq([r.body for r in rs[:3]], [b"slept\n", b"plain text\n", b"local\n"])
            eq(rs[3].json()["path"], "/echo/p")


# ------------------------------------------------------------------ workers

def test_workers_2():
    with Upstream() as up, server(up, top="workers: 2\n") as s:
        for i in range(6):
            r = s.get("/api/text")
            eq((r.status, r.body), (200, b"plain text\n"), "GET %d" % (i + 1))
        data = os.urandom(100000)
        r = s.request("POST", "/api/upload?echo=1", body=data, timeout=5)
        eq(r.status, 200)
        check(r.body == data, "echoed body differs")
        r = s.get("/named/w2")
        eq(up.last["headers"].get("x-user"), "w2")
        eq(s.get("/down/x").status, 502)


if __name__ == "__main__":
    run(globals())

#!/usr/bin/env python3
"""gather handler: parts fetched concurrently, one JSON object keyed by part
name in config order, JSON parts embedded and others as strings, failed parts
as {"error", "status"} with an overall 502, part timeouts, URL templates,
HEAD, a client that goes away, a loop that never blocks."""
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, build_request, check, eq, run, wait_for  # noqa: E402
from upstream import Upstream, closed_port  # noqa: E402

# @U@ is the upstream's URL, @DOWN@ a URL where nothing listens.  The JSON in
# /json?v= is percent-encoded: a literal brace would be a template.
ROUTES = r"""
routes:
  - GET /t:
      text: "local\n"
  - GET /two:
      gather:
        parts: {a: "@U@/sleep?s=1", b: "@U@/sleep?s=1"}
        timeout: 3s
  - GET /kinds:
      gather:
        parts:
          zeta: "@U@/json?v=%7B%22x%22%3A1%7D"
          alpha: "@U@/text"
          list: "@U@/json?v=%5B1%2C%22two%22%2Cnull%5D"
          num: "@U@/json?v=42"
        timeout: 2s
  - GET /down:
      gather:
        parts: {a: "@DOWN@/x", b: "@U@/text"}
        timeout: 2s
  - GET /notfound:
      gather:
        parts: {a: "@U@/text", b: "@U@/echo/nf?status=404"}
        timeout: 2s
  - GET /slowpart:
      gather:
        parts: {fast: "@U@/text", slow: "@U@/sleep?s=3"}
        timeout: 1s
  - GET /user/{id}:
      gather:
        parts: {u: "@U@/echo/{id}", q: "@U@/echo/q?x={query.x}"}
        timeout: 2s
  - GET /wait:
      gather:
        parts: {s: "@U@/sleep?s=2"}
        timeout: 5s
"""


def server(up, top=""):
    down = "http://127.0.0.1:%d" % closed_port()
    return Server(top + ROUTES.replace("@U@", up.url).replace("@DOWN@", down))


def ordered_keys(body):
    """Top-level keys in the order the server wrote them."""
    return [k for k, _ in json.loads(body.decode(), object_pairs_hook=list)]


def check_error_part(part, status, what):
    check(isinstance(part, dict), "%s: part is %r, want an error object" % (what, part))
    eq(part.get("status"), status, what + " status")
    check(isinstance(part.get("error"), str) and part["error"],
          "%s: error should be a non-empty string, got %r" % (what, part))


# ------------------------------------------------------------------ success

def test_parts_fetched_concurrently():
    with Upstream() as up, server(up) as s:
        t0 = time.monotonic()
        r = s.request("GET", "/two", timeout=5)
        elapsed = time.monotonic() - t0
        eq(r.status, 200)
        eq(r.header("Content-Type"), "application/json")
        eq(r.json(), {"a": "slept\n", "b": "slept\n"})
        eq(ordered_keys(r.body), ["a", "b"])
        check(elapsed < 1.7, "two 1 s parts took %.2fs (not concurrent?)" % elapsed)
        eq(up.requests, 2)


def test_json_parts_embedded_text_parts_strings():
    with Upstream() as up, server(up) as s:
        r = s.get("/kinds")
        eq(r.status, 200)
        d = r.json()
        eq(ordered_keys(r.body), ["zeta", "alpha", "list", "num"], "keys in config order")
        eq(d["zeta"], {"x": 1}, "a JSON object part is embedded")
        eq(d["alpha"], "plain text\n", "a text part is a JSON string")
        eq(d["list"], [1, "two", None])
        eq(d["num"], 42)
        eq([x["method"] for x in up.log], ["GET"] * 4, "part methods")


def test_part_url_templates():
    with Upstream() as up, server(up) as s:
        r = s.get("/user/42?x=abc")
        eq(r.status, 200)
        d = r.json()
        eq(d["u"]["path"].split("?")[0], "/echo/42")
        eq(d["q"]["path"], "/echo/q?x=abc")
        r = s.get("/user/a%20b?x=1")
        eq(r.json()["u"]["path"].split("?")[0], "/echo/a%20b", "decoded variable re-encoded")


def test_head_on_gather_route():
    with Upstream() as up, server(up) as s:
        with s.connect() as c:
            c.send(build_request("HEAD", "/kinds"))
            r = c.read_response(head_only=True)
            eq(r.status, 200)
            check(r.header("Content-Length") is not None or r.header("Transfer-Encoding"),
                  "HEAD answer without framing headers: %r" % r.headers)
            c.send(build_request("GET", "/t"))
            eq(c.read_response().body, b"local\n", "request after HEAD (no stray body)")


# ------------------------------------------------------------------ failures

def test_part_down_502():
    with Upstream() as up, server(up) as s:
        t0 = time.monotonic()
        r = s.get("/down")
        eq(r.status, 502)
        check(time.monotonic() - t0 < 1.0, "took %.2fs" % (time.monotonic() - t0))
        eq(r.header("Content-Type"), "application/json")
        d = r.json()
        check_error_part(d.get("a"), 502, "unreachable part")
        eq(d.get("b"), "plain text\n", "the other part is still present")
        eq(ordered_keys(r.body), ["a", "b"])


def test_part_404_502():
    with Upstream() as up, server(up) as s:
        r = s.get("/notfound")
        eq(r.status, 502)
        d = r.json()
        eq(d.get("a"), "plain text\n")
        check_error_part(d.get("b"), 404, "404 part")


def test_part_timeout_504():
    with Upstream() as up, server(up) as s:
        t0 = time.monotonic()
        r = s.request("GET", "/slowpart", timeout=5)
        elapsed = time.monotonic() - t0
        eq(r.status, 502)
        check(0.8 <= elapsed <= 2.5, "answer after %.2fs, want ~1s" % elapsed)
        d = r.json()
        eq(d.get("fast"), "plain text\n")
        check_error_part(d.get("slow"), 504, "timed-out part")
        # the server goes on serving gathers
        eq(s.get("/kinds").status, 200)


# ------------------------------------------------------------------ the loop

def test_loop_not_blocked_during_gather():
    with Upstream() as up, server(up) as s:
        with s.connect(timeout=5) as slow:
            slow.send(build_request("GET", "/wait"))
            check(wait_for(lambda: up.requests == 1, 2), "part never reached upstream")
            t0 = time.monotonic()
            eq(s.get("/t").body, b"local\n")
            check(time.monotonic() - t0 < 0.3, "text route took %.2fs" % (time.monotonic() - t0))
            r = slow.read_response()
            eq(r.status, 200)
            eq(r.json(), {"s": "slept\n"})


def test_client_gone_during_gather():
    with Upstream() as up, server(up) as s:
        for linger in (False, True):   # FIN, then RST
            c = s.connect()
            c.send(build_request("GET", "/wait"))
            n = up.requests
            check(wait_for(lambda: up.requests > n, 2), "part never reached upstream")
            if linger:
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            eq(s.get("/t").body, b"local\n")
        r = s.get("/kinds")
        eq(r.status, 200, "gather after clients went away")
        time.sleep(2.2)  # the abandoned parts finish (or were cancelled)
        eq(s.get("/kinds").status, 200)
        eq(s.get("/t").body, b"local\n")


def test_workers_2():
    with Upstream() as up, server(up, top="workers: 2\n") as s:
        for i in range(4):
            r = s.get("/kinds")
            eq(r.status, 200, "gather %d" % (i + 1))
            eq(r.json()["zeta"], {"x": 1})


if __name__ == "__main__":
    run(globals())

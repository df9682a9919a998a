#!/usr/bin/env python3
"""The static `files` handler: content, MIME types, validators, conditionals,
ranges, precompressed variants, directories, traversal safety, large bodies
to many clients, write timeout on slow readers, workers, config errors."""
import atexit
import email.utils
import gzip
import hashlib
import html.parser
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HOST, Response, Server, Skip, TestFailure, build_request, check,  # noqa: E402
                     curl, eq, parse_all, parse_head, run, wait_for, yhttpd_run)

MTIME = 1614834367                       # Thu, 04 Mar 2021 05:06:07 GMT
MTIME_HTTP = "Thu, 04 Mar 2021 05:06:07 GMT"
HELLO = ((b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2)[:100])
COMP = b"plain text that compresses well\n" * 40
COMP_BR = b"BR-VARIANT-BYTES (not really brotli)\n"
CSS = b"body { color: red }\n" * 20
ODD = 'a<b>&"c.txt'

TREE = {
    "index.html": b"<h1>home</h1>\n",
    "home.htm": b"<h1>home.htm</h1>\n",
    "hello.txt": HELLO,
    "style.css": b"body{}\n",
    "app.js": b"alert(1)\n",
    "img.png": b"\x89PNG\r\n\x1a\n" + bytes(40),
    "data.json": b'{"a":1}\n',
    "file.xyzzy": b"unknown\n",
    "with space.txt": b"space\n",
    "foo.txt": b"foo\n",
    "empty.txt": b"",
    "frac.txt": b"fractional mtime\n",
    ".hidden": b"HIDDEN-SECRET\n",
    "sub/page.txt": b"page\n",
    "sub/.git/config": b"GIT-SECRET\n",
    "withindex/index.html": b"<p>withindex</p>\n",
    "noindex/a.txt": b"a\n",
    "noindex/" + ODD: b"odd\n",
    "noindex/.dot": b"dot\n",
    "noindex/child/x.txt": b"x\n",
    "comp.txt": COMP,
    "comp.txt.gz": gzip.compress(COMP, mtime=0),
    "comp.txt.br": COMP_BR,
    "gzonly.css": CSS,
    "gzonly.css.gz": gzip.compress(CSS, mtime=0),
}
LINKS = {
    "link-in": "hello.txt",
    "linkdir-in": "sub",
    "link-out": "/etc/passwd",
    "linkdir-out": "/etc",
    "link-up": "../outside.txt",
    "loop": "loop",
}
OUTSIDE = b"OUTSIDE-SECRET\n"
SECRETS = (b"root:", b"HIDDEN-SECRET", b"GIT-SECRET", OUTSIDE.strip())

CONFIG = r"""
routes:
  - GET /static/{path:.*}:
      files: @ROOT@
  - GET /one.txt:
      files: @ROOT@/hello.txt
  - GET /list/{path:.*}:
      files: {root: @ROOT@, list: true}
  - GET /listdot/{path:.*}:
      files: {root: @ROOT@, list: true, dotfiles: true}
  - GET /dot/{path:.*}:
      files: {root: @ROOT@, dotfiles: true}
  - GET /idx/{path:.*}:
      files: {root: @ROOT@, index: [home.htm, index.html]}
  - GET /cache/{path:.*}:
      files: {root: @ROOT@, max_age: 1h}
  - GET /cache90/{path:.*}:
      files: {root: @ROOT@, max_age: 90}
  - GET /nopre/{path:.*}:
      files: {root: @ROOT@, precompressed: false}
  - GET /big/{path:.*}:
      files: @BIG@
  - GET /viaroot/{path:.*}:
      files: @ROOT@link
"""

# ------------------------------------------------------------------ fixtures

BIG_SIZE = 50 * 1024 * 1024
_big = {}


# valgrind does not emulate openat2(2): the server then takes its fallback walk,
# which refuses every symlink, including those that stay inside the root.
NO_OPENAT2 = ("valgrind lacks openat2: symlinks inside the root take the stricter fallback"
              if os.environ.get("YH_VALGRIND") == "1" else "")


def big_root():
    """A 50 MiB random file, made once per run in its own temp dir."""
    if not _big:
        d = tempfile.mkdtemp(prefix="yhttpd-files-big-")
        atexit.register(shutil.rmtree, d, True)
        h = hashlib.sha256()
        with open(os.path.join(d, "big.bin"), "wb") as f:
            for _ in range(BIG_SIZE // (1 << 20)):
                chunk = os.urandom(1 << 20)
                h.update(chunk)
                f.write(chunk)
        _big.update(dir=d, sha=h.hexdigest())
    return _big["dir"]


def build_tree(base):
    root = os.path.join(base, "root")
    for rel, data in TREE.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    for rel, target in LINKS.items():
        os.symlink(target, os.path.join(root, rel))
    with open(os.path.join(base, "outside.txt"), "wb") as f:
        f.write(OUTSIDE)
    for dirpath, dirs, files in os.walk(root):
        for n in files + dirs:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, (MTIME, MTIME))
    os.utime(os.path.join(root, "frac.txt"), (MTIME + 0.7, MTIME + 0.7))
    os.mkfifo(os.path.join(root, "fifo"))
    os.symlink("root", root + "link")       # the configured root may be a symlink
    return root


def files_server(extra="", config=CONFIG):
    """A server whose routes serve a fresh tree in its temp dir."""
    s = Server("routes: []\n", start=False)
    root = build_tree(s.dir)
    s.root = root
    s.write_config(extra + config.replace("@ROOT@", root).replace("@BIG@", big_root()))
    return s.start()


def head(s, path, headers=None):
    return s.request("HEAD", path, headers)


def fetch_stream(port, path, headers=None, timeout=20.0):
    """GET on a fresh connection, body streamed through sha256.
    Returns (Response without body, body length, hex digest)."""
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.settimeout(5)
        sock.connect((HOST, port))
        sock.sendall(build_request("GET", path, headers))
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise TestFailure("EOF before the head: %r" % buf[:200])
            buf += chunk
        hd, rest = buf.split(b"\r\n\r\n", 1)
        version, status, reason, hdrs = parse_head(hd)
        resp = Response(version, status, reason, hdrs, b"", hd)
        n = int(resp.header("Content-Length", "-1"))
        check(n >= 0, "no Content-Length: %r" % hdrs)
        check(len(rest) <= n, "more bytes than Content-Length")
        h = hashlib.sha256(rest)
        got = len(rest)
        mv = memoryview(bytearray(1 << 18))
        while got < n:
            if time.monotonic() > deadline:
                raise TestFailure("%s: %d of %d bytes after %.0fs" % (path, got, n, timeout))
            k = sock.recv_into(mv, min(len(mv), n - got))
            if k == 0:
                raise TestFailure("%s: EOF after %d of %d bytes" % (path, got, n))
            h.update(mv[:k])
            got += k
        return resp, got, h.hexdigest()
    finally:
        sock.close()


def parallel(fn, n, timeout):
    """Runs fn(i) in n threads; returns results; fails on any error or timeout."""
    results = [None] * n
    errors = []

    def work(i):
        try:
            results[i] = fn(i)
        except BaseException as e:  # noqa: B902
            errors.append("client %d: %s" % (i, e))

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = sum(t.is_alive() for t in threads)
    check(alive == 0, "%d of %d clients still running after %.0fs" % (alive, n, timeout))
    check(not errors, "; ".join(errors[:5]))
    return results


# ------------------------------------------------------------------ content and headers

def test_file_served_with_validators():
    with files_server() as s:
        r = s.get("/static/hello.txt")
        eq(r.status, 200)
        eq(r.body, HELLO)
        eq(r.header("Content-Length"), "100")
        eq(r.header("Content-Type"), "text/plain; charset=utf-8")
        etag = r.header("ETag")
        check(etag and re.fullmatch(r'"[^"\x00-\x20\x7f]*"', etag),
              "ETag must be a strong quoted string: %r" % etag)
        eq(r.header("Last-Modified"), MTIME_HTTP, "Last-Modified = the file's mtime")
        eq(r.header("Accept-Ranges"), "bytes")
        check(not r.has("Cache-Control"), "Cache-Control without max_age: %r" % r.headers)
        check(not r.has("Content-Encoding"), "Content-Encoding on a plain file")
        eq(s.get("/static/hello.txt").header("ETag"), etag, "ETag stable across requests")
        eq(s.get("/static/with%20space.txt").body, b"space\n", "percent-decoded name")
        # a route whose root is a regular file serves that file
        r = s.get("/one.txt")
        eq(r.status, 200)
        eq(r.body, HELLO)
        eq(r.header("Content-Type"), "text/plain; charset=utf-8")
        # empty file, query ignored, root given through a symlink
        r = s.get("/static/empty.txt")
        eq((r.status, r.header("Content-Length"), r.body), (200, "0", b""), "empty file")
        eq(s.get("/static/hello.txt?v=1&x").body, HELLO, "query string ignored")
        eq(s.get("/viaroot/hello.txt").body, HELLO, "root configured through a symlink")
        r = s.request("GET", "/static/hello.txt", version="1.0")
        eq((r.status, r.body), (200, HELLO), "HTTP/1.0")
        # root and missing files
        eq(s.get("/static/no-such-file").status, 404)
        eq(s.get("/static/hello.txt/x").status, 404, "a file used as a directory")
        eq(s.get("/static/sub/no-such-file").status, 404)
        r = s.request("POST", "/static/hello.txt", body=b"x")
        eq(r.status, 405, "POST to a files route")


def test_cache_control_max_age():
    with files_server() as s:
        for path, want in (("/cache/hello.txt", "max-age=3600"),
                           ("/cache90/hello.txt", "max-age=90"),
                           ("/static/hello.txt", None)):
            r = s.get(path)
            eq(r.status, 200, path)
            eq(r.header("Cache-Control"), want, path)


MIME = [
    ("index.html", "text/html; charset=utf-8"),
    ("home.htm", "text/html; charset=utf-8"),
    ("style.css", "text/css; charset=utf-8"),
    ("app.js", ("text/javascript; charset=utf-8", "application/javascript; charset=utf-8")),
    ("img.png", "image/png"),
    ("data.json", "application/json"),
    ("hello.txt", "text/plain; charset=utf-8"),
    ("file.xyzzy", "application/octet-stream"),
]


def test_mime_types():
    with files_server() as s:
        bad = []
        for name, want in MIME:
            r = s.get("/static/" + name)
            ct = r.header("Content-Type")
            ok = ct in want if isinstance(want, tuple) else ct == want
            if r.status != 200 or r.body != TREE[name] or not ok:
                bad.append("%s: %d %r (want %r)" % (name, r.status, ct, want))
        check(not bad, "; ".join(bad))


def test_file_replaced_is_served_fresh():
    with files_server() as s:
        r1 = s.get("/static/foo.txt")
        eq(r1.body, b"foo\n")
        p = os.path.join(s.root, "foo.txt")
        # in place (same inode), new size and mtime
        with open(p, "wb") as f:
            f.write(b"foo, rewritten\n")
        os.utime(p, (MTIME + 100, MTIME + 100))
        r2 = wait_for(lambda: (lambda r: r if r.body == b"foo, rewritten\n" else None)(
            s.get("/static/foo.txt")), 3, step=0.1)
        check(r2, "in-place rewrite not served within 3s: %r" % s.get("/static/foo.txt"))
        check(r2.header("ETag") != r1.header("ETag"), "ETag unchanged after rewrite")
        eq(r2.header("Content-Length"), "15")
        # replaced by rename (new inode)
        tmp = p + ".new"
        with open(tmp, "wb") as f:
            f.write(b"third version!!\n")
        os.replace(tmp, p)
        r3 = wait_for(lambda: (lambda r: r if r.body == b"third version!!\n" else None)(
            s.get("/static/foo.txt")), 3, step=0.1)
        check(r3, "renamed-over file not served within 3s: %r" % s.get("/static/foo.txt"))
        r = s.get("/static/foo.txt", headers={"If-None-Match": r1.header("ETag")})
        eq(r.status, 200, "If-None-Match with the old ETag")
        os.unlink(p)
        check(wait_for(lambda: s.get("/static/foo.txt").status == 404, 3, step=0.1),
              "deleted file still served after 3s")


# ------------------------------------------------------------------ conditionals

def _date(t):
    return email.utils.formatdate(t, usegmt=True)


def test_conditional_matrix():
    with files_server() as s:
        base = s.get("/static/hello.txt")
        etag = base.header("ETag")
        lm = base.header("Last-Modified")
        eq(lm, MTIME_HTTP)
        later, earlier = _date(MTIME + 3600), _date(MTIME - 86400)
        table = [
            ({"If-None-Match": etag}, 304),
            ({"If-None-Match": "*"}, 304),
            ({"If-None-Match": '"nope", %s' % etag}, 304),
            ({"If-None-Match": '"a","b" , %s,"c"' % etag}, 304),
            ({"If-None-Match": '"nope"'}, 200),
            ({"If-Modified-Since": lm}, 304),
            ({"If-Modified-Since": later}, 304),
            ({"If-Modified-Since": earlier}, 200),
            ({"If-Modified-Since": "not a date"}, 200),
            ({"If-None-Match": '"nope"', "If-Modified-Since": lm}, 200),
            ({"If-None-Match": etag, "If-Modified-Since": earlier}, 304),
            ({"If-Match": '"nope"'}, 412),
            ({"If-Match": etag}, 200),
            ({"If-Match": '"x", %s' % etag}, 200),
            ({"If-Match": "*"}, 200),
            ({"If-Unmodified-Since": earlier}, 412),
            ({"If-Unmodified-Since": lm}, 200),
            ({"If-Unmodified-Since": later}, 200),
            ({"If-Match": '"nope"', "If-None-Match": etag}, 412),
        ]
        bad = []
        for hdrs, want in table:
            for method in ("GET", "HEAD"):
                r = s.request(method, "/static/hello.txt", hdrs)
                why = []
                if r.status != want:
                    why.append("status %d" % r.status)
                if want == 304:
                    if r.header("ETag") != etag:
                        why.append("ETag %r" % r.header("ETag"))
                    if r.body:
                        why.append("body %r" % r.body[:40])
                if want == 200 and method == "GET" and r.body != HELLO:
                    why.append("body %r" % r.body[:40])
                if want == 412 and r.body == HELLO:
                    why.append("412 carries the file")
                if why:
                    bad.append("%s %r -> want %d: %s" % (method, hdrs, want, ", ".join(why)))
        check(not bad, "\n  " + "\n  ".join(bad))


def test_conditionals_with_subsecond_mtime():
    # HTTP dates have 1 s resolution: a file modified at T+0.7 s is "T".
    with files_server() as s:
        r = s.get("/static/frac.txt")
        eq(r.header("Last-Modified"), MTIME_HTTP)
        lm = r.header("Last-Modified")
        eq(s.get("/static/frac.txt", {"If-Modified-Since": lm}).status, 304,
           "If-Modified-Since = Last-Modified of a file with a sub-second mtime")
        eq(s.get("/static/frac.txt", {"If-Unmodified-Since": lm}).status, 200,
           "If-Unmodified-Since = Last-Modified of a file with a sub-second mtime")


def test_304_has_no_body_on_keepalive():
    with files_server() as s:
        etag = s.get("/static/hello.txt").header("ETag")
        with s.connect() as c:
            c.send(build_request("GET", "/static/hello.txt", {"If-None-Match": etag}))
            c.send(build_request("GET", "/static/foo.txt"))
            r1, r2 = c.read_responses(2)
            eq(r1.status, 304)
            # RFC 9110 8.6: only the 200's length, if any
            check(r1.header("Content-Length") in (None, "100"),
                  "304 Content-Length %r" % r1.header("Content-Length"))
            eq(r2.status, 200, "next response on the same connection (304 sent a body?)")
            eq(r2.body, b"foo\n")


# ------------------------------------------------------------------ ranges

RANGES = [
    # (Range, extra headers, status, Content-Range, (start, end) or None for whole)
    ("bytes=0-9", {}, 206, "bytes 0-9/100", (0, 10)),
    ("bytes=10-", {}, 206, "bytes 10-99/100", (10, 100)),
    ("bytes=-5", {}, 206, "bytes 95-99/100", (95, 100)),
    ("bytes=99-99", {}, 206, "bytes 99-99/100", (99, 100)),
    ("bytes=90-200", {}, 206, "bytes 90-99/100", (90, 100)),
    ("bytes=0-", {}, 206, "bytes 0-99/100", (0, 100)),
    ("bytes=100-", {}, 416, "bytes */100", None),
    ("bytes=100-200", {}, 416, "bytes */100", None),
    ("bytes=0-1,4-5", {}, 200, None, None),
    ("bytes=5-2", {}, 200, None, None),
    ("bytes=abc", {}, 200, None, None),
    ("bytes=", {}, 200, None, None),
    ("bytes 0-9", {}, 200, None, None),
    ("items=0-9", {}, 200, None, None),
    ("bytes=0-9", {"If-Range": "@ETAG@"}, 206, "bytes 0-9/100", (0, 10)),
    ("bytes=0-9", {"If-Range": '"old-etag"'}, 200, None, None),
    ("bytes=0-9", {"If-None-Match": "@ETAG@"}, 304, None, None),
    ("bytes=0-9", {"If-Match": '"old-etag"'}, 412, None, None),
]


def test_range_matrix():
    with files_server() as s:
        etag = s.get("/static/hello.txt").header("ETag")
        bad = []
        for rng, extra, want, crange, span in RANGES:
            hdrs = {"Range": rng}
            hdrs.update({k: v.replace("@ETAG@", etag) for k, v in extra.items()})
            for method in ("GET", "HEAD"):
                r = s.request(method, "/static/hello.txt", hdrs)
                why = []
                if r.status != want:
                    why.append("status %d" % r.status)
                if r.header("Content-Range") != crange and want != 200:
                    why.append("Content-Range %r" % r.header("Content-Range"))
                if want == 200 and r.has("Content-Range"):
                    why.append("Content-Range %r on a 200" % r.header("Content-Range"))
                if want == 206:
                    body = HELLO[span[0]:span[1]]
                    if r.header("Content-Length") != str(len(body)):
                        why.append("Content-Length %r" % r.header("Content-Length"))
                    if method == "GET" and r.body != body:
                        why.append("body %r" % r.body)
                    if r.header("Content-Type") != "text/plain; charset=utf-8":
                        why.append("Content-Type %r" % r.header("Content-Type"))
                if want == 200:
                    if r.header("Content-Length") != "100":
                        why.append("Content-Length %r" % r.header("Content-Length"))
                    if method == "GET" and r.body != HELLO:
                        why.append("body %r" % r.body[:40])
                if want == 416 and HELLO[:10] in r.body:
                    why.append("416 carries file bytes")
                if why:
                    bad.append("%s Range %r %r -> want %d: %s" % (method, rng, extra, want,
                                                                    ", ".join(why)))
        check(not bad, "\n  " + "\n  ".join(bad))


def test_range_edge_cases():
    with files_server() as s:
        bad = []
        for path, rng, allowed in (
                ("/static/hello.txt", "bytes=99999999999999999999-", {200, 416}),
                ("/static/hello.txt", "bytes=0-99999999999999999999", {200, 206}),
                ("/static/hello.txt", "bytes=-99999999999999999999", {200, 206}),
                ("/static/hello.txt", "bytes=18446744073709551615-", {200, 416}),
                ("/static/hello.txt", "bytes=-200", {200, 206}),
                ("/static/hello.txt", "bytes=-0", {200, 416}),
                ("/static/hello.txt", "bytes=0-9, ", {200, 206}),
                ("/static/hello.txt", "bytes=--5", {200}),
                ("/static/hello.txt", "bytes=1-2-3", {200}),
                ("/static/empty.txt", "bytes=0-0", {200, 416}),
                ("/static/empty.txt", "bytes=-5", {200, 416}),
        ):
            r = s.get(path, {"Range": rng})
            size = len(TREE[path.rsplit("/", 1)[1]])
            why = []
            if r.status not in allowed:
                why.append("status %d not in %s" % (r.status, sorted(allowed)))
            elif r.status == 200 and r.body != TREE[path.rsplit("/", 1)[1]]:
                why.append("200 with body %r" % r.body[:30])
            elif r.status == 206:
                m = re.fullmatch(r"bytes (\d+)-(\d+)/%d" % size, r.header("Content-Range") or "")
                if not m or r.body != HELLO[int(m.group(1)):int(m.group(2)) + 1]:
                    why.append("206 %r body %r" % (r.header("Content-Range"), r.body[:30]))
            elif r.status == 416 and r.header("Content-Range") != "bytes */%d" % size:
                why.append("416 Content-Range %r" % r.header("Content-Range"))
            if why:
                bad.append("%s Range %r: %s" % (path, rng, ", ".join(why)))
        check(not bad, "\n  " + "\n  ".join(bad))
        eq(s.get("/static/hello.txt").body, HELLO, "server alive")


def test_range_on_big_file_and_file_root():
    with files_server() as s:
        with open(os.path.join(big_root(), "big.bin"), "rb") as f:
            f.seek(BIG_SIZE - 1000)
            tail = f.read()
            f.seek(12345678)
            mid = f.read(1 << 20)
        r = s.get("/big/big.bin", headers={"Range": "bytes=-1000"})
        eq(r.status, 206)
        eq(r.header("Content-Range"), "bytes %d-%d/%d" % (BIG_SIZE - 1000, BIG_SIZE - 1, BIG_SIZE))
        check(r.body == tail, "suffix range bytes differ")
        r = s.request("GET", "/big/big.bin",
                      {"Range": "bytes=12345678-%d" % (12345678 + (1 << 20) - 1)}, timeout=10)
        eq(r.status, 206)
        check(r.body == mid, "middle 1 MiB range bytes differ")
        r = s.get("/one.txt", headers={"Range": "bytes=3-5"})
        eq(r.status, 206)
        eq(r.body, HELLO[3:6])
        # a pipelined request after an 8 MiB body on the same connection
        with s.connect(timeout=10) as c:
            c.send(build_request("GET", "/big/big.bin", {"Range": "bytes=0-%d" % ((8 << 20) - 1)})
                   + build_request("GET", "/static/foo.txt"))
            r1 = c.read_response()
            r2 = c.read_response()
            eq((r1.status, len(r1.body)), (206, 8 << 20))
            with open(os.path.join(big_root(), "big.bin"), "rb") as f:
                check(r1.body == f.read(8 << 20), "8 MiB range bytes differ")
            eq((r2.status, r2.body), (200, b"foo\n"))


def test_pipelined_file_answers_in_order():
    with files_server() as s:
        etag = s.get("/static/hello.txt").header("ETag")
        with s.connect() as c:
            c.send(build_request("GET", "/static/hello.txt")
                   + build_request("GET", "/static/hello.txt", {"If-None-Match": etag})
                   + build_request("GET", "/static/hello.txt", {"Range": "bytes=-5"})
                   + build_request("HEAD", "/static/comp.txt")
                   + build_request("GET", "/static/sub/page.txt"))
            rs = [c.read_response(), c.read_response(), c.read_response(),
                  c.read_response(head_only=True), c.read_response()]
            eq([r.status for r in rs], [200, 304, 206, 200, 200])
            eq(rs[0].body, HELLO)
            eq(rs[2].body, HELLO[95:])
            eq(rs[4].body, b"page\n")


# ------------------------------------------------------------------ precompressed

PRECOMP = [
    # (path, Accept-Encoding or None, expected Content-Encoding, body, Content-Type, Vary expected)
    ("/static/comp.txt", "gzip, br", "br", COMP_BR, "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "br", "br", COMP_BR, "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "gzip", "gzip", TREE["comp.txt.gz"], "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "deflate, gzip;q=0.5", "gzip", TREE["comp.txt.gz"],
     "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "br;q=0, gzip", "gzip", TREE["comp.txt.gz"],
     "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "br;q=0, gzip;q=0", None, COMP, "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "gzip;q=0", None, COMP, "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "identity", None, COMP, "text/plain; charset=utf-8", True),
    ("/static/comp.txt", None, None, COMP, "text/plain; charset=utf-8", True),
    ("/static/comp.txt", "*", "br", COMP_BR, "text/plain; charset=utf-8", True),
    ("/static/gzonly.css", "br, gzip", "gzip", TREE["gzonly.css.gz"], "text/css; charset=utf-8",
     True),
    ("/static/gzonly.css", "br", None, CSS, "text/css; charset=utf-8", True),
    ("/static/hello.txt", "gzip, br", None, HELLO, "text/plain; charset=utf-8", False),
    ("/nopre/comp.txt", "gzip, br", None, COMP, "text/plain; charset=utf-8", False),
]


def test_precompressed_matrix():
    with files_server() as s:
        bad = []
        for path, ae, enc, body, ctype, vary in PRECOMP:
            hdrs = {"Accept-Encoding": ae} if ae is not None else {}
            for method in ("GET", "HEAD"):
                r = s.request(method, path, hdrs)
                why = []
                if r.status != 200:
                    why.append("status %d" % r.status)
                if r.header("Content-Encoding") != enc:
                    why.append("Content-Encoding %r" % r.header("Content-Encoding"))
                if r.header("Content-Length") != str(len(body)):
                    why.append("Content-Length %r (want %d)" % (r.header("Content-Length"),
                                                                len(body)))
                if method == "GET" and r.body != body:
                    why.append("body %r" % r.body[:30])
                if r.header("Content-Type") != ctype:
                    why.append("Content-Type %r" % r.header("Content-Type"))
                v = ",".join(r.header_all("Vary")).lower()
                if vary and "accept-encoding" not in v:
                    why.append("Vary %r" % v)
                if why:
                    bad.append("%s %s AE=%r: %s" % (method, path, ae, ", ".join(why)))
        check(not bad, "\n  " + "\n  ".join(bad))


def test_precompressed_validators_per_variant():
    with files_server() as s:
        plain = s.get("/static/comp.txt")
        gz = s.get("/static/comp.txt", {"Accept-Encoding": "gzip"})
        br = s.get("/static/comp.txt", {"Accept-Encoding": "br"})
        tags = [plain.header("ETag"), gz.header("ETag"), br.header("ETag")]
        check(len(set(tags)) == 3, "each representation needs its own strong ETag: %r" % tags)
        r = s.get("/static/comp.txt", {"Accept-Encoding": "br", "If-None-Match": br.header("ETag")})
        eq(r.status, 304, "If-None-Match with the br ETag")
        r = s.get("/static/comp.txt", {"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
        if r.status == 206:
            eq(r.body, TREE["comp.txt.gz"][:10], "range of the gzip variant")
            eq(r.header("Content-Encoding"), "gzip")
        else:
            eq(r.status, 200)
            eq(r.body, TREE["comp.txt.gz"])


# ------------------------------------------------------------------ HEAD parity

def test_head_parity():
    with files_server() as s:
        etag = s.get("/static/hello.txt").header("ETag")
        cases = [
            ("/static/hello.txt", {}),
            ("/static/", {}),
            ("/static/img.png", {}),
            ("/static/hello.txt", {"Range": "bytes=10-19"}),
            ("/static/hello.txt", {"Range": "bytes=500-"}),
            ("/static/hello.txt", {"If-None-Match": etag}),
            ("/static/comp.txt", {"Accept-Encoding": "gzip, br"}),
            ("/static/sub", {}),
            ("/static/noindex/", {}),
            ("/list/noindex/", {}),
            ("/static/nope", {}),
        ]
        bad = []
        for path, hdrs in cases:
            g = s.request("GET", path, hdrs, timeout=10)
            h = s.request("HEAD", path, hdrs)
            gh = [(k.lower(), v) for k, v in g.headers if k.lower() != "date"]
            hh = [(k.lower(), v) for k, v in h.headers if k.lower() != "date"]
            if g.status != h.status or sorted(gh) != sorted(hh):
                bad.append("%s %r: GET %d %r / HEAD %d %r"
                           % (path, hdrs, g.status, gh, h.status, hh))
        check(not bad, "\n  " + "\n  ".join(bad))
        g, n, _ = fetch_stream(s.port, "/big/big.bin")
        h = head(s, "/big/big.bin")
        eq(n, BIG_SIZE)
        eq(sorted((k.lower(), v) for k, v in h.headers if k.lower() != "date"),
           sorted((k.lower(), v) for k, v in g.headers if k.lower() != "date"), "big file HEAD")
        # no body bytes after a HEAD: the next response parses right
        with s.connect() as c:
            c.send(build_request("HEAD", "/static/hello.txt")
                   + build_request("HEAD", "/big/big.bin")
                   + build_request("GET", "/static/foo.txt"))
            r1 = c.read_response(head_only=True)
            r2 = c.read_response(head_only=True)
            r3 = c.read_response()
            eq((r1.status, r2.status, r3.status), (200, 200, 200))
            eq(r3.body, b"foo\n")
            eq(c.read_some(0.3), b"", "bytes after the last response")


# ------------------------------------------------------------------ directories

class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href is not None:
                self.links.append(href)


def listed(body, base):
    """{entry name (decoded, '/' kept on directories): URL path} for every
    link of a listing at base that points strictly below base."""
    p = _Links()
    p.feed(body.decode("utf-8"))
    p.close()
    out = {}
    for h in p.links:
        url = urllib.parse.urljoin(base, h)
        url = urllib.parse.quote(url, safe="/%:@!$&'()*+,;=-._~")
        if url.startswith(base) and len(url) > len(base):
            out[urllib.parse.unquote(url[len(base):])] = url
    return out


def test_directory_redirect_index_403():
    if NO_OPENAT2:
        raise Skip(NO_OPENAT2)
    with files_server() as s:
        for path, loc in (("/static/sub", "/static/sub/"),
                          ("/static/sub?x=1&y=2", "/static/sub/?x=1&y=2"),
                          ("/static/noindex", "/static/noindex/"),
                          ("/list/noindex/child?q", "/list/noindex/child/?q")):
            r = s.get(path)
            eq(r.status, 301, path)
            got = r.header("Location") or ""
            check(got == loc or got.endswith("//localhost" + loc),
                  "%s: Location %r, want %r" % (path, got, loc))
            check(HELLO not in r.body, "redirect body")
        r = s.get("/static/")
        eq(r.status, 200)
        eq(r.body, TREE["index.html"])
        eq(r.header("Content-Type"), "text/html; charset=utf-8")
        r = s.get("/static/withindex/")
        eq(r.status, 200)
        eq(r.body, TREE["withindex/index.html"])
        eq(r.header("Content-Type"), "text/html; charset=utf-8")
        r = s.get("/idx/")
        eq(r.status, 200)
        eq(r.body, TREE["home.htm"], "the first existing index name wins")
        eq(s.get("/idx/withindex/").body, TREE["withindex/index.html"], "second index name")
        r = s.get("/static/noindex/")
        eq(r.status, 403, "directory without index, list: false")
        check(b"a.txt" not in r.body, "403 body lists the directory")
        eq(s.get("/static/linkdir-in/").status, 403, "symlinked directory without index")
        eq(s.get("/list/").body, TREE["index.html"], "index wins over listing")


def test_directory_listing():
    with files_server() as s:
        r = s.get("/list/noindex/")
        eq(r.status, 200)
        eq(r.header("Content-Type"), "text/html; charset=utf-8")
        check(b"a<b>" not in r.body and b'&"c' not in r.body,
              "name not HTML-escaped: %r" % r.body)
        check(b"a&lt;b&gt;&amp;" in r.body, "escaped name missing: %r" % r.body)
        entries = listed(r.body, "/list/noindex/")
        eq(sorted(entries), sorted(["a.txt", ODD, "child/"]), "listed entries")
        # every link works
        for name, url in entries.items():
            got = s.get(url)
            eq(got.status, 200, "following %r (%s)" % (name, url))
            if name == ODD:
                eq(got.body, b"odd\n")
        # dotfiles shown with dotfiles: true
        r = s.get("/listdot/noindex/")
        eq(r.status, 200)
        entries = listed(r.body, "/listdot/noindex/")
        eq(sorted(entries), sorted([".dot", "a.txt", ODD, "child/"]), "listed with dotfiles: true")
        # subdirectory listing
        r = s.get("/list/noindex/child/")
        eq(r.status, 200)
        eq(sorted(listed(r.body, "/list/noindex/child/")), ["x.txt"])
        # an empty directory lists nothing (fuzzing found UB sorting no entries)
        os.mkdir(os.path.join(s.root, "noindex", "empty"))
        r = s.get("/list/noindex/empty/")
        eq(r.status, 200)
        eq(listed(r.body, "/list/noindex/empty/"), {}, "entries of an empty directory")


# ------------------------------------------------------------------ safety

TRAVERSAL = [
    # (raw request target, acceptable statuses)
    ("/static/../etc/passwd", {404}),
    ("/static/sub/../../etc/passwd", {404}),
    ("/static/%2e%2e/%2e%2e/etc/passwd", {400}),
    ("/static/..%2f..%2fetc/passwd", {400}),
    ("/static/%2e%2e%5c%2e%2e%5cetc%5cpasswd", {400}),
    ("/static/sub%5c..%5c..%5coutside.txt", {400}),
    ("/static/foo%00.txt", {400}),
    ("/static/.hidden", {404}),
    ("/static/%2ehidden", {404}),
    ("/static/sub/.git/config", {404}),
    ("/static/sub/.git/", {404}),
    ("/static/link-out", {404}),
    ("/static/linkdir-out/passwd", {404}),
    ("/static/link-up", {404}),
    ("/static//etc/passwd", {400, 404}),
    ("/static/loop", {403, 404}),
    ("/one.txt/../static/.hidden", {404}),
    ("/static/" + "a" * 300, {404, 414}),
    ("/static/" + "/".join(["d"] * 200), {404, 414}),
]


def test_traversal_table():
    with files_server() as s:
        bad = []
        for target, want in TRAVERSAL:
            with s.connect() as c:
                c.send(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                        % target).encode("latin-1"))
                data = c.read_until_close(timeout=3)
            rs = parse_all(data)
            status = rs[0].status if rs else None
            if status not in want:
                bad.append("%s -> %s, want %s" % (target, status, sorted(want)))
            for sec in SECRETS:
                if sec in data:
                    bad.append("%s leaked %r" % (target, sec))
        check(not bad, "\n  " + "\n  ".join(bad))
        # the same with curl --path-as-is (a real client)
        for target in ("/static/../etc/passwd", "/static/link-out", "/static/link-up"):
            out = curl("--path-as-is", s.url(target)).stdout
            check(b"root:" not in out and OUTSIDE.strip() not in out, "curl %s leaked" % target)


def test_fifo_does_not_block_the_server():
    # Opening a FIFO for reading blocks until a writer comes: the server
    # must refuse it (not regular file) without stalling other clients.
    with files_server() as s:
        with s.connect() as c:
            c.send(build_request("GET", "/static/fifo"))
            t = time.monotonic()
            other = s.request("GET", "/static/hello.txt", timeout=2)
            eq(other.body, HELLO, "another client while a FIFO is requested")
            check(time.monotonic() - t < 1.0, "other client waited %.2fs" % (time.monotonic() - t))
            r = c.read_response(timeout=2)
            check(r.status in (403, 404), "FIFO -> %d, want 403/404" % r.status)


def test_symlinks_inside_root_and_dotfiles_option():
    if NO_OPENAT2:
        raise Skip(NO_OPENAT2)
    with files_server() as s:
        r = s.get("/static/link-in")
        eq(r.status, 200, "symlink to a file inside root")
        eq(r.body, HELLO)
        r = s.get("/static/linkdir-in/page.txt")
        eq(r.status, 200, "through a symlinked directory inside root")
        eq(r.body, b"page\n")
        r = s.get("/dot/.hidden")
        eq(r.status, 200, "dotfiles: true")
        eq(r.body, b"HIDDEN-SECRET\n")
        eq(s.get("/dot/sub/.git/config").body, b"GIT-SECRET\n")
        for path in ("/dot/link-out", "/dot/link-up", "/dot/linkdir-out/passwd"):
            r = s.get(path)
            eq(r.status, 404, path + " with dotfiles: true")
            check(b"root:" not in r.body and OUTSIDE.strip() not in r.body, path)


def test_unreadable_file_403():
    if os.geteuid() == 0:
        raise Skip("running as root: mode 000 files stay readable")
    with files_server() as s:
        p = os.path.join(s.root, "foo.txt")
        os.chmod(p, 0)
        r = s.get("/static/foo.txt")
        eq(r.status, 403)
        check(b"foo" not in r.body, "403 with content")


# ------------------------------------------------------------------ large bodies

def test_big_file_to_20_concurrent_clients():
    with files_server() as s:
        t0 = time.monotonic()
        results = parallel(lambda i: fetch_stream(s.port, "/big/big.bin", timeout=20), 20, 22)
        elapsed = time.monotonic() - t0
        for i, (resp, n, digest) in enumerate(results):
            eq(resp.status, 200, "client %d" % i)
            eq(n, BIG_SIZE, "client %d length" % i)
            eq(digest, _big["sha"], "client %d sha256" % i)
            eq(resp.header("Content-Type"), "application/octet-stream")
        check(elapsed < 20, "20 x 50 MiB took %.1fs" % elapsed)


def _tcp_state(server_port, client_port):
    """The state (hex, "01" = ESTABLISHED) of the server's side of a
    connection in /proc/net/tcp, or None when it is gone."""
    want = (":%04X" % server_port, ":%04X" % client_port)
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[1].endswith(want[0]) and parts[2].endswith(want[1]):
                    return parts[3]
    except OSError:
        return "unknown"
    return None


def test_slow_reader_closed_by_write_timeout():
    with files_server(extra="timeouts: {write: 1s}\n") as s:
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.settimeout(3)
            slow.connect((HOST, s.port))
            cport = slow.getsockname()[1]
            slow.sendall(build_request("GET", "/big/big.bin"))
            t0 = time.monotonic()
            eq(_tcp_state(s.port, cport), "01", "server side established")
            # others are served fast meanwhile
            time.sleep(0.2)
            for _ in range(5):
                t = time.monotonic()
                r = s.get("/static/hello.txt")
                eq(r.body, HELLO)
                check(time.monotonic() - t < 1.0, "small file took %.2fs" % (time.monotonic() - t))
            t = time.monotonic()
            resp, n, digest = fetch_stream(s.port, "/big/big.bin",
                                           {"Range": "bytes=0-%d" % ((4 << 20) - 1)}, timeout=3)
            eq((resp.status, n), (206, 4 << 20))
            check(time.monotonic() - t < 2.0, "4 MiB range took %.2fs" % (time.monotonic() - t))
            # the stalled client is closed by the server within ~3 s
            closed = wait_for(lambda: _tcp_state(s.port, cport) != "01", 4.0, step=0.05)
            elapsed = time.monotonic() - t0
            check(closed, "server still holds the stalled connection after %.1fs" % elapsed)
            check(elapsed <= 3.2, "stalled client closed only after %.2fs" % elapsed)
            # draining it ends in EOF/RST long before 50 MiB
            got = 0
            slow.settimeout(2)
            try:
                while got < 24 << 20:
                    k = len(slow.recv(1 << 16))
                    if k == 0:
                        break
                    got += k
            except ConnectionResetError:
                pass
            check(got < 24 << 20, "the stalled client still receives data (%d bytes)" % got)
            # and the server still serves
            eq(s.get("/static/foo.txt").body, b"foo\n")
        finally:
            slow.close()


def test_workers_serve_files():
    with files_server(extra="workers: 2\n") as s:
        for _ in range(10):
            r = s.get("/static/hello.txt")
            eq(r.status, 200)
            eq(r.body, HELLO)
        r = s.get("/list/noindex/")
        eq(r.status, 200)
        check(b"a.txt" in r.body, r.body)
        eq(s.get("/static/link-out").status, 404)
        if not NO_OPENAT2:
            eq(s.get("/static/link-in").body, HELLO)
        r = s.get("/static/comp.txt", {"Accept-Encoding": "gzip"})
        eq(r.header("Content-Encoding"), "gzip")
        results = parallel(lambda i: fetch_stream(s.port, "/big/big.bin", timeout=15), 4, 16)
        for resp, n, digest in results:
            eq((resp.status, n, digest), (200, BIG_SIZE, _big["sha"]))


# ------------------------------------------------------------------ configuration

def check_config(text):
    d = tempfile.mkdtemp(prefix="yhttpd-files-cfg-")
    try:
        os.makedirs(os.path.join(d, "www"))
        with open(os.path.join(d, "www", "f.txt"), "w") as f:
            f.write("f\n")
        path = os.path.join(d, "conf.yaml")
        with open(path, "w") as f:
            f.write(text.replace("@D@", d))
        p = yhttpd_run(["-t", "-c", path])
        return path, p.returncode, p.stdout.decode(), p.stderr.decode(), text.replace("@D@", d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


HEAD_CFG = "listen: 127.0.0.1:8080\nworkers: 0\nroutes:\n"


def test_config_good_forms():
    for routes in ("  - GET /s/{p:.*}:\n      files: @D@/www\n",
                   "  - GET /f:\n      files: @D@/www/f.txt\n",
                   "  - GET,HEAD /s/{p:.*}:\n      files: @D@/www\n",
                   "  - HEAD /s/{p:.*}:\n      files: @D@/www\n",
                   "  - GET /s/{p:.*}:\n      files: {root: @D@/www, index: [index.html, i.htm],"
                   " list: true, precompressed: false, max_age: 1h, dotfiles: true}\n",
                   "  - GET /s/{p:.*}:\n      files: {root: @D@/www, max_age: 3600}\n"):
        path, rc, out, err, _ = check_config(HEAD_CFG + routes)
        eq(rc, 0, "%r: stderr %r" % (routes, err))
        eq(out, "%s: ok\n" % path)


CONFIG_ERRORS = [
    # (routes, line(s), allowed columns or the key whose column it is, fragments)
    ("  - GET /s/{p:.*}:\n      files: @D@/missing\n", 5, {7, 14}, ["missing"]),
    ("  - GET /s/{p:.*}:\n      files: {root: @D@/missing}\n", 5, {7, 14, 15, 21}, ["missing"]),
    ("  - POST /s/{p:.*}:\n      files: @D@/www\n", (4, 5), None, ["POST"]),
    ("  - GET,POST /s/{p:.*}:\n      files: @D@/www\n", (4, 5), None, ["POST"]),
    ('  - "* /s/{p:.*}":\n      files: @D@/www\n', (4, 5), None, []),
    ("  - GET /s/{p:.*}:\n      files: {root: @D@/www, dotfile: true}\n", 5, "dotfile",
     ["unknown key `dotfile`", "did you mean `dotfiles`"]),
    ("  - GET /s/{p:.*}:\n      files: {root: @D@/www, max_age: soon}\n", 5, None, ["`soon`"]),
    ("  - GET /s/{p:.*}:\n      files: {list: true}\n", 5, None, ["root"]),
]


def test_config_errors():
    bad = []
    for routes, line, cols, frags in CONFIG_ERRORS:
        text = HEAD_CFG + routes
        path, rc, out, err, text = check_config(text)
        m = re.search(r"^%s:(\d+):(\d+): (.*)$" % re.escape(path), err, re.M)
        why = []
        if rc != 1:
            why.append("exit %d" % rc)
        if not m:
            why.append("no PATH:LINE:COL")
        else:
            ln, col = int(m.group(1)), int(m.group(2))
            lines = line if isinstance(line, tuple) else (line,)
            if ln not in lines:
                why.append("line %d not in %r" % (ln, lines))
            # a key's column depends on the temp dir's length
            if isinstance(cols, str):
                want = text.splitlines()[ln - 1].index(cols) + 1
                if col != want:
                    why.append("col %d, want %d" % (col, want))
            elif cols and col not in cols:
                why.append("col %d not in %r" % (col, sorted(cols)))
        for frag in frags:
            if frag not in err:
                why.append("%r missing" % frag)
        if why:
            bad.append("%r: %s; stderr %r" % (routes.strip(), ", ".join(why), err.strip()))
    check(not bad, "\n  " + "\n  ".join(bad))


if __name__ == "__main__":
    run(globals())

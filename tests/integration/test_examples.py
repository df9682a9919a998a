#!/usr/bin/env python3
"""Route examples: -t runs them, startup refuses failing ones, and so does every reload
(single process and pre-fork), reported like a syntax error."""
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ConfigFile, Server, check, eq, run, wait_for, yhttpd_run  # noqa: E402

OLD = r"""
routes:
  - GET /old:
      text: "old\n"
      examples:
        - {request: "GET /old", status: 200, body: "old\n"}
"""

NEW_OK = OLD + r"""  - GET /new/{name}:
      text: "new {name}\n"
      headers: {X-Name: "{name}"}
      examples:
        - request: "GET /new/bob?x=1"
          body: "new bob\n"
          headers: {x-name: bob}
          contains: [new, bob]
        - {request: "HEAD /new/al", headers: {Content-Length: "7"}}
        - {request: "DELETE /new/al", status: 405, headers: {Allow: "GET, HEAD, OPTIONS"}}
"""

# The same route, its first example expecting the wrong body.
NEW_BAD = NEW_OK.replace('body: "new bob\\n"', 'body: "NEW bob\\n"')


def where(text, needle):
    """(line, col) of needle in text, 1-based."""
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i)


def Conf(text):
    """The config as a file, single-process (its examples run in process)."""
    return ConfigFile("workers: 0\n" + text.lstrip("\n"))


# ------------------------------------------------------------------ -t

def test_t_runs_examples_and_counts_them():
    with Conf(NEW_OK) as c:
        p = yhttpd_run(["-t", "-c", c.path])
        eq(p.returncode, 0, "stderr %r" % p.stderr)
        eq(p.stdout.decode(), "%s: 4 example(s) passed\n%s: ok\n" % (c.path, c.path))
        eq(p.stderr, b"")


def test_t_failure_names_file_line_col():
    with Conf(NEW_BAD) as c:
        p = yhttpd_run(["-t", "-c", c.path])
        eq(p.returncode, 1)
        line, col = where(c.text, '"NEW bob')
        err = p.stderr.decode()
        eq(err, '%s:%d:%d: example 1 of "GET /new/{name}": expected body "NEW bob\\n", '
                'got "new bob\\n"\n%s: 1 of 4 example(s) failed\n' % (c.path, line, col, c.path))
        check("ok" not in p.stdout.decode(), p.stdout)


def test_t_status_header_and_contains_mismatches():
    text = r"""
routes:
  - GET /a/{x}:
      text: "a {x}\n"
      examples:
        - {request: "GET /b/1", status: 200}
        - request: "GET /a/1"
          headers: {Content-Type: text/html, X-None: "1"}
          contains: zzz
  - GET /r:
      redirect: /elsewhere
      examples:
        - {request: "GET /r", status: 301}
"""
    with Conf(text) as c:
        p = yhttpd_run(["-t", "-c", c.path])
        eq(p.returncode, 1)
        err = p.stderr.decode()
        lines = err.splitlines()
        label = ' example %d of "%s": '
        want = [
            ("200}", label % (1, "GET /a/{x}") + "expected status 200, got 404"),
            ("text/html", label % (2, "GET /a/{x}") + 'expected header Content-Type: '
             '"text/html", got "text/plain; charset=utf-8"'),
            ('"1"}', label % (2, "GET /a/{x}") + 'expected header X-None: "1", got none'),
            ("zzz", label % (2, "GET /a/{x}") + 'expected the body to contain "zzz", '
             'got "a 1\\n"'),
            ("301}", label % (1, "GET /r") + "expected status 301, got 302"),
        ]
        eq(len(lines), len(want) + 1, err)
        for got, (needle, msg) in zip(lines, want):
            eq(got, "%s:%d:%d:%s" % ((c.path,) + where(c.text, needle) + (msg,)))
        eq(lines[-1], "%s: 3 of 3 example(s) failed" % c.path)


def test_t_request_side_keys_and_echo():
    text = r"""
routes:
  - "POST /echo":
      echo: body
      examples:
        - request: "POST /echo"
          request_headers: {Content-Type: text/x-y}
          request_body: "a\0b"
          body: "a\0b"
          headers: {Content-Type: text/x-y}
  - GET /j:
      json: {ok: true, q: "{query.q}"}
      examples:
        - {request: "GET /j?q=1", body: '{"ok":true,"q":"1"}'}
  - GET /health:
      health: {}
      examples:
        - {request: "GET /health", body: "ok\n"}
"""
    with Conf(text) as c:
        p = yhttpd_run(["-t", "-c", c.path])
        eq(p.returncode, 0, p.stderr)
        check(b": 3 example(s) passed\n" in p.stdout, p.stdout)


def test_t_files_example():
    root = tempfile.mkdtemp(prefix="yhttpd-ex-root-")
    try:
        with open(os.path.join(root, "a.txt"), "w") as f:
            f.write("x" * 100000)  # over the small-file cut: sent with sendfile
        text = """
routes:
  - GET /static/{path:.*}:
      files: %s
      examples:
        - {request: "GET /static/a.txt", headers: {Content-Length: "100000"}, contains: xxxx}
        - {request: "GET /static/missing", status: 404}
""" % root
        with Conf(text) as c:
            p = yhttpd_run(["-t", "-c", c.path])
            eq(p.returncode, 0, p.stderr)
            check(b": 2 example(s) passed\n" in p.stdout, p.stdout)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_t_skips_asynchronous_handlers():
    text = r"""
routes:
  - GET /up:
      proxy: http://127.0.0.1:9/
      examples:
        - {request: "GET /up", status: 200}
"""
    with Conf(text) as c:
        p = yhttpd_run(["-t", "-c", c.path])
        eq(p.returncode, 0, p.stderr)
        line, col = where(c.text, "{request")
        eq(p.stdout.decode(),
           '%s:%d:%d: example 1 of "GET /up": skipped (asynchronous handler `proxy`)\n'
           "%s: 0 example(s) passed, some skipped (asynchronous handlers)\n%s: ok\n"
           % (c.path, line, col, c.path, c.path))


# ------------------------------------------------------------------ startup

def test_startup_refused_when_examples_fail():
    with Conf(NEW_BAD) as c:
        port = socket.socket()
        port.bind(("127.0.0.1", 0))
        listen = "listen: 127.0.0.1:%d\n" % port.getsockname()[1]
        port.close()
        with open(c.path, "w") as f:
            f.write(listen + c.text)
        p = yhttpd_run(["-c", c.path], timeout=10)
        eq(p.returncode, 1, "exit status (stderr %r)" % p.stderr)
        line, col = where(listen + c.text, '"NEW bob')
        check(("%s:%d:%d: example 1 of" % (c.path, line, col)).encode() in p.stderr, p.stderr)


# ------------------------------------------------------------------ reload

class NotifySocket:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="yhttpd-ex-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.messages = []

    def wait_for(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.messages.append(self.sock.recv(4096).decode("utf-8", "replace"))
            except (socket.timeout, BlockingIOError):
                pass
            if pred(self.messages) or time.monotonic() >= deadline:
                return pred(self.messages)

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def get(s, path):
    r = s.get(path)
    return r.status, r.body


def reload_guard(workers):
    ns = NotifySocket()
    try:
        head = "workers: %d\n" % workers
        s = Server(head + OLD, env={"NOTIFY_SOCKET": ns.path})
        with s:
            eq(get(s, "/old"), (200, b"old\n"))
            # failing examples: refused, logged with FILE:LINE:COL, old routes serve on
            text = s.write_config(head + NEW_BAD)
            n0 = len(ns.messages)
            s.signal(signal.SIGHUP)
            line, col = where(text, '"NEW bob')
            pat = (r"reload failed, keeping the running config:\s*\n" + re.escape(s.config_path)
                   + r":%d:%d: example 1 of \"GET /new/\{name\}\": expected body" % (line, col))
            check(wait_for(lambda: re.search(pat, s.stderr_text()), 5),
                  "no `reload failed ... %s:%d:%d: example` in the error log:\n%s"
                  % (s.config_path, line, col, s.stderr_text()[-2000:]))
            check(ns.wait_for(lambda m: any("STATUS=" in x and "fail" in x for x in m[n0:]), 3),
                  "failed reload not reported through STATUS=: %r" % ns.messages[n0:])
            for _ in range(4):
                eq(get(s, "/old"), (200, b"old\n"), "old route after a refused reload")
                eq(get(s, "/new/bob")[0], 404, "route of a refused reload")
            # passing examples: accepted
            s.write_config(head + NEW_OK)
            s.signal(signal.SIGHUP)
            check(wait_for(lambda: all(get(s, "/new/bob") == (200, b"new bob\n")
                                       for _ in range(4)), 5),
                  "reload with passing examples not applied:\n" + s.stderr_text()[-2000:])
            eq(get(s, "/old"), (200, b"old\n"))
            check(re.search(r"reloaded .*: 2 route\(s\)", s.stderr_text()), s.stderr_text())
            # the examples' own exchanges never reach the access log
            check(wait_for(lambda: "GET /new/bob HTTP/1.1\" 200" in s.access_text(), 2),
                  "no access log line for a real request:\n" + s.access_text())
            check("unix" not in s.access_text() and "HEAD /new/al" not in s.access_text(),
                  "example requests in the access log:\n" + s.access_text())
            eq(s.stop(), 0)
    finally:
        ns.close()


def test_reload_guard_single_process():
    reload_guard(0)


def test_reload_guard_two_workers():
    reload_guard(2)


if __name__ == "__main__":
    run(globals(), tools=())

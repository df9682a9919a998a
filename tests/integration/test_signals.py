#!/usr/bin/env python3
"""Signals: TERM/INT graceful stop, QUIT immediate, HUP reload, USR1 reopen, pid_file."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, build_request, check, eq, run, slow_body_through_sigterm, wait_for  # noqa: E402

ROUTES = r"""
routes:
  - GET /old:
      text: "old\n"
  - "* /body":
      echo: body
"""

RELOADED = r"""
routes:
  - GET /new:
      text: "new\n"
  - "* /body":
      echo: body
"""


# ------------------------------------------------------------------ TERM / INT / QUIT

def test_sigterm_with_idle_keepalive_exits_promptly():
    with Server(ROUTES) as s:
        with s.connect() as c:
            c.send(build_request("GET", "/old"))
            eq(c.read_response().status, 200)
            t0 = time.monotonic()
            s.signal(signal.SIGTERM)
            rc = s.wait(timeout=3)
            eq(rc, 0, "exit status after SIGTERM")
            check(time.monotonic() - t0 < 1.0, "exit took %.2fs" % (time.monotonic() - t0))
            check(c.closed_within(1), "idle keep-alive connection not closed")
            eq(c.buf, b"", "idle connection got bytes at stop")


def test_sigint_graceful_exit():
    with Server(ROUTES) as s:
        s.signal(signal.SIGINT)
        eq(s.wait(timeout=3), 0, "exit status after SIGINT")


def test_sigterm_during_slow_request():
    with Server(ROUTES) as s:
        slow_body_through_sigterm(s)


def test_sigterm_pipelined_rest_not_served():
    # A complete request in flight is answered; the server does not start a
    # new one after the stop (answers carry Connection: close).
    with Server(ROUTES) as s:
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
            time.sleep(0.15)
            s.signal(signal.SIGTERM)
            time.sleep(0.1)
            c.send(b"cd" + build_request("GET", "/old"))
            r = c.read_response()
            eq((r.status, r.body, r.header("Connection")), (200, b"abcd", "close"))
            eq(c.read_until_close(timeout=2), b"",
               "bytes after an answer carrying Connection: close (RFC 9112 9.6)")
            eq(s.wait(timeout=3), 0)


def test_sigquit_immediate():
    with Server(ROUTES) as s:
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123")
            time.sleep(0.15)
            t0 = time.monotonic()
            s.signal(signal.SIGQUIT)
            rc = s.wait(timeout=3)
            check(rc is not None, "server still running after SIGQUIT")
            check(time.monotonic() - t0 < 1.0, "SIGQUIT exit took %.2fs" % (time.monotonic() - t0))
            eq(rc, 0, "exit status after SIGQUIT")
            check(c.closed_within(1), "in-flight connection not closed by SIGQUIT")
            eq(c.buf, b"", "SIGQUIT must not answer the in-flight request")


# ------------------------------------------------------------------ HUP

def test_sighup_reload_same_connection():
    with Server(ROUTES) as s:
        with s.connect() as c:
            c.send(build_request("GET", "/old"))
            eq(c.read_response().body, b"old\n")
            c.send(build_request("GET", "/new"))
            eq(c.read_response().status, 404)
            s.write_config(RELOADED)
            s.signal(signal.SIGHUP)
            statuses = []

            def new_served():
                c.send(build_request("GET", "/new"))
                r = c.read_response()
                statuses.append(r.status)
                check(r.header("Connection") is None, "reload closed the connection: %r" % r)
                return r.status == 200 and r.body == b"new\n"
            check(wait_for(new_served, 3, step=0.05), "/new never served: %r" % statuses)
            c.send(build_request("GET", "/old"))
            eq(c.read_response().status, 404, "/old after reload")
            check(not c.eof, "connection closed by the reload")
        check(wait_for(lambda: re.search(r"reload", s.stderr_text()), 1),
              "no reload message in the error log")
        eq(s.get("/new").body, b"new\n", "new connection after reload")
        eq(s.stop(), 0)


def test_sighup_changes_server_header():
    """The answer's fixed status block is cached: a reload must still change it."""
    with Server("server_header: first\n" + ROUTES) as s:
        eq(s.get("/old").header("Server"), "first")
        for name in ("second-longer-name", "third", None):
            s.write_config(("server_header: %s\n" % (name or "false")) + ROUTES)
            s.signal(signal.SIGHUP)
            check(wait_for(lambda: s.get("/old").header("Server") == name, 3),
                  "Server header not %r after reload: %r" % (name, s.get("/old").header("Server")))


def test_sighup_broken_file_keeps_old_config():
    with Server(ROUTES) as s:
        with s.connect() as c:
            c.send(build_request("GET", "/old"))
            eq(c.read_response().status, 200)
            text = s.render(ROUTES)
            lines = text.splitlines()
            line_no = len(lines) + 2
            s.write_raw_config(text + "  - GET /broken:\n      txt: \"x\"\n")
            s.signal(signal.SIGHUP)
            pat = re.escape(s.config_path) + r":%d:7:" % line_no
            check(wait_for(lambda: re.search(pat, s.stderr_text()), 2),
                  "error log lacks %s:%d:7: %r" % (s.config_path, line_no, s.stderr_text()[-500:]))
            check("did you mean `text`" in s.stderr_text(), "no suggestion in the error log")
            c.send(build_request("GET", "/old"))
            r = c.read_response()
            eq((r.status, r.body), (200, b"old\n"), "old route on the same connection")
            check(s.proc.poll() is None, "server died on a bad reload")
        eq(s.get("/old").status, 200, "old route on a new connection")
        eq(s.get("/broken").status, 404)
        # a YAML syntax error too
        s.write_raw_config(s.render(ROUTES) + "  - GET /x: {text: [a\n")
        s.signal(signal.SIGHUP)
        check(wait_for(lambda: re.search(re.escape(s.config_path) + r":\d+:\d+: YAML",
                                          s.stderr_text()), 2), "no YAML error logged")
        eq(s.get("/old").status, 200)


def test_sighup_in_flight_request_finishes():
    # A request whose head was parsed before the reload is answered by the
    # route it matched, even though the new file removes it.
    with Server(ROUTES) as s:
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
            time.sleep(0.15)
            s.write_config("routes:\n  - GET /new:\n      text: \"new\\n\"\n")
            s.signal(signal.SIGHUP)
            check(wait_for(lambda: "reload" in s.stderr_text(), 2), "no reload logged")
            c.send(b"def")
            r = c.read_response()
            eq((r.status, r.body), (200, b"abcdef"))
            c.send(build_request("POST", "/body", body=b"z"))
            eq(c.read_response().status, 404, "the next request uses the new table")


# ------------------------------------------------------------------ USR1 / pid_file

def test_sigusr1_reopens_access_log():
    with Server(ROUTES) as s:
        eq(s.get("/old").status, 200)
        check(wait_for(lambda: "/old" in s.access_text(), 2), "first line not logged")
        rotated = s.access_log + ".1"
        os.rename(s.access_log, rotated)
        s.signal(signal.SIGUSR1)
        check(wait_for(lambda: os.path.exists(s.access_log), 2), "log not reopened")
        s.request("GET", "/old?after=1")
        check(wait_for(lambda: "after=1" in s.access_text(), 2), "new line not in the new file")
        with open(rotated) as f:
            check("after=1" not in f.read(), "line went to the rotated file")


def test_pid_file_lifecycle():
    s = Server(ROUTES, start=False)
    try:
        pid_path = os.path.join(s.dir, "yhttpd.pid")
        s.write_config("pid_file: %s\n" % pid_path + ROUTES)
        s.start()
        check(os.path.exists(pid_path), "pid file missing while running")
        with open(pid_path) as f:
            eq(f.read().strip(), str(s.pid))
        s.signal(signal.SIGTERM)
        eq(s.wait(timeout=3), 0)
        check(not os.path.exists(pid_path), "pid file left after exit")
    finally:
        s.cleanup()


if __name__ == "__main__":
    run(globals())

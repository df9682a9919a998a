#!/usr/bin/env python3
"""Pre-fork master and workers: worker count, respawn, reload under load,
listeners and worker count changed by reload, graceful/immediate stop,
sd_notify, socket activation, privilege drop, pid_file, health."""
import array
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (HOST, Conn, Server, Skip, build_request, check, children, curl,  # noqa: E402
                     eq, free_port, refused, run, slow_body_through_sigterm, wait_for)

ROUTES = r"""
routes:
  - GET /r:
      text: "one\n"
  - GET /health:
      health: {}
  - "* /body":
      echo: body
"""

ROUTES_TWO = ROUTES.replace(r'"one\n"', r'"two\n"')



def wait_children(s, n, timeout=3.0):
    """Waits until the master has exactly n live children; returns them."""
    got = wait_for(lambda: len(children(s.pid)) == n, timeout)
    kids = children(s.pid)
    check(got and len(kids) == n, "expected %d workers of master %d, found %d: %r"
          % (n, s.pid, len(kids), sorted(kids)))
    return kids


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] != "Z"


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def get_ok(s, path="/r", port=None):
    """One GET on a new connection; returns the body, failing unless 200."""
    port = port or s.port
    with Conn(port) as c:
        c.send(build_request("GET", path))
        r = c.read_response()
    eq(r.status, 200, "GET %s on port %d" % (path, port))
    return r.body


def keepalive_get(c, path="/r"):
    c.send(build_request("GET", path))
    r = c.read_response()
    check(r.status == 200, "keep-alive GET %s: %r" % (path, r))
    check(r.header("Connection") is None, "reload closed the connection: %r" % r)
    return r.body


def skip_unless_root_searchable():
    """A private chroot (root dir mode 0700) leaves `nobody` no path at all, not
    even /proc (which LeakSanitizer needs at exit): nothing to test there."""
    if not os.stat("/").st_mode & 0o001:
        raise Skip("/ is not searchable by other users here")


def reload_to(s, config):
    s.write_config(config)  # atomic rename: the master never reads half a file
    s.signal(signal.SIGHUP)


# ------------------------------------------------------------------ workers

def test_worker_count_and_pids_in_log():
    with Server("workers: 3\n" + ROUTES) as s:
        kids = wait_children(s, 3)
        for pid in kids:
            check(re.search(r"\[%d\] .*worker \d+ started \(pid %d\)" % (s.pid, pid),
                            s.stderr_text()), "master did not log worker pid %d" % pid)
        eq(get_ok(s), b"one\n")
        reload_to(s, "workers: 3\n" + ROUTES_TWO)
        # each worker logs its own reload with its own pid in [pid]
        for pid in kids:
            check(wait_for(lambda: re.search(r"\[%d\] .*reloaded" % pid, s.stderr_text()), 3),
                  "worker %d logged no reload under its own pid:\n%s" % (pid, s.stderr_text()))
        eq(children(s.pid), kids, "reload must not replace workers")


def test_kill9_worker_is_respawned():
    with Server("workers: 2\n" + ROUTES) as s:
        kids = wait_children(s, 2)
        victim = min(kids)
        for _ in range(5):
            eq(get_ok(s), b"one\n")
        # Requests start right at the kill: those queued on the dead worker's
        # socket (kept by the master) must be answered by its replacement.
        results = []

        def burst():
            for _ in range(30):
                try:
                    results.append(get_ok(s))
                except BaseException as e:  # noqa: B902 - reported below
                    results.append(e)
        t = threading.Thread(target=burst, daemon=True)
        os.kill(victim, signal.SIGKILL)
        t0 = time.monotonic()
        t.start()
        new = wait_for(lambda: (children(s.pid) - kids) if len(children(s.pid)) == 2 else None,
                       1.0, step=0.005)
        took = time.monotonic() - t0
        t.join(timeout=10)
        check(not t.is_alive(), "requests after the kill hang")
        bad = [r for r in results if r != b"one\n"]
        check(not bad and len(results) == 30, "requests around the kill failed: %r" % bad[:3])
        check(new, "no new worker within 1 s of kill -9 (children now %r)" % children(s.pid))
        eq(len(new), 1, "new workers")
        check(victim not in children(s.pid), "killed worker still a live child")
        # requests keep being answered, by both workers
        for _ in range(40):
            eq(get_ok(s), b"one\n")
        pat = r"\[%d\] .*worker \d+ \(pid %d\) killed by signal 9; respawning" % (s.pid, victim)
        check(wait_for(lambda: re.search(pat, s.stderr_text()), 1),
              "master log lacks respawning line for %d:\n%s" % (victim, s.stderr_text()))
        check(took < 1.0, "respawn took %.3fs" % took)


# ------------------------------------------------------------------ reload

def test_reload_storm_under_wrk_load():
    if shutil.which("wrk") is None:
        raise Skip("wrk not installed (apt-get install wrk); reload-under-load test not run")
    with Server("workers: 2\n" + ROUTES) as s:
        kids = wait_children(s, 2)
        wrk = subprocess.Popen(["wrk", "-t2", "-c16", "-d10s", s.url("/r")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            configs = ["workers: 2\n" + ROUTES_TWO, "workers: 2\n" + ROUTES]
            sent = 0
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline and sent < 100 and wrk.poll() is None:
                reload_to(s, configs[sent % 2])
                sent += 1
                time.sleep(0.1)
            out, _ = wrk.communicate(timeout=8)
        finally:
            if wrk.poll() is None:
                wrk.kill()
                wrk.wait(timeout=5)
        out = out.decode("utf-8", "replace")
        eq(wrk.returncode, 0, "wrk exit status; output:\n" + out)
        m = re.search(r"(\d+) requests in", out)
        check(m and int(m.group(1)) > 1000, "wrk made too few requests:\n" + out)
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        check(m is None, "wrk saw socket errors during %d reloads:\n%s" % (sent, out))
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        check(m is None, "wrk saw non-2xx answers during %d reloads:\n%s" % (sent, out))
        check(sent >= 50, "only %d reloads sent" % sent)
        err = s.stderr_text()
        n = len(re.findall(r"\[%d\] .*reloaded " % s.pid, err))
        check(n >= sent // 2, "master logged %d reloads of %d sent" % (n, sent))
        check("reload failed" not in err, "a reload failed:\n" + err[-2000:])
        check("respawning" not in err, "a worker died during the reload storm:\n" + err[-2000:])
        eq(children(s.pid), kids, "workers replaced during reloads")


def test_reload_keepalive_connections_survive():
    with Server("workers: 2\n" + ROUTES) as s:
        wait_children(s, 2)
        conns = [Conn(s.port) for _ in range(8)]
        try:
            bodies = set()
            for c in conns:
                bodies.add(keepalive_get(c))
            configs = ["workers: 2\n" + ROUTES_TWO, "workers: 2\n" + ROUTES]
            for i in range(20):
                reload_to(s, configs[i % 2])
                for _ in range(3):  # requests race the reload
                    for c in conns:
                        bodies.add(keepalive_get(c))
                        check(not c.eof, "connection closed by reload %d" % (i + 1))
                time.sleep(0.02)
            check(bodies <= {b"one\n", b"two\n"}, "unexpected bodies %r" % bodies)
            # the last reload (ROUTES) wins on every connection
            for c in conns:
                check(wait_for(lambda: keepalive_get(c) == b"one\n", 3, step=0.05),
                      "the last reload is not seen on a kept-alive connection")
        finally:
            for c in conns:
                c.close()
        check("reload failed" not in s.stderr_text(), "a reload failed")


def test_reload_seen_on_same_keepalive_connection():
    with Server("workers: 2\n" + ROUTES) as s:
        wait_children(s, 2)
        with s.connect() as c:
            eq(keepalive_get(c), b"one\n")
            reload_to(s, "workers: 2\n" + ROUTES_TWO)
            seen = []

            def switched():
                seen.append(keepalive_get(c))
                return seen[-1] == b"two\n"
            check(wait_for(switched, 3, step=0.05), "new text never seen on the same "
                  "connection: %r" % seen[-5:])
            eq(keepalive_get(c), b"two\n")
            check(not c.eof, "connection closed")


def test_broken_reload_keeps_old_routes():
    with Server("workers: 2\n" + ROUTES) as s:
        kids = wait_children(s, 2)
        with s.connect() as c:
            eq(keepalive_get(c), b"one\n")
            text = s.render("workers: 2\n" + ROUTES_TWO)
            line_no = len(text.splitlines()) + 1
            s.write_raw_config(text + "   bad: : x\n")
            s.signal(signal.SIGHUP)
            pat = (r"reload failed, keeping the running config:\s*\n" + re.escape(s.config_path)
                   + r":%d:4: YAML" % line_no)
            check(wait_for(lambda: re.search(pat, s.stderr_text()), 2),
                  "error log lacks `reload failed ... %s:%d:4: YAML`:\n%s"
                  % (s.config_path, line_no, s.stderr_text()[-1500:]))
            eq(keepalive_get(c), b"one\n", "old route on the same connection")
        for _ in range(10):
            eq(get_ok(s), b"one\n", "old route on a new connection")
        eq(children(s.pid), kids, "workers replaced by a failed reload")
        # a valid file afterwards is applied
        reload_to(s, "workers: 2\n" + ROUTES_TWO)
        check(wait_for(lambda: all(get_ok(s) == b"two\n" for _ in range(6)), 3),
              "valid reload after a failed one not applied")


def test_reload_changes_worker_count():
    with Server("workers: 2\n" + ROUTES) as s:
        first = wait_children(s, 2)
        reload_to(s, "workers: 3\n" + ROUTES_TWO)
        three = wait_children(s, 3)
        check(first <= three, "existing workers replaced when growing: %r -> %r" % (first, three))
        # each worker applies the reload when its channel delivers it
        check(wait_for(lambda: get_ok(s) == b"two\n", 3), "reload not applied")
        for _ in range(10):
            eq(get_ok(s), b"two\n")
        reload_to(s, "workers: 1\n" + ROUTES)
        one = wait_children(s, 1)
        check(one <= three, "shrinking spawned a new worker: %r -> %r" % (three, one))
        check(wait_for(lambda: not any(alive(p) for p in three - one), 3),
              "retired workers still running")
        check(wait_for(lambda: get_ok(s) == b"one\n", 3), "reload not applied")
        for _ in range(10):
            eq(get_ok(s), b"one\n")


def test_reload_adds_and_removes_listen_address():
    s = Server(ROUTES, start=False)
    with s:
        p2 = free_port()
        one = "listen: %s:%d\nworkers: 2\n" % (HOST, s.port)
        both = "listen: [\"%s:%d\", \"%s:%d\"]\nworkers: 2\n" % (HOST, s.port, HOST, p2)
        s.write_config(one + ROUTES)
        s.start()
        wait_children(s, 2)
        check(refused(p2), "port %d served before it was configured" % p2)
        reload_to(s, both + ROUTES_TWO)
        check(wait_for(lambda: not refused(p2), 3), "added listen address %d not served" % p2)
        for _ in range(10):
            eq(get_ok(s, port=p2), b"two\n", "on the added port")
            eq(get_ok(s), b"two\n", "on the first port")
        reload_to(s, one + ROUTES)
        check(wait_for(lambda: refused(p2), 3), "removed listen address %d still accepts" % p2)
        for _ in range(10):
            eq(get_ok(s), b"one\n", "on the remaining port")
        check(refused(p2), "removed port accepts again")


# ------------------------------------------------------------------ stop

def test_sigterm_during_slow_request_two_workers():
    with Server("workers: 2\n" + ROUTES) as s:
        kids = wait_children(s, 2)
        slow_body_through_sigterm(s, settle=0.2)
        check(wait_for(lambda: not any(alive(p) for p in kids), 1), "workers outlived the master")


def test_health_ok_then_draining():
    with Server("workers: 2\n" + ROUTES) as s:
        wait_children(s, 2)
        r = s.get("/health")
        eq((r.status, r.body), (200, b"ok\n"))
        with s.connect() as c:
            c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # head not finished yet
            time.sleep(0.15)
            s.signal(signal.SIGTERM)
            time.sleep(0.2)
            c.send(b"\r\n")
            r = c.read_response()
            eq((r.status, r.body, r.header("Connection")), (503, b"draining\n", "close"))
        eq(s.wait(timeout=3), 0)


def test_sigquit_exits_promptly():
    with Server("workers: 2\n" + ROUTES) as s:
        kids = wait_children(s, 2)
        with s.connect() as c:
            c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123")
            time.sleep(0.15)
            t0 = time.monotonic()
            s.signal(signal.SIGQUIT)
            rc = s.wait(timeout=3)
            took = time.monotonic() - t0
            check(rc is not None, "master still running 3 s after SIGQUIT")
            check(took < 1.0, "SIGQUIT exit took %.2fs" % took)
            eq(rc, 0, "exit status after SIGQUIT")
            check(c.closed_within(1), "in-flight connection not closed by SIGQUIT")
            eq(c.buf, b"", "SIGQUIT must not answer the in-flight request")
        check(wait_for(lambda: not any(alive(p) for p in kids), 1), "workers outlived the master")


# ------------------------------------------------------------------ sd_notify

class NotifySocket:
    """A unix datagram socket like systemd's; records (pid, message)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="yhttpd-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.05)
        self.messages = []

    def poll(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except (socket.timeout, BlockingIOError):
                return
            pid = None
            for level, kind, payload in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = array.array("i", payload[:12])[0]
            self.messages.append((pid, data.decode("utf-8", "replace")))

    def wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if pred(self.messages) or time.monotonic() >= deadline:
                return pred(self.messages)

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _has(field):
    return lambda msgs, n=0: [i for i, (_, m) in enumerate(msgs) if field in m.split("\n")]


def test_sd_notify_ready_reloading_stopping():
    ns = NotifySocket()
    try:
        s = Server("workers: 2\n" + ROUTES, start=False, env={"NOTIFY_SOCKET": ns.path})
        with s:
            s.start()
            check(ns.wait(lambda m: _has("READY=1")(m), 3), "no READY=1: %r" % ns.messages)
            eq(len(children(s.pid)), 2, "workers forked at READY=1")
            for pid, msg in ns.messages:
                eq(pid, s.pid, "sender of %r" % msg)
            check(ns.wait(lambda m: any(x.startswith("STATUS=") for _, x in m), 2),
                  "no STATUS=: %r" % ns.messages)
            n0 = len(ns.messages)
            before = time.monotonic()
            reload_to(s, "workers: 2\n" + ROUTES_TWO)

            def reload_done(msgs):
                rel = [i for i in _has("RELOADING=1")(msgs) if i >= n0]
                return rel and [i for i in _has("READY=1")(msgs) if i > rel[0]]
            check(ns.wait(reload_done, 3), "no RELOADING=1 then READY=1 after HUP: %r"
                  % ns.messages[n0:])
            rel = [m for _, m in ns.messages[n0:] if "RELOADING=1" in m.split("\n")][0]
            mu = re.search(r"^MONOTONIC_USEC=(\d+)$", rel, re.M)
            check(mu, "RELOADING=1 without MONOTONIC_USEC: %r" % rel)
            usec = int(mu.group(1))
            check(before * 1e6 - 1e6 < usec < time.monotonic() * 1e6 + 1e6,
                  "MONOTONIC_USEC %d not CLOCK_MONOTONIC now (%d)" % (usec, before * 1e6))
            check(not _has("STOPPING=1")(ns.messages), "STOPPING=1 before stop")
            # a failed reload is reported through STATUS=
            n1 = len(ns.messages)
            s.write_raw_config(s.render("workers: 2\n" + ROUTES) + "   bad: : x\n")
            s.signal(signal.SIGHUP)
            check(ns.wait(lambda m: any("STATUS=" in x and "fail" in x for _, x in m[n1:]), 3),
                  "failed reload not reported in STATUS=: %r" % ns.messages[n1:])
            n2 = len(ns.messages)
            s.signal(signal.SIGTERM)
            eq(s.wait(timeout=5), 0)
            ns.wait(lambda m: False, 0.1)
            check([i for i in _has("STOPPING=1")(ns.messages) if i >= n2],
                  "no STOPPING=1 at stop: %r" % ns.messages[n2:])
            for pid, msg in ns.messages:
                eq(pid, s.pid, "sender of %r" % msg)
    finally:
        ns.close()


# ------------------------------------------------------------------ socket activation

def _socket_activated(workers):
    if shutil.which("systemd-socket-activate") is None:
        raise Skip("systemd-socket-activate not installed")
    s = Server(ROUTES, start=False)
    with s:
        cfg_port = s.port
        act_port = free_port()
        s.write_config("listen: %s:%d\nworkers: %d\n" % (HOST, cfg_port, workers) + ROUTES)
        wrapper = ["systemd-socket-activate", "-l", "%s:%d" % (HOST, act_port)]
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                wrapper += ["-E", k]
        s.wrapper = wrapper
        s.port = act_port
        s.start()
        def comm():
            with open("/proc/%d/comm" % s.pid) as f:
                return f.read().strip()
        # it execs at the first connection (the harness's probe)
        check(wait_for(lambda: comm() == "yhttpd", 3), "systemd-socket-activate did not exec "
              "the server: comm %r\n%s" % (comm(), s.stderr_text()))
        if workers:
            wait_children(s, workers)
        for _ in range(20):
            eq(get_ok(s), b"one\n", "on the activated port")
        check(refused(cfg_port), "the configured listen: port was bound despite LISTEN_FDS")
        if workers:
            check("using 1 socket-activated listener(s)" in s.stderr_text(),
                  "no socket-activation log line:\n" + s.stderr_text())
        reload_to(s, "listen: %s:%d\nworkers: %d\n" % (HOST, cfg_port, workers) + ROUTES_TWO)
        check(wait_for(lambda: get_ok(s) == b"two\n" and get_ok(s) == b"two\n", 3),
              "reload not applied on the activated socket")
        check(refused(cfg_port), "a reload bound the configured listen: port under activation")
        eq(s.stop(), 0, "exit status")


def test_socket_activation_single_process():
    _socket_activated(0)


def test_socket_activation_two_workers():
    _socket_activated(2)


# ------------------------------------------------------------------ privileges, pid_file

def test_privilege_drop_to_nobody():
    if os.geteuid() != 0:
        raise Skip("not root: privilege drop not testable")
    skip_unless_root_searchable()
    nobody = pwd.getpwnam("nobody")
    with Server("user: nobody\nworkers: 1\n" + ROUTES) as s:
        (worker,) = wait_children(s, 1)
        for _ in range(5):
            eq(get_ok(s), b"one\n")
        st = proc_status(worker)
        eq(st["Uid"].split(), [str(nobody.pw_uid)] * 4, "worker Uid")
        eq(st["Gid"].split(), [str(nobody.pw_gid)] * 4, "worker Gid")
        check(set(st["Groups"].split()) <= {str(nobody.pw_gid)},
              "worker kept supplementary groups: %r" % st["Groups"])
        eq(st["NoNewPrivs"], "1", "worker NoNewPrivs")
        eq(proc_status(s.pid)["Uid"].split()[0], "0", "master uid")
        # a respawned worker drops too
        os.kill(worker, signal.SIGKILL)
        new = wait_for(lambda: children(s.pid) - {worker}, 2)
        check(len(new) == 1, "worker not respawned: %r" % new)
        (again,) = new
        wait_for(lambda: proc_status(again)["Uid"].split()[0] != "0", 1)
        eq(proc_status(again)["Uid"].split(), [str(nobody.pw_uid)] * 4, "respawned worker Uid")
        eq(get_ok(s), b"one\n")


def test_usr1_reopen_with_unprivileged_workers():
    """logrotate's dance: rename, USR1; the master recreates the file and gives
    it to the workers' user, who then reopen it by path."""
    if os.geteuid() != 0:
        raise Skip("not root: workers would not change user")
    skip_unless_root_searchable()
    nobody = pwd.getpwnam("nobody")
    s = Server(ROUTES, start=False)
    with s:
        os.chmod(s.dir, 0o711)  # workers reopen the log by path
        s.write_config("user: nobody\nworkers: 2\n" + ROUTES)
        s.start()
        wait_children(s, 2)
        eq(get_ok(s), b"one\n")
        check(wait_for(lambda: "GET /r " in s.access_text(), 2), "first line not logged")
        os.rename(s.access_log, s.access_log + ".1")
        s.signal(signal.SIGUSR1)
        check(wait_for(lambda: os.path.exists(s.access_log), 2), "log not recreated")
        eq(os.stat(s.access_log).st_uid, nobody.pw_uid, "new log owner")
        time.sleep(0.2)  # the workers' reopen follows the master's
        for i in range(8):  # both workers (SO_REUSEPORT spreads connections)
            eq(get_ok(s, "/r?n=%d" % i), b"one\n")
        check(wait_for(lambda: s.access_text().count("/r?n=") == 8, 2),
              "lines after USR1 missing from the new file: %r" % s.access_text())
        check("ERROR" not in s.stderr_text() and "[error]" not in s.stderr_text(),
              "errors while reopening: %s" % s.stderr_text()[-500:])


def test_unix_socket_and_ipv6_listeners():
    sock = tempfile.mktemp(prefix="yhttpd-it-", suffix=".sock")
    port6 = free_port()
    has_v6 = socket.has_ipv6
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        has_v6 = False
    listen = ["unix:%s" % sock] + (['"[::1]:%d"' % port6] if has_v6 else [])
    s = Server(ROUTES, start=False)
    with s:
        s.write_config("workers: 2\nlisten:\n  - %s:%d\n" % (HOST, s.port)
                       + "".join("  - %s\n" % entry for entry in listen) + ROUTES)
        s.start()
        for _ in range(4):
            p = curl("--unix-socket", sock, "http://localhost/r")
            eq((p.returncode, p.stdout), (0, b"one\n"), "over the unix socket")
            if has_v6:
                p = curl("http://[::1]:%d/r" % port6)
                eq((p.returncode, p.stdout), (0, b"one\n"), "over IPv6")
        eq(get_ok(s), b"one\n")


def test_pid_file_holds_master_pid():
    s = Server(ROUTES, start=False)
    with s:
        pid_path = os.path.join(s.dir, "yhttpd.pid")
        s.write_config("workers: 2\npid_file: %s\n" % pid_path + ROUTES)
        s.start()
        kids = wait_children(s, 2)
        with open(pid_path) as f:
            eq(f.read().strip(), str(s.pid), "pid_file content")
        reload_to(s, "workers: 2\npid_file: %s\n" % pid_path + ROUTES_TWO)
        wait_for(lambda: get_ok(s) == b"two\n", 2)
        with open(pid_path) as f:
            eq(f.read().strip(), str(s.pid), "pid_file content after reload")
        s.signal(signal.SIGTERM)
        eq(s.wait(timeout=5), 0)
        check(not os.path.exists(pid_path), "pid file left after exit")
        check(wait_for(lambda: not any(alive(p) for p in kids), 1), "workers outlived the master")


if __name__ == "__main__":
    run(globals(), tools=())

#!/usr/bin/env python3
"""module handler: the example modules (synchronous hello, asynchronous delay)
over real sockets, cancel on a client that leaves, and load errors (missing
file, missing descriptor, another ABI, init failure) as config errors with
line:column, at start and on reload."""
import os
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
from harness import (YHTTPD, Server, Skip, build_request, check, eq, run,  # noqa: E402
                     wait_for, yhttpd_run)

BUILDDIR = os.environ.get("YH_BUILDDIR", os.path.dirname(os.path.abspath(YHTTPD)))
SRCDIR = os.environ.get("YH_SRCDIR", BUILDDIR)
HELLO = os.path.join(BUILDDIR, "examples/modules/hello.so")
DELAY = os.path.join(BUILDDIR, "examples/modules/delay.so")


def routes(hello_config="{greeting: Hi}", delay_ms=300):
    return """
routes:
  - GET /t:
      text: "local\\n"
  - GET /hello/{name}:
      module: {path: %s, config: %s}
  - GET /plain:
      module: {path: %s}
  - GET /delay:
      module: {path: %s, config: {ms: %d}}
""" % (HELLO, hello_config, HELLO, DELAY, delay_ms)


def build_module(source):
    """Compiles a throwaway module against the public header; Skip without a compiler."""
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise Skip("no C compiler to build test modules")
    d = tempfile.mkdtemp(prefix="yhttpd-mod-")
    src, so = os.path.join(d, "m.c"), os.path.join(d, "m.so")
    with open(src, "w") as f:
        f.write(source)
    subprocess.run([cc, "-shared", "-fPIC", "-I" + os.path.join(SRCDIR, "include"), "-o", so, src],
                   check=True, timeout=60)
    return so


def check_config_error(config_text, pattern):
    d = tempfile.mkdtemp(prefix="yhttpd-mod-")
    path = os.path.join(d, "bad.yaml")
    with open(path, "w") as f:
        f.write(config_text)
    res = yhttpd_run(["-t", "-c", path])
    out = res.stderr.decode() + res.stdout.decode()
    check(res.returncode != 0, "-t accepted a broken module config: %s" % out)
    check(re.search(pattern, out), "expected /%s/ in: %s" % (pattern, out))
    return out


# ------------------------------------------------------------------ synchronous

def test_hello_answers_with_config_and_path_variable():
    with Server(routes()) as s:
        r = s.get("/hello/bob")
        eq((r.status, r.body), (200, b"Hi, bob\n"))
        eq(r.header("X-Module"), "hello")
        eq(r.header("Content-Type"), "text/plain; charset=utf-8")
        eq(s.get("/hello/caf%C3%A9").body, "Hi, café\n".encode(), "decoded variable")


def test_module_without_config_uses_its_default():
    with Server(routes()) as s:
        eq(s.get("/plain").body, b"Hello, world\n")


def test_keepalive_and_head_through_module():
    with Server(routes()) as s, s.connect() as c:
        for name in ("a", "b", "c"):
            c.send(build_request("GET", "/hello/" + name))
            eq(c.read_response().body, ("Hi, %s\n" % name).encode())
        c.send(build_request("HEAD", "/hello/x"))
        r = c.read_response(head_only=True)
        eq((r.status, r.header("Content-Length")), (200, "6"))


# ------------------------------------------------------------------ asynchronous

def test_delay_answers_after_its_timer():
    with Server(routes()) as s:
        t0 = time.monotonic()
        r = s.get("/delay")
        took = time.monotonic() - t0
        eq(r.body, b"waited 300 ms\n")
        check(0.25 <= took < 2.0, "answered after %.3f s" % took)


def test_delays_run_concurrently_and_never_block_the_loop():
    with Server(routes()) as s:
        results = []

        def one():
            results.append(s.get("/delay?ms=800").body)
        threads = [threading.Thread(target=one) for _ in range(5)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(0.2)
        t1 = time.monotonic()
        eq(s.get("/t").body, b"local\n")
        check(time.monotonic() - t1 < 0.3, "a text route waited behind the module")
        for t in threads:
            t.join(10)
        took = time.monotonic() - t0
        eq(results, [b"waited 800 ms\n"] * 5)
        check(took < 2.0, "5 delays of 0.8 s took %.2f s: not concurrent" % took)


def test_pipelined_async_answers_stay_in_order():
    with Server(routes()) as s, s.connect() as c:
        c.send(build_request("GET", "/delay?ms=300") + build_request("GET", "/hello/z"))
        eq(c.read_response().body, b"waited 300 ms\n")
        eq(c.read_response().body, b"Hi, z\n")


def test_client_gone_cancels_the_timer():
    with Server(routes()) as s:
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=3)
            sock.sendall(build_request("GET", "/delay?ms=400"))
            time.sleep(0.05)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
            sock.close()  # a reset: the connection is gone, its request cancelled
        time.sleep(0.6)  # past the timers: a cancelled one must not fire
        eq(s.get("/hello/after").body, b"Hi, after\n")
        eq(s.get("/delay?ms=10").body, b"waited 10 ms\n")
        eq(s.stop(), 0)


def test_modules_in_two_workers():
    with Server("workers: 2\n" + routes()) as s:
        for i in range(6):
            eq(s.get("/hello/w%d" % i).body, ("Hi, w%d\n" % i).encode())
        eq(s.get("/delay?ms=20").body, b"waited 20 ms\n")


# ------------------------------------------------------------------ load errors

def test_missing_file_is_a_config_error():
    check_config_error("routes:\n  - GET /:\n      module: {path: /nonexistent/x.so}\n",
                       r":3:22: module: cannot load: .*nonexistent")


def test_relative_path_is_a_config_error():
    check_config_error("routes:\n  - GET /:\n      module: {path: x.so}\n",
                       r":3:22: module: path must be absolute")


def test_missing_descriptor_is_a_config_error():
    so = build_module("int not_a_module = 1;\n")
    check_config_error("routes:\n  - GET /:\n      module: {path: %s}\n" % so,
                       r":3:22: module: .* exports no `yh_module` descriptor")


def test_abi_mismatch_is_a_config_error():
    so = build_module('#include <yhttpd/module.h>\n'
                      'static void h(struct yh_request *r, void *s) { yh_respond(r); }\n'
                      'const struct yh_module yh_module = {999, "old", 0, h, 0};\n')
    check_config_error("routes:\n  - GET /:\n      module: {path: %s}\n" % so,
                       r":3:22: module: .* built for module ABI 999; this yhttpd speaks ABI 1")


def test_init_failure_names_the_config_node():
    out = check_config_error(
        "routes:\n  - GET /:\n      module: {path: %s, config: {ms: 99999}}\n" % DELAY,
        r":3:\d+: module `delay`: ms: expected 0 to 10000, found `99999`")
    check("3:%d:" % (len("      module: {path: %s, config: " % DELAY) + 1) in out,
          "error not at the config node: %s" % out)


def test_unknown_key_and_missing_path():
    check_config_error("routes:\n  - GET /:\n      module: {pth: /x.so}\n",
                       r":3:16: unknown key `pth`; did you mean `path`\?")
    check_config_error("routes:\n  - GET /:\n      module: {config: 1}\n",
                       r":3:15: module: `path:` is required")


def test_reload_with_a_broken_module_keeps_the_old_config():
    with Server(routes()) as s:
        eq(s.get("/hello/a").body, b"Hi, a\n")
        s.write_config(routes().replace(HELLO, "/nonexistent/hello.so"))
        s.signal(signal.SIGHUP)
        check(wait_for(lambda: "cannot load" in s.stderr_text(), 3),
              "no load error logged: %s" % s.stderr_text())
        eq(s.get("/hello/a").body, b"Hi, a\n", "old config after a refused reload")
        s.write_config(routes(hello_config="{greeting: Hey}"))
        s.signal(signal.SIGHUP)
        check(wait_for(lambda: s.get("/hello/a").body == b"Hey, a\n", 3),
              "a good reload with a new module config did not apply")


if __name__ == "__main__":
    for so in (HELLO, DELAY):
        if not os.path.exists(so):
            print("SKIP: %s not built (make check builds it)" % so)
            sys.exit(77)
    run(globals())

#!/usr/bin/env python3
"""exec: CGI/1.1 children: environment, body on stdin, CGI headers, errors,
timeouts, max_concurrent, stderr logging, cancel on disconnect, HEAD, keep-alive."""
import atexit
import os
import re
import shutil
import signal
import sys
import socket
import struct
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, build_request, check, eq, parse_all, run,  # noqa: E402
                     wait_for)

DIR = tempfile.mkdtemp(prefix="yhttpd-exec-")
atexit.register(shutil.rmtree, DIR, True)

SCRIPTS = {
    # the environment as the body, one NAME=value per line, sorted
    "env.py": r"""#!/usr/bin/python3
import os, sys
sys.stdout.write("Content-Type: text/plain\r\nX-Script: env\r\n\r\n")
for k in sorted(os.environ):
    sys.stdout.write("%s=%s\n" % (k, os.environ[k]))
""",
    # reads the whole body, then answers it with its length in a header
    "echo.py": r"""#!/usr/bin/python3
import os, sys
data = sys.stdin.buffer.read()
out = sys.stdout.buffer
out.write(b"Content-Type: application/octet-stream\n")
out.write(b"X-Length: %d\n" % len(data))
out.write(b"X-Content-Length: %s\n\n" % os.environ.get("CONTENT_LENGTH", "-").encode())
out.write(data)
""",
    # streams stdin back as it comes (head first)
    "cat.sh": "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\nexec cat\n",
    "headers.sh": "#!/bin/sh\n"
                  "printf 'Status: 201 Created\\r\\nX-Custom: yes  \\r\\n'\n"
                  "printf 'Content-Type: text/x-custom\\r\\nConnection: close\\r\\n'\n"
                  "printf 'Transfer-Encoding: gzip\\r\\n\\r\\nmade\\n'\n",
    "location.sh": "#!/bin/sh\nprintf 'Location: /elsewhere\\n\\n'\n",
    "length.sh": "#!/bin/sh\nprintf 'Content-Length: 5\\n\\nhello'\n",
    "plain.sh": "#!/bin/sh\necho 'hello world, no header block'\necho 'second line'\n",
    "fail.sh": "#!/bin/sh\necho 'fail.sh: something broke' >&2\nexit 3\n",
    "badstatus.sh": "#!/bin/sh\nprintf 'Status: 99 Odd\\n\\nbody'\n",
    "stderr.sh": "#!/bin/sh\necho 'first complaint' >&2\nprintf 'warn\\tline\\r\\n' >&2\n"
                 "printf 'X-A: 1\\n\\nok\\n'\n",
    # writes its pid to $PIDFILE, then sleeps ($SLEEP seconds)
    "sleep.sh": "#!/bin/sh\necho $$ > \"$PIDFILE\"\nexec sleep \"${SLEEP:-30}\"\n",
    # ignores SIGTERM; a grandchild in its process group sleeps too
    "stubborn.sh": "#!/bin/sh\ntrap '' TERM\necho $$ > \"$PIDFILE\"\n"
                   "sleep 30 &\necho $! > \"$PIDFILE.child\"\nwait\n",
    # answers a head and part of the body, then hangs
    "partial.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\npart one\\n'\n"
                  "echo $$ > \"$PIDFILE\"\nexec sleep 30\n",
    # sleeps $SLEEP seconds, then answers
    "slow.sh": "#!/bin/sh\necho $$ > \"$PIDFILE\"\nsleep \"${SLEEP:-1}\"\nprintf 'X-A: 1\\n\\nslow done\\n'\n",
    # 4 MiB of a known pattern
    "big.py": r"""#!/usr/bin/python3
import sys
sys.stdout.buffer.write(b"Content-Type: application/octet-stream\n\n")
for i in range(4096):
    sys.stdout.buffer.write(b"%07d" % i + b"." * 1017)
""",
    # never reads stdin
    "noread.sh": "#!/bin/sh\nprintf 'X-A: 1\\n\\nignored your body\\n'\n",
}

for _name, _text in SCRIPTS.items():
    with open(os.path.join(DIR, _name), "w") as _f:
        _f.write(_text)
    os.chmod(os.path.join(DIR, _name), 0o755)


def script(name):
    return os.path.join(DIR, name)


def pidfile(tag):
    return os.path.join(DIR, "%s.%d.pid" % (tag, time.monotonic_ns()))


CONFIG = r"""
routes:
  - GET /env/{name}:
      exec: {argv: [%(env)s, literal arg], env: {FROM_CFG: "cfg-{query.q}", HTTP_X_PINNED: pinned}}
  - POST /echo:
      exec: [%(echo)s]
  - POST /big:
      exec: [%(echo)s]
      body_size: 2MiB
  - POST /cat:
      exec: [%(cat)s]
      body_size: 2MiB
  - GET /headers:
      exec: [%(headers)s]
  - GET /location:
      exec: [%(location)s]
  - GET /length:
      exec: [%(length)s]
  - GET /plain:
      exec: [%(plain)s]
  - GET /fail:
      exec: [%(fail)s]
  - GET /badstatus:
      exec: [%(badstatus)s]
  - GET /stderr:
      exec: [%(stderr)s]
  - POST /noread:
      exec: [%(noread)s]
      body_size: 4MiB
  - GET /bigout:
      exec: [%(big)s]
  - GET /text:
      text: "plain text\n"
""" % {k.split(".")[0]: script(k) for k in SCRIPTS}


def server(config=CONFIG, **kw):
    return Server(config, **kw)


def env_of(body):
    out = {}
    for line in body.decode().splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def read_pid(path, timeout=5):
    def get():
        try:
            with open(path) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (OSError, ValueError):
            return None
    pid = wait_for(get, timeout)
    check(pid, "the script did not write %s" % path)
    return pid


def reaped(pid):
    """True once pid is gone entirely (a zombie still counts as there)."""
    try:
        os.kill(pid, 0)
        return False
    except ProcessLookupError:
        return True


def gone(pid):
    """True once pid has exited (a zombie waiting for its parent counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def exchange(s, raw, timeout=20):
    """Sends raw from a thread while reading the answer: a child that streams
    its stdin back must not stall on a client that is still sending."""
    with s.connect(timeout=timeout) as c:
        def send():
            try:
                c.send(raw)
            except OSError:
                pass  # the server may stop reading once it answered
        t = threading.Thread(target=send, daemon=True)
        t.start()
        r = c.read_response()
        t.join(timeout)
        return r


def dechunk(data):
    """A chunked body in linear time (the harness re-parses as bytes come)."""
    out, pos = [], 0
    while True:
        nl = data.index(b"\r\n", pos)
        size = int(data[pos:nl], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[nl + 2:nl + 2 + size])
        eq(data[nl + 2 + size:nl + 4 + size], b"\r\n", "chunk end")
        pos = nl + 4 + size


def sleeper_config(name, extra="", sleep="30", script_name="sleep.sh", path="/sleep"):
    pid = pidfile(name)
    return pid, r"""
routes:
  - GET %s:
      exec: {argv: [%s], env: {PIDFILE: "%s", SLEEP: "%s"}%s}
  - GET /text:
      text: "plain text\n"
""" % (path, script(script_name), pid, sleep, extra)


# ------------------------------------------------------------------ environment

def test_get_environment():
    with server(env={"YH_SECRET_OF_SERVER": "leak"}) as s:
        r = s.request("GET", "/env/J%C3%BCrgen?q=1&x=a%20b",
                      headers=[("X-Foo", "bar"), ("x-foo", "baz"), ("Proxy", "http://evil"),
                               ("X-Pinned", "from-client"), ("X_Under", "no")])
        eq(r.status, 200)
        eq(r.header("X-Script"), "env")
        eq(r.header("Content-Type"), "text/plain")
        eq(r.header("Transfer-Encoding"), "chunked")
        env = env_of(r.body)
        eq(env.get("GATEWAY_INTERFACE"), "CGI/1.1")
        eq(env.get("SERVER_PROTOCOL"), "HTTP/1.1")
        eq(env.get("SERVER_SOFTWARE"), "yhttpd")
        eq(env.get("REQUEST_METHOD"), "GET")
        eq(env.get("SCRIPT_NAME"), "")
        eq(env.get("PATH_INFO"), "/env/Jürgen")
        eq(env.get("QUERY_STRING"), "q=1&x=a%20b")
        eq(env.get("REMOTE_ADDR"), "127.0.0.1")
        eq(env.get("SERVER_NAME"), "localhost")
        eq(env.get("SERVER_PORT"), str(s.port))
        eq(env.get("HTTP_HOST"), "localhost")
        eq(env.get("HTTP_X_FOO"), "bar, baz")
        eq(env.get("YH_PARAM_name"), "Jürgen")
        eq(env.get("FROM_CFG"), "cfg-1")
        eq(env.get("HTTP_X_PINNED"), "pinned", "env: wins over a request header")
        eq(env.get("PATH"), "/usr/local/bin:/usr/bin:/bin")
        check("HTTP_PROXY" not in env, "httpoxy: HTTP_PROXY must never be set")
        check("HTTP_X_UNDER" not in env, "a header with '_' must not pose as one with '-'")
        check("CONTENT_LENGTH" not in env and "CONTENT_TYPE" not in env, "no body: %r" % env)
        check("YH_SECRET_OF_SERVER" not in env, "the server's environment leaked")
        allowed = {"GATEWAY_INTERFACE", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "REQUEST_METHOD",
                   "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "SERVER_NAME",
                   "SERVER_PORT", "PATH", "FROM_CFG", "YH_PARAM_name", "LC_CTYPE"}
        extra = [k for k in env if k not in allowed and not k.startswith("HTTP_")]
        eq(extra, [], "unexpected variables")


def test_http10_protocol_and_host_port():
    with server() as s:
        with s.connect() as c:
            c.send(b"GET /env/x HTTP/1.0\r\nHost: example.org:8080\r\n\r\n")
            data = c.read_until_close()
        r = parse_all(data)[0]
        eq(r.status, 200)
        check(not r.has("Transfer-Encoding"), "HTTP/1.0 gets no chunked body")
        env = env_of(r.body)
        eq(env.get("SERVER_PROTOCOL"), "HTTP/1.0")
        eq(env.get("SERVER_NAME"), "example.org")


# ------------------------------------------------------------------ request bodies

def test_post_body_on_stdin():
    with server() as s:
        body = bytes(range(256)) * 4
        r = s.request("POST", "/echo", headers={"Content-Type": "application/x-thing"}, body=body)
        eq(r.status, 200)
        eq(r.body, body)
        eq(r.header("X-Length"), str(len(body)))
        eq(r.header("X-Content-Length"), str(len(body)))


def test_post_1mib_body_byte_exact():
    with server() as s:
        body = os.urandom(1024 * 1024)
        for path in ("/big", "/cat"):
            r = exchange(s, build_request("POST", path, body=body))
            eq(r.status, 200, path)
            check(r.body == body, "%s: body differs (%d bytes back)" % (path, len(r.body)))


def test_chunked_request_body():
    with server() as s:
        parts = [b"hello ", b"chunked ", os.urandom(70000), b" world"]
        raw = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        r = exchange(s, build_request("POST", "/echo", headers={"Transfer-Encoding": "chunked"})
                     + raw)
        eq(r.status, 200)
        eq(r.body, b"".join(parts))
        eq(r.header("X-Content-Length"), "-", "no CONTENT_LENGTH for a chunked body")


def test_child_not_reading_stdin():
    with server() as s:
        body = os.urandom(3 * 1024 * 1024)
        r = exchange(s, build_request("POST", "/noread", body=body))
        eq(r.status, 200)
        eq(r.body, b"ignored your body\n")
        eq(s.get("/text").status, 200)


def test_slow_reader_gets_all_output():
    with server() as s:
        with s.connect(timeout=10) as c:
            c.send(build_request("GET", "/bigout"))
            time.sleep(1.0)  # the child's output backs up meanwhile
            t0 = time.monotonic()
            eq(s.get("/text").status, 200)
            check(time.monotonic() - t0 < 0.5, "a stalled stream must not hold the loop")
            # one parse at the end: the harness's reader is quadratic in the chunks
            parts, deadline = [], time.monotonic() + 15
            while not b"".join(parts[-2:]).endswith(b"\r\n0\r\n\r\n"):
                check(time.monotonic() < deadline, "the stream stalled after %d bytes"
                      % sum(map(len, parts)))
                try:
                    chunk = c.sock.recv(1 << 20)
                except socket.timeout:
                    chunk = None
                check(chunk, "stalled or closed after %d bytes" % sum(map(len, parts)))
                parts.append(chunk)
        data = b"".join(parts)
        check(data.startswith(b"HTTP/1.1 200 OK\r\n"), repr(data[:100]))
        check(b"\r\nTransfer-Encoding: chunked\r\n" in data, repr(data[:300]))
        body = dechunk(data[data.index(b"\r\n\r\n") + 4:])
        want = b"".join(b"%07d" % i + b"." * 1017 for i in range(4096))
        eq(len(body), len(want))
        check(body == want, "4 MiB streamed to a slow reader came back different")


# ------------------------------------------------------------------ CGI headers

def test_cgi_status_and_headers():
    with server() as s:
        r = s.get("/headers")
        eq(r.status, 201)
        eq(r.header("X-Custom"), "yes")
        eq(r.header("Content-Type"), "text/x-custom")
        eq(r.header_all("Connection"), [], "the script's Connection is dropped")
        eq(r.header("Transfer-Encoding"), "chunked", "the server frames the body")
        eq(r.body, b"made\n")


def test_cgi_location_is_302():
    with server() as s:
        r = s.get("/location")
        eq(r.status, 302)
        eq(r.header("Location"), "/elsewhere")


def test_cgi_content_length():
    with server() as s:
        r = s.get("/length")
        eq(r.status, 200)
        eq(r.header("Content-Length"), "5")
        check(not r.has("Transfer-Encoding"), "a known length is not chunked")
        eq(r.body, b"hello")


def test_output_without_header_block():
    with server() as s:
        r = s.get("/plain")
        eq(r.status, 200)
        eq(r.header("Content-Type"), "text/plain; charset=utf-8")
        eq(r.body, b"hello world, no header block\nsecond line\n")


def test_bad_status_502():
    with server() as s:
        r = s.get("/badstatus")
        eq(r.status, 502)
        check(wait_for(lambda: "bad CGI header block" in s.stderr_text(), 2),
              "no log line:\n" + s.stderr_text())


def test_nonzero_exit_before_output_502():
    with server() as s:
        r = s.get("/fail")
        eq(r.status, 502)
        check(wait_for(lambda: "exited with status 3" in s.stderr_text(), 2),
              "exit status not logged:\n" + s.stderr_text())


def test_missing_program_502():
    path = os.path.join(DIR, "vanishing.sh")
    shutil.copy(script("plain.sh"), path)
    config = "routes:\n  - GET /v:\n      exec: [%s]\n" % path
    with server(config) as s:
        os.unlink(path)
        eq(s.get("/v").status, 502)
        # posix_spawn reports the missing file; under valgrind (a fork, then
        # exec) the child exits 127 instead: either way, 502 and a log line
        check(wait_for(lambda: re.search(r"cannot start|exited with status 127", s.stderr_text()),
                       2), s.stderr_text())


def test_stderr_lines_logged():
    with server() as s:
        r = s.get("/stderr")
        eq((r.status, r.body), (200, b"ok\n"))
        check(wait_for(lambda: "exec GET /stderr [pid " in s.stderr_text(), 2),
              "stderr not logged:\n" + s.stderr_text())
        text = s.stderr_text()
        check("]: first complaint" in text, text)
        check("]: warn line" in text, "tab and CR in a line: " + text)


# ------------------------------------------------------------------ HEAD, keep-alive

def test_head():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("HEAD", "/headers"))
            h = c.read_response(head_only=True)
            eq(h.status, 201)
            eq(h.header("X-Custom"), "yes")
            c.send(build_request("GET", "/length"))
            r = c.read_response()
            eq((r.status, r.body), (200, b"hello"), "the next answer on the connection")


def test_keepalive_reuse():
    with server() as s:
        with s.connect() as c:
            for path in ("/plain", "/headers", "/text", "/length", "/plain"):
                c.send(build_request("GET", path))
                r = c.read_response()
                check(r.status in (200, 201), "%s: %r" % (path, r))
                check(r.header("Connection") != "close", "%s closed the connection" % path)
            c.send(build_request("GET", "/plain") + build_request("GET", "/length"))
            a, b = c.read_responses(2)
            eq(a.body, b"hello world, no header block\nsecond line\n")
            eq(b.body, b"hello")


# ------------------------------------------------------------------ timeouts, limits, cancel

def test_timeout_504_and_child_killed():
    pid_path, config = sleeper_config("timeout", ", timeout: 1s")
    with server(config) as s:
        t0 = time.monotonic()
        r = s.request("GET", "/sleep", timeout=10)
        took = time.monotonic() - t0
        eq(r.status, 504)
        check(0.8 <= took < 2.5, "answered after %.2fs, want about 1s" % took)
        pid = read_pid(pid_path)
        check(wait_for(lambda: reaped(pid), 2), "child %d still there after the timeout" % pid)
        check(wait_for(lambda: "timed out" in s.stderr_text(), 2), s.stderr_text())


def test_timeout_sigkill_for_stubborn_group():
    pid_path, config = sleeper_config("stubborn", ", timeout: 500ms", script_name="stubborn.sh")
    with server(config) as s:
        t0 = time.monotonic()
        r = s.request("GET", "/sleep", timeout=10)
        eq(r.status, 504)
        pid = read_pid(pid_path)
        child = read_pid(pid_path + ".child")
        time.sleep(max(0.0, t0 + 1.2 - time.monotonic()))
        if time.monotonic() - t0 < 2.2:  # the SIGKILL is due 2.5 s after the start
            check(not reaped(pid), "SIGTERM is ignored: the child lives until the SIGKILL")
        check(wait_for(lambda: reaped(pid), 3), "child %d not killed after the grace" % pid)
        check(wait_for(lambda: gone(child), 2), "grandchild %d survived" % child)


def test_timeout_after_head_cuts_stream():
    pid_path, config = sleeper_config("partial", ", timeout: 1s", script_name="partial.sh")
    with server(config) as s:
        with s.connect(timeout=5) as c:
            c.send(build_request("GET", "/sleep"))
            data = c.read_until_close(timeout=5)
        check(data.startswith(b"HTTP/1.1 200 OK\r\n"), repr(data[:200]))
        check(b"part one\n" in data, repr(data))
        check(not data.endswith(b"0\r\n\r\n"), "a cut stream must not end with the last chunk")
        pid = read_pid(pid_path)
        check(wait_for(lambda: reaped(pid), 2), "child still there")


def test_max_concurrent_503():
    pid_path, config = sleeper_config("busy", ", max_concurrent: 1", sleep="1",
                                      script_name="slow.sh")
    with server(config) as s:
        with s.connect(timeout=5) as first:
            first.send(build_request("GET", "/sleep"))
            read_pid(pid_path)
            t0 = time.monotonic()
            r = s.get("/sleep")
            check(time.monotonic() - t0 < 0.5, "503 must come at once")
            eq(r.status, 503)
            eq(r.header("Retry-After"), "1")
            r1 = first.read_response()
            eq((r1.status, r1.body), (200, b"slow done\n"))
        r = s.request("GET", "/sleep", timeout=5)
        eq((r.status, r.body), (200, b"slow done\n"))


def test_client_disconnect_kills_child():
    pid_path, config = sleeper_config("cancel")
    with server(config) as s:
        c = s.connect()
        c.send(build_request("GET", "/sleep"))
        pid = read_pid(pid_path)
        check(not reaped(pid), "child should be running")
        # gone for good (RST): a FIN alone is a half-close, still answered in full
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        check(wait_for(lambda: reaped(pid), 3), "child %d outlived its client" % pid)
        eq(s.get("/text").status, 200)


def test_other_routes_served_meanwhile():
    pid_path, config = sleeper_config("meanwhile", sleep="2", script_name="slow.sh")
    with server(config) as s:
        with s.connect(timeout=5) as c:
            c.send(build_request("GET", "/sleep"))
            read_pid(pid_path)
            t0 = time.monotonic()
            r = s.get("/text")
            took = time.monotonic() - t0
            eq(r.status, 200)
            check(took < 0.5, "a text route waited %.2fs behind a sleeping child" % took)
            eq(c.read_response().body, b"slow done\n")


def test_stop_with_child_running():
    pid_path, config = sleeper_config("stop", ", timeout: 1s")
    with server(config) as s:
        c = s.connect(timeout=5)
        c.send(build_request("GET", "/sleep"))
        pid = read_pid(pid_path)
        s.signal(signal.SIGTERM)
        r = c.read_response()
        eq(r.status, 504)
        c.close()
        eq(s.wait(timeout=5), 0)
        check(wait_for(lambda: gone(pid), 2), "child survived the server")


if __name__ == "__main__":
    run(globals())

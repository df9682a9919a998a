"""Integration-test helpers for yhttpd (stdlib only).

Starts the real binary on a free 127.0.0.1 port with an inline YAML config,
talks to it over raw sockets or curl, and runs test_* functions.  Every
network operation is bounded by a timeout; only processes started here are
ever signalled.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback

YHTTPD = os.environ.get("YHTTPD", "/work/main/yhttpd")
SRCDIR = os.environ.get("YH_SRCDIR", "/work/main")
HOST = "127.0.0.1"
IO_TIMEOUT = 3.0          # default bound for one network operation
START_TIMEOUT = 5.0       # bound for the server to accept connections
STOP_TIMEOUT = 5.0        # bound for the server to exit after SIGTERM
TEST_TIMEOUT = 25         # whole-test watchdog (seconds)

_servers = []             # servers started by the current test


class TestFailure(AssertionError):
    pass


class Skip(Exception):
    pass


# ---------------------------------------------------------------- utilities

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def require_tools(*tools):
    """Exits 77 (automake SKIP) when a required program is missing."""
    for t in tools:
        if shutil.which(t) is None:
            print("SKIP: required tool `%s` not found" % t)
            sys.exit(77)


def eq(actual, expected, what=""):
    if actual != expected:
        raise TestFailure("%sexpected %r, got %r" % (what + ": " if what else "", expected, actual))


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(pred, timeout, step=0.02):
    """Polls pred until it returns something true or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def refused(port):
    """True when nothing accepts connections on HOST:port."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return False
    except OSError:
        return True


def slow_body_through_sigterm(s, settle=0.15):
    """Sends a head and part of a body, SIGTERMs the server, sends the rest:
    the request must still be answered (Connection: close), then the server
    must stop accepting, close the connection and exit 0."""
    with s.connect() as c:
        c.send(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123")
        time.sleep(0.15)  # let the server read the head and the first bytes
        s.signal(signal.SIGTERM)
        time.sleep(settle)
        check(s.proc.poll() is None, "server exited with a request in flight")
        check(wait_for(lambda: refused(s.port), 1.0), "still accepting after SIGTERM")
        c.send(b"456789")
        r = c.read_response()
        eq((r.status, r.body), (200, b"0123456789"))
        eq(r.header("Connection"), "close")
        check(c.closed_within(2), "connection not closed after the last answer")
        eq(s.wait(timeout=3), 0, "exit status after draining")


def children(pid):
    """Pids of the live (non-zombie) children of pid, from /proc/*/stat."""
    out = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) >= 2 and fields[0] != "Z" and int(fields[1]) == pid:
            out.add(int(name))
    return out


def yhttpd_run(args, timeout=10, **kw):
    """Runs the binary to completion (-t, --routes, -V ...)."""
    return subprocess.run([YHTTPD] + list(args), capture_output=True, timeout=timeout, **kw)


# ---------------------------------------------------------------- server

def valgrind_wrapper():
    """With YH_VALGRIND=1 (make check-valgrind) every server runs under
    valgrind: any memory error or definite leak makes it exit 99, which fails
    the test like any unclean exit."""
    if os.environ.get("YH_VALGRIND") != "1":
        return []
    os.environ["YH_PCRE2_NO_JIT"] = "1"  # memcheck cannot follow JIT-generated code
    return ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--child-silent-after-fork=no", "--trace-children=no"]


class ConfigFile:
    """A config file in a temp dir of its own (no server), for -t, --routes,
    --explain; removed when the with block ends."""

    def __init__(self, text, name="conf.yaml"):
        self.dir = tempfile.mkdtemp(prefix="yhttpd-conf-")
        self.path = os.path.join(self.dir, name)
        self.text = text
        with open(self.path, "w") as f:
            f.write(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """The real daemon on a free port.  `config` is YAML (dedented) holding at
    least `routes:`; listen, workers, access_log and error_log are added
    unless given.  Use as a context manager."""

    def __init__(self, config, start=True, access_format=None, extra_args=(), env=None,
                 wrapper=()):
        self.dir = tempfile.mkdtemp(prefix="yhttpd-it-")
        self.port = free_port()
        self.config_path = os.path.join(self.dir, "yhttpd.yaml")
        self.access_log = os.path.join(self.dir, "access.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.returncode = None
        self.killed = False
        self.extra_args = list(extra_args)
        # env: extra environment variables for the server (None values unset);
        # wrapper: argv prefix that execs the server (its pid stays ours).
        self.env = env
        self.wrapper = list(wrapper) or valgrind_wrapper()
        self.write_config(config, access_format)
        _servers.append(self)
        if start:
            self.start()

    def render(self, config, access_format=None):
        body = textwrap.dedent(config).strip("\n") + "\n"
        keys = set(re.findall(r"^([A-Za-z_]+)\s*:", body, re.M))
        head = []
        if "listen" not in keys:
            head.append("listen: %s:%d" % (HOST, self.port))
        if "workers" not in keys:
            head.append("workers: 0")
        # As root, workers would drop to `nobody`, who cannot read the test's
        # private temp dir on reload; privilege tests set `user:` themselves.
        if "user" not in keys and os.geteuid() == 0:
            head.append("user: root")
        if "access_log" not in keys:
            if access_format:
                head.append("access_log: {path: %s, format: %s}" % (self.access_log, access_format))
            else:
                head.append("access_log: %s" % self.access_log)
        if "error_log" not in keys:
            head.append("error_log: stderr")
        # YH_IO_URING=off runs a suite on plain system calls; valgrind cannot
        # see what the kernel writes through a ring, so it always does.
        io_uring = "off" if os.environ.get("YH_VALGRIND") == "1" else os.environ.get("YH_IO_URING")
        if io_uring and "io_uring" not in keys:
            head.append("io_uring: %s" % io_uring)
        return "\n".join(head) + "\n" + body

    def write_config(self, config, access_format=None):
        self._last_config = (config, access_format)
        text = self.render(config, access_format)
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)
        return text

    def write_raw_config(self, text):
        self._last_config = None
        with open(self.config_path, "w") as f:
            f.write(text)

    def start(self, _attempts=3):
        self.stderr_file = open(self.stderr_path, "wb")
        env = None
        if self.env is not None:
            env = dict(os.environ)
            for k, v in self.env.items():
                if v is None:
                    env.pop(k, None)
                else:
                    env[k] = v
        self.proc = subprocess.Popen(self.wrapper + [YHTTPD, "-c", self.config_path]
                                     + self.extra_args,
                                     stdin=subprocess.DEVNULL, stdout=self.stderr_file,
                                     stderr=self.stderr_file, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                self.stderr_file.close()
                err = self.stderr_text()
                # free_port() races with other processes: retry on a new port.
                if (_attempts > 1 and self._last_config is not None
                        and re.search(r"in use", err, re.I)):
                    self.port = free_port()
                    self.write_config(*self._last_config)
                    return self.start(_attempts - 1)
                raise TestFailure("server exited with %s at start:\n%s"
                                  % (self.proc.returncode, err))
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)
        raise TestFailure("server did not accept on port %d within %.0fs:\n%s"
                          % (self.port, START_TIMEOUT, self.stderr_text()))

    @property
    def pid(self):
        return self.proc.pid

    def signal(self, signo):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signo)

    def wait(self, timeout=5.0):
        """Waits for exit; returns the exit status or None if still running."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self):
        """SIGTERM (by PID), wait, SIGKILL fallback.  Returns the exit status.
        The runner fails the test when it is not 0 (see exit_problem)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.killed = True
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.returncode = self.proc.returncode
        if not self.stderr_file.closed:
            self.stderr_file.close()
        return self.returncode

    def exit_problem(self):
        """None when the server ended with status 0, else a description with
        its stderr (sanitizer reports end in a non-zero status)."""
        if self.proc is None or self.returncode == 0:
            return None
        if self.killed:
            why = "did not exit within %.0fs of SIGTERM (SIGKILLed)" % STOP_TIMEOUT
        elif self.returncode < 0:
            why = "killed by signal %s" % signal.Signals(-self.returncode).name
        else:
            why = "exit status %d" % self.returncode
        return "server %s; its stderr:\n    %s" % (
            why, "\n    ".join(self.stderr_text().rstrip().splitlines()[-40:]) or "(empty)")

    def cleanup(self):
        """Stops the server; the runner checks its exit status and removes
        the temp dir after the test."""
        self.stop()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        if self in _servers:
            _servers.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def access_text(self):
        try:
            with open(self.access_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def url(self, path="/"):
        return "http://%s:%d%s" % (HOST, self.port, path)

    def connect(self, timeout=IO_TIMEOUT):
        return Conn(self.port, timeout)

    def request(self, method="GET", path="/", headers=None, body=b"", version="1.1",
                timeout=IO_TIMEOUT):
        """One request on a fresh connection; returns the parsed Response."""
        with self.connect(timeout) as c:
            c.send(build_request(method, path, headers, body, version))
            return c.read_response(head_only=(method == "HEAD"))

    def get(self, path, headers=None):
        return self.request("GET", path, headers)


# ---------------------------------------------------------------- HTTP

def build_request(method="GET", path="/", headers=None, body=b"", version="1.1", host=True):
    if isinstance(body, str):
        body = body.encode()
    hdrs = list((headers or {}).items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in hdrs}
    if host and "host" not in names:
        hdrs.insert(0, ("Host", "localhost"))
    if body and "content-length" not in names and "transfer-encoding" not in names:
        hdrs.append(("Content-Length", str(len(body))))
    head = "%s %s HTTP/%s\r\n" % (method, path, version)
    head += "".join("%s: %s\r\n" % (k, v) for k, v in hdrs)
    return head.encode("latin-1") + b"\r\n" + body


class Response:
    def __init__(self, version, status, reason, headers, body, raw):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers      # list of (name, value) in order
        self.body = body
        self.raw = raw

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def has(self, name):
        return any(k.lower() == name.lower() for k, _ in self.headers)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        import json
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %s %r %r>" % (self.status, self.headers, self.body[:200])


class ParseError(TestFailure):
    pass


def parse_head(data):
    """Parses a response head (bytes up to, excluding, the blank line)."""
    lines = data.split(b"\r\n")
    m = re.match(rb"^HTTP/(\d\.\d) (\d{3}) ?(.*)$", lines[0])
    if not m:
        raise ParseError("bad status line %r" % lines[0])
    headers = []
    for line in lines[1:]:
        if b":" not in line or line[:1] in (b" ", b"\t"):
            raise ParseError("bad header line %r" % line)
        k, v = line.split(b":", 1)
        if k != k.strip() or not k:
            raise ParseError("bad header name %r" % k)
        headers.append((k.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
    return m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"), headers


def parse_response(buf, head_only=False, eof=False):
    """Parses one response from buf.  Returns (Response, rest) or None when
    more bytes are needed.  Bodies are delimited by Content-Length (or
    chunked); with neither, by EOF; 1xx/204/304 and HEAD have none."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if eof and buf:
            raise ParseError("incomplete head at EOF: %r" % buf[:300])
        return None
    version, status, reason, headers = parse_head(buf[:end])
    rest = buf[end + 4:]
    resp = Response(version, status, reason, headers, b"", None)
    if head_only or 100 <= status < 200 or status in (204, 304):
        resp.raw = buf[:end + 4]
        return resp, rest
    te = resp.header("Transfer-Encoding")
    cl = resp.header_all("Content-Length")
    if te and "chunked" in te.lower():
        body, pos = b"", 0
        while True:
            nl = rest.find(b"\r\n", pos)
            if nl < 0:
                return None
            size = int(rest[pos:nl].split(b";")[0], 16)
            if size == 0:
                trailer_end = rest.find(b"\r\n\r\n", nl)
                if rest[nl + 2:nl + 4] == b"\r\n":
                    trailer_end = nl
                if trailer_end < 0:
                    return None
                resp.body = body
                resp.raw = buf[:end + 4] + rest[:trailer_end + 4]
                return resp, rest[trailer_end + 4:]
            if len(rest) < nl + 2 + size + 2:
                return None
            body += rest[nl + 2:nl + 2 + size]
            pos = nl + 2 + size + 2
    if cl:
        if len(set(cl)) != 1:
            raise ParseError("conflicting Content-Length %r" % cl)
        n = int(cl[0])
        if len(rest) < n:
            if eof:
                raise ParseError("body truncated at EOF: %d of %d bytes" % (len(rest), n))
            return None
        resp.body = rest[:n]
        resp.raw = buf[:end + 4 + n]
        return resp, rest[n:]
    if not eof:
        return None
    resp.body = rest
    resp.raw = buf
    return resp, b""


class Conn:
    """A client connection with bounded reads and a buffer of unread bytes."""

    def __init__(self, port, timeout=IO_TIMEOUT):
        self.timeout = timeout
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def send_bytewise(self, data, delay=0.0):
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            if delay:
                time.sleep(delay)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def _recv(self, deadline):
        """One recv bounded by the deadline.  Returns False on timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        except socket.timeout:
            return False
        if not chunk:
            self.eof = True
        self.buf += chunk
        return True

    def read_response(self, head_only=False, timeout=None, skip_interim=True):
        """Reads one full response (skipping 1xx unless told otherwise)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            parsed = parse_response(self.buf, head_only, self.eof)
            if parsed:
                resp, self.buf = parsed
                if skip_interim and 100 <= resp.status < 200:
                    continue
                return resp
            if self.eof:
                raise TestFailure("connection closed before a full response; got %r" % self.buf[:300])
            if not self._recv(deadline):
                raise TestFailure("timed out waiting for a response; got %r" % self.buf[:300])

    def read_responses(self, n, timeout=None):
        return [self.read_response(timeout=timeout) for _ in range(n)]

    def read_until_close(self, timeout=None):
        """Reads everything until EOF; fails on timeout.  Returns all bytes."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not self.eof:
            if not self._recv(deadline):
                raise TestFailure("timed out waiting for the server to close; got %r"
                                  % self.buf[:300])
        data, self.buf = self.buf, b""
        return data

    def closed_within(self, timeout):
        """True if the peer closes (EOF/RST) within timeout, with no data
        received meanwhile beyond what is buffered."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if not self._recv(deadline):
                return False
        return True

    def read_some(self, timeout):
        """Whatever arrives within timeout (may be b'')."""
        deadline = time.monotonic() + timeout
        while not self.eof and self._recv(deadline):
            if self.buf:
                break
        data, self.buf = self.buf, b""
        return data


def raw_exchange(port, data, timeout=IO_TIMEOUT, shutdown=False):
    """Sends data on a new connection, returns every byte until close."""
    with Conn(port, timeout) as c:
        c.send(data)
        if shutdown:
            c.shutdown_write()
        return c.read_until_close(timeout)


def parse_all(data):
    """Every response in bytes read up to EOF."""
    out = []
    while data:
        parsed = parse_response(data, eof=True)
        if not parsed:
            break
        resp, data = parsed
        out.append(resp)
    return out


# ---------------------------------------------------------------- curl

def curl(*args, timeout=10, input=None):
    """Runs `curl -sS --max-time 5 ARGS`; returns CompletedProcess (bytes)."""
    cmd = ["curl", "-sS", "--max-time", "5"] + [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout, input=input)


def curl_response(*args, **kw):
    """curl with headers dumped; returns the final Response (body = stdout)."""
    fd, hdr_path = tempfile.mkstemp(prefix="yhttpd-curl-")
    os.close(fd)
    try:
        p = curl("-D", hdr_path, *args, **kw)
        if p.returncode != 0:
            raise TestFailure("curl %s failed (%d): %s" % (" ".join(map(str, args)), p.returncode,
                                                           p.stderr.decode(errors="replace")))
        with open(hdr_path, "rb") as f:
            heads = [h for h in f.read().split(b"\r\n\r\n") if h.strip()]
        version, status, reason, headers = parse_head(heads[-1])
        return Response(version, status, reason, headers, p.stdout, None)
    finally:
        os.unlink(hdr_path)


# ---------------------------------------------------------------- runner

class _Watchdog(Exception):
    pass


def _on_alarm(signo, frame):
    raise _Watchdog("test exceeded %ds watchdog" % TEST_TIMEOUT)


def run(namespace, tools=("curl",)):
    """Runs every test_* function of a module namespace in file order."""
    require_tools(*tools)
    if not os.access(YHTTPD, os.X_OK):
        print("FAIL setup: %s is not an executable (set $YHTTPD)" % YHTTPD)
        print("0 passed, 1 failed")
        sys.exit(1)
    only = sys.argv[1:]
    tests = [(name, fn) for name, fn in namespace.items()
             if name.startswith("test_") and callable(fn) and (not only or name in only)]
    tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
    signal.signal(signal.SIGALRM, _on_alarm)
    passed = failed = skipped = 0
    for name, fn in tests:
        reason = None
        skip = None
        signal.alarm(TEST_TIMEOUT)
        try:
            fn()
            signal.alarm(0)
        except Skip as e:
            signal.alarm(0)
            skip = str(e) or "skipped"
        except BaseException as e:  # noqa: B902 - report everything, keep going
            signal.alarm(0)
            if isinstance(e, KeyboardInterrupt):
                raise
            reason = str(e) or e.__class__.__name__
            if not isinstance(e, TestFailure):
                reason = "%s: %s\n%s" % (e.__class__.__name__, e, traceback.format_exc())
        # Every server the test started must end with status 0, after the
        # harness's SIGTERM or the test's own signal: a sanitizer build
        # reports leaks and errors through a non-zero status.
        notes = []
        for s in list(_servers):
            try:
                s.stop()
                problem = s.exit_problem()
                if problem and reason is None:
                    reason = "after the test: " + problem
                elif problem:
                    notes.append(problem)
                elif reason is not None:
                    tail = s.stderr_text().strip().splitlines()[-8:]
                    if tail:
                        notes.append("server stderr (last lines):\n    " + "\n    ".join(tail))
            finally:
                s.remove()
        if reason is None and skip is not None:
            skipped += 1
            print("skip %s: %s" % (name, skip))
        elif reason is None:
            passed += 1
            print("ok %s" % name)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, reason))
            for note in notes:
                print("  " + note)
        sys.stdout.flush()
    print("%d passed, %d failed%s" % (passed, failed,
                                     ", %d skipped" % skipped if skipped else ""))
    sys.exit(0 if failed == 0 else 1)

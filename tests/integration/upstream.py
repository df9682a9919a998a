"""A scriptable HTTP/1.1 upstream for the proxy and gather tests (stdlib only).

    with Upstream() as up:
        ... up.port, up.url, up.connections, up.requests, up.last ...

A ThreadingHTTPServer on a free 127.0.0.1 port, served from a background
thread.  It counts accepted TCP connections and requests, records every
request (method, raw target, headers, body) and decodes chunked request
bodies itself.  Every answer carries Content-Length unless it is sent chunked
on purpose, so keep-alive works.  Endpoints (GET/POST/PUT/HEAD/DELETE; any
path prefix is allowed before the endpoint name only for /echo):

  /echo...            JSON {method, path, headers, header_list, body, body_len,
                      body_sha256, chunked}; ?status=N; ?header=Name:Value
                      (repeatable; a Date or Server given so replaces the
                      default one)
  /bytes?n=N          N deterministic bytes (pattern(N)); &chunked=1 sends
                      them in 16 KiB chunks
  /upload             JSON {sha256, len, chunked}; ?echo=1 answers the body
                      itself (with X-Upload-Sha256 / X-Upload-Len headers)
  /sleep?s=X          sleeps X seconds (at most 30), answers "slept\\n"
  /json?v=TEXT        answers TEXT as application/json
  /text               "plain text\\n", text/plain
  /close              answers with Connection: close, then closes
  /truncate?n=N       announces N bytes (Content-Length), sends N//2, closes;
                      &chunked=1: sends chunks of N//2 bytes, never the last
                      chunk, closes

Also `?status=N` and `?header=` work on /text, /json and /bytes; a 1xx, 204
or 304 status is sent with neither body nor Content-Length.
Unknown paths answer 404.
"""
import hashlib
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
CHUNK = 16 * 1024
MAX_BODY = 64 * 1024 * 1024
IDLE_TIMEOUT = 60          # an idle upstream connection is closed after this
SERVER_NAME = "UpstreamTest/1.0"

_PATTERN = bytes(range(256)) * 64  # 16 KiB


def pattern(n):
    """The n deterministic bytes /bytes?n=N answers."""
    reps, rest = divmod(n, len(_PATTERN))
    return _PATTERN * reps + _PATTERN[:rest]


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class BadRequest(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def log_message(self, fmt, *args):  # quiet
        pass

    # ---------------------------------------------------------- body

    def _read_line(self):
        line = self.rfile.readline(65537)
        if not line.endswith(b"\n"):
            raise BadRequest("truncated chunked body")
        return line

    def _read_exact(self, n):
        data = self.rfile.read(n)
        if data is None or len(data) != n:
            raise BadRequest("body truncated: %d of %d bytes" % (len(data or b""), n))
        return data

    def _read_body(self):
        te = self.headers.get_all("Transfer-Encoding") or []
        if te:
            codings = [c.strip().lower() for v in te for c in v.split(",") if c.strip()]
            if codings != ["chunked"]:
                raise BadRequest("unsupported transfer coding %r" % te)
            parts, total = [], 0
            for _ in range(1 << 20):
                line = self._read_line()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    for _ in range(1000):  # trailers up to the blank line
                        if self._read_line() in (b"\r\n", b"\n"):
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise BadRequest("body too large")
                parts.append(self._read_exact(size))
                if self._read_line() not in (b"\r\n", b"\n"):
                    raise BadRequest("missing CRLF after chunk")
            return b"".join(parts), True
        cl = self.headers.get_all("Content-Length") or []
        if cl:
            n = int(cl[0])
            if n > MAX_BODY:
                raise BadRequest("body too large")
            return self._read_exact(n), False
        return b"", False

    # ---------------------------------------------------------- answers

    def _head(self, status, headers, ctype, length=None, chunked=False):
        """Status line, Server/Date unless given, then headers."""
        names = {k.lower() for k, _ in headers}
        self.send_response_only(status)
        if "server" not in names:
            self.send_header("Server", SERVER_NAME)
        if "date" not in names:
            self.send_header("Date", self.date_time_string())
        if ctype and "content-type" not in names:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, status, body, ctype="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode("utf-8")
        if status in (204, 304) or 100 <= status < 200:
            self._head(status, list(headers), None)  # no body, no length
            self.wfile.flush()
            return
        self._head(status, list(headers), ctype, len(body))
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _send_chunked(self, status, body, ctype, headers=(), size=CHUNK):
        self._head(status, list(headers), ctype, chunked=True)
        if self.command != "HEAD":
            for i in range(0, len(body), size):
                piece = body[i:i + size]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ---------------------------------------------------------- dispatch

    def _dispatch(self):
        owner = self.server.owner
        try:
            body, chunked = self._read_body()
        except (BadRequest, ValueError) as e:
            self.close_connection = True
            self._send(400, "bad request: %s\n" % e, headers=[("Connection", "close")])
            return
        headers = list(self.headers.items())
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": {},
            "header_list": [[k, v] for k, v in headers],
            "body": body,
            "chunked": chunked,
            "time": time.monotonic(),
        }
        for k, v in headers:
            lk = k.lower()
            rec["headers"][lk] = rec["headers"][lk] + ", " + v if lk in rec["headers"] else v
        owner._record(rec)

        split = urllib.parse.urlsplit(self.path)
        path = split.path
        q = urllib.parse.parse_qs(split.query, keep_blank_values=True)

        def qget(name, default=None):
            return q[name][0] if name in q else default

        extra = []
        for h in q.get("header", []):
            name, _, value = h.partition(":")
            extra.append((name.strip(), value.strip()))
        try:
            status = int(qget("status", "200"))
        except ValueError:
            status = 400

        last = path.rstrip("/").rsplit("/", 1)[-1] if path != "/" else ""
        if path == "/echo" or path.startswith("/echo/") or "/echo/" in path or path.endswith("/echo"):
            out = {
                "method": rec["method"],
                "path": rec["path"],
                "headers": rec["headers"],
                "header_list": rec["header_list"],
                "body": body.decode("latin-1"),
                "body_len": len(body),
                "body_sha256": sha256(body),
                "chunked": chunked,
            }
            self._send(status, json.dumps(out), "application/json", extra)
        elif path == "/bytes":
            n = int(qget("n", "0"))
            data = pattern(n)
            if qget("chunked") == "1":
                self._send_chunked(status, data, "application/octet-stream", extra)
            else:
                self._send(status, data, "application/octet-stream", extra)
        elif path == "/upload":
            if qget("echo") == "1":
                extra += [("X-Upload-Sha256", sha256(body)), ("X-Upload-Len", str(len(body)))]
                self._send(status, body, "application/octet-stream", extra)
            else:
                out = {"sha256": sha256(body), "len": len(body), "chunked": chunked}
                self._send(status, json.dumps(out), "application/json", extra)
        elif path == "/sleep":
            s = min(max(float(qget("s", "1")), 0.0), 30.0)
            time.sleep(s)
            self._send(status, "slept\n", "text/plain", extra)
        elif path == "/json":
            self._send(status, qget("v", "null"), "application/json", extra)
        elif path == "/text":
            self._send(status, "plain text\n", "text/plain", extra)
        elif path == "/close":
            self.close_connection = True
            self._send(status, "closing\n", "text/plain", extra + [("Connection", "close")])
        elif path == "/truncate":
            n = int(qget("n", "100000"))
            self.close_connection = True
            data = pattern(n)[:n // 2]
            if qget("chunked") == "1":
                self._head(status, extra, "application/octet-stream", chunked=True)
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
            else:
                self._head(status, extra, "application/octet-stream", n)
                self.wfile.write(data)
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        else:
            self._send(404, "no such endpoint %s\n" % last, "text/plain")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def process_request(self, request, client_address):
        self.owner._accepted(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.owner._gone(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # A peer (yhttpd) that goes away mid-answer is expected in some tests.
        import sys
        self.owner.errors.append(repr(sys.exc_info()[1]))


class Upstream:
    """An upstream HTTP/1.1 server on a free 127.0.0.1 port."""

    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.connections = 0        # accepted TCP connections
        self.requests = 0           # requests read
        self.last = None            # the last request: dict(method, path, headers, body, ...)
        self.log = []               # every request, in arrival order
        self.errors = []            # exceptions inside handler threads
        self._open = set()
        self.httpd = _Server((HOST, port), _Handler)
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.url = "http://%s:%d" % (HOST, self.port)
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="upstream-%d" % self.port, daemon=True)
        self._thread.start()
        self._stopped = False

    # ------------------------------------------------ bookkeeping (any thread)

    def _accepted(self, sock):
        with self.lock:
            self.connections += 1
            self._open.add(sock)

    def _gone(self, sock):
        with self.lock:
            self._open.discard(sock)

    def _record(self, rec):
        with self.lock:
            self.requests += 1
            self.last = rec
            self.log.append(rec)

    # ------------------------------------------------ API

    @property
    def open_connections(self):
        with self.lock:
            return len(self._open)

    def paths(self):
        with self.lock:
            return [r["path"] for r in self.log]

    def reset_counts(self):
        with self.lock:
            self.connections = 0
            self.requests = 0
            self.log = []
            self.last = None

    def drop_connections(self):
        """Closes (from our side) every accepted connection, as an upstream
        whose keep-alive timeout expired would."""
        with self.lock:
            socks = list(self._open)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        if self._stopped:
            return
        self._stopped = True
        self.httpd.shutdown()
        self.drop_connections()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def closed_port():
    """A 127.0.0.1 port on which nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]

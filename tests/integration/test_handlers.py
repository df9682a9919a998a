#!/usr/bin/env python3
"""Handlers: text, json, redirect, echo; route headers; HEAD parity."""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, build_request, check, curl, curl_response, eq, run  # noqa: E402

CONFIG = r"""
routes:
  - GET /t/short/{name}:
      text: "Hello, {name}\n"
  - GET /t/long:
      text: {body: "teapot {query.x}\n", status: 418, content_type: "text/x-tea"}
  - GET /t/braces:
      text: "{{literal}} {method} {path}\n"
  - GET /j/{name}:
      json: {name: "{name}", n: 42, neg: -1.5, e: 1e3, yes: true, no: false, nothing: null, tilde: ~,
             quoted_num: "42", list: [1, "two", {three: 3}], map: {inner: [true, null]},
             agent: "{header.User-Agent}", q: "{query.q}"}
  - GET /j/long:
      json: {body: [1, {a: "b"}], status: 201}
  - GET /j/scalar:
      json: "just {method}"
  - GET /r/short/{name}:
      redirect: /new/{name}?from={query.from}
  - GET /r/long/{code}:
      redirect: {to: "/dest/{code}", status: 308}
  - GET /r/301:
      redirect: {to: "http://example.com/x", status: 301}
  - GET /r/303:
      redirect: {to: "/see", status: 303}
  - GET /r/307:
      redirect: {to: "/tmp", status: 307}
  - "* /echo/{tail:.*}":
      echo: json
  - "* /body":
      echo: body
  - GET /hdr/{name}:
      text: "h\n"
      headers:
        X-Name: "{name}"
        X-Const: constant value
        X-Q: "{query.x}"
        Cache-Control: no-store
"""


def server():
    return Server(CONFIG)


# ------------------------------------------------------------------ text

def test_text_short_form():
    with server() as s:
        r = s.get("/t/short/bob")
        eq(r.status, 200)
        eq(r.body, b"Hello, bob\n")
        eq(r.header("Content-Type"), "text/plain; charset=utf-8")
        eq(r.header("Content-Length"), "11")


def test_text_short_form_percent_decoded_var():
    with server() as s:
        r = s.get("/t/short/J%C3%BCrgen%20X")
        eq(r.status, 200)
        eq(r.body, "Hello, Jürgen X\n".encode())


def test_text_long_form_status_and_type():
    with server() as s:
        r = s.get("/t/long?x=green")
        eq(r.status, 418)
        eq(r.body, b"teapot green\n")
        eq(r.header("Content-Type"), "text/x-tea")


def test_text_literal_braces_and_builtins():
    with server() as s:
        r = s.get("/t/braces?z=1")
        eq(r.status, 200)
        eq(r.body, b"{literal} GET /t/braces\n")


def test_text_via_curl():
    with server() as s:
        r = curl_response(s.url("/t/short/curl"))
        eq(r.status, 200)
        eq(r.body, b"Hello, curl\n")


# ------------------------------------------------------------------ json

def test_json_types_and_nesting():
    with server() as s:
        r = s.get("/j/alice?q=find%20me", headers={"User-Agent": "tester/1.0"})
        eq(r.status, 200)
        eq(r.header("Content-Type"), "application/json")
        d = r.json()
        eq(d["name"], "alice")
        eq(d["n"], 42)
        check(isinstance(d["n"], int), "n must be a JSON number")
        eq(d["neg"], -1.5)
        eq(d["e"], 1000.0)
        eq(d["yes"], True)
        eq(d["no"], False)
        eq(d["nothing"], None)
        eq(d["tilde"], None)
        eq(d["quoted_num"], "42", "a quoted YAML scalar stays a string")
        eq(d["list"], [1, "two", {"three": 3}])
        eq(d["map"], {"inner": [True, None]})
        eq(d["agent"], "tester/1.0")
        eq(d["q"], "find me")
        eq(list(d.keys())[:3], ["name", "n", "neg"], "key order")


def test_json_escapes_templated_values():
    with server() as s:
        # name = a"b\c, header holds a quote, a backslash and a tab
        r = s.get("/j/a%22b%5Cc%0A", headers={"User-Agent": 'x"y\\z\tw'})
        eq(r.status, 200)
        d = r.json()  # fails if the quote was not escaped
        eq(d["name"], 'a"b\\c\n')
        eq(d["agent"], 'x"y\\z\tw')
        check(b'"a\\"b' in r.body, "quote must be escaped as \\\" in %r" % r.body)


def test_json_query_injection_stays_a_string():
    with server() as s:
        r = s.get('/j/x?q=%22%2C%22evil%22%3Atrue%2C%22z%22%3A%22')
        eq(r.status, 200)
        d = r.json()
        eq(d["q"], '","evil":true,"z":"')
        check("evil" not in d, "injected key must not appear")


def test_json_long_form_status():
    with server() as s:
        r = s.get("/j/long")
        eq(r.status, 201)
        eq(r.header("Content-Type"), "application/json")
        eq(r.json(), [1, {"a": "b"}])


def test_json_scalar_string():
    with server() as s:
        r = s.get("/j/scalar")
        eq(r.status, 200)
        eq(r.json(), "just GET")


# ------------------------------------------------------------------ redirect

def test_redirect_short_form():
    with server() as s:
        r = s.get("/r/short/bob?from=home")
        eq(r.status, 302)
        eq(r.header("Location"), "/new/bob?from=home")
        eq(r.header("Content-Length"), "0")
        eq(r.body, b"")


def test_redirect_long_form_statuses():
    with server() as s:
        r = s.get("/r/long/abc")
        eq(r.status, 308)
        eq(r.header("Location"), "/dest/abc")
        for path, status, loc in (("/r/301", 301, "http://example.com/x"),
                                  ("/r/303", 303, "/see"), ("/r/307", 307, "/tmp")):
            r = s.get(path)
            eq(r.status, status, path)
            eq(r.header("Location"), loc, path)


def test_redirect_followed_by_curl():
    with server() as s:
        p = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", s.url("/r/long/7"))
        eq(p.returncode, 0, "curl exit")
        eq(p.stdout.decode(), "308 %s" % s.url("/dest/7"))


# ------------------------------------------------------------------ echo json

def test_echo_json_request_description():
    with server() as s:
        body = b'{"k": "v"}'
        r = s.request("POST", "/echo/a/b%20c?x=1&y=two%20words&plus=a+b&empty=&flag",
                      headers=[("X-Custom", "hello"), ("X-Multi", "one"), ("X-Multi", "two"),
                               ("Content-Type", "application/json")], body=body)
        eq(r.status, 200)
        eq(r.header("Content-Type"), "application/json")
        d = r.json()
        eq(d["method"], "POST")
        eq(d["path"], "/echo/a/b c")
        eq(d["query"], {"x": "1", "y": "two words", "plus": "a b", "empty": "", "flag": ""})
        h = {k.lower(): v for k, v in d["headers"].items()}
        eq(h.get("x-custom"), "hello")
        eq(h.get("x-multi"), "one, two")
        eq(h.get("host"), "localhost")
        eq(h.get("content-length"), str(len(body)))
        eq(d["vars"], {"tail": "a/b c"})
        eq(d["body"], body.decode())
        check("body_base64" not in d, "UTF-8 body must not be base64")


def test_echo_json_any_method_and_empty_body():
    with server() as s:
        r = s.request("DELETE", "/echo/x")
        eq(r.status, 200)
        d = r.json()
        eq(d["method"], "DELETE")
        eq(d["body"], "")
        eq(d["query"], {})


def test_echo_json_non_utf8_body_base64():
    with server() as s:
        body = bytes([0xff, 0xfe, 0x00, 0x80, 0x41])
        r = s.request("PUT", "/echo/bin", body=body)
        eq(r.status, 200)
        d = r.json()
        check("body" not in d, "non-UTF-8 body must not be in `body`: %r" % d)
        eq(base64.b64decode(d["body_base64"]), body)


def test_echo_json_chunked_body():
    with server() as s:
        r = s.request("POST", "/echo/c", headers=[("Transfer-Encoding", "chunked")],
                      body=b"3\r\nab\xff\r\n2\r\ncd\r\n0\r\n\r\n")
        eq(r.status, 200)
        d = r.json()
        eq(base64.b64decode(d.get("body_base64", "")), b"ab\xffcd", "chunked non-UTF-8 body")
        r = s.request("POST", "/echo/c", headers=[("Transfer-Encoding", "chunked")],
                      body=b"4\r\ntext\r\n0\r\n\r\n")
        eq(r.json()["body"], "text")


def test_echo_json_utf8_body_kept():
    with server() as s:
        r = s.request("POST", "/echo/u", body="grüß \"dich\"\n".encode())
        eq(r.json()["body"], "grüß \"dich\"\n")


# ------------------------------------------------------------------ echo body

def test_echo_body_content_type_passthrough():
    with server() as s:
        r = s.request("POST", "/body", headers={"Content-Type": "text/x-mine; charset=latin1"},
                      body=b"payload")
        eq(r.status, 200)
        eq(r.header("Content-Type"), "text/x-mine; charset=latin1")
        eq(r.body, b"payload")


def test_echo_body_binary_exact():
    with server() as s:
        body = bytes(range(256)) * 64  # 16 KiB with NUL, CR, LF
        r = s.request("PUT", "/body", headers={"Content-Type": "application/octet-stream"},
                      body=body)
        eq(r.status, 200)
        eq(r.header("Content-Length"), str(len(body)))
        check(r.body == body, "binary body differs (%d vs %d bytes)" % (len(r.body), len(body)))


def test_echo_body_chunked_request():
    with server() as s:
        chunked = b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n"
        r = s.request("POST", "/body", headers=[("Transfer-Encoding", "chunked"),
                                                ("Content-Type", "text/plain")], body=chunked)
        eq(r.status, 200)
        eq(r.body, b"hello world!")
        eq(r.header("Content-Length"), "12")


def test_echo_body_via_curl_binary():
    with server() as s:
        body = bytes(range(256)) * 4
        p = curl("-X", "POST", "-H", "Content-Type: application/x-bin", "--data-binary", "@-",
                 s.url("/body"), input=body)
        eq(p.returncode, 0, "curl exit")
        check(p.stdout == body, "curl round-trip differs")


# ------------------------------------------------------------------ headers / HEAD

def test_route_headers_templated():
    with server() as s:
        r = s.get("/hdr/zed?x=qq")
        eq(r.status, 200)
        eq(r.header("X-Name"), "zed")
        eq(r.header("X-Const"), "constant value")
        eq(r.header("X-Q"), "qq")
        eq(r.header("Cache-Control"), "no-store")
        eq(r.body, b"h\n")


def test_head_parity():
    with server() as s:
        for path in ("/t/short/bob", "/j/alice", "/hdr/zed?x=1", "/r/short/a"):
            g = s.request("GET", path)
            h = s.request("HEAD", path)
            eq(h.status, g.status, path)
            strip = lambda r: [(k.lower(), v) for k, v in r.headers if k.lower() != "date"]
            eq(strip(h), strip(g), "HEAD headers for " + path)
            check(g.header("Content-Length") is not None, "GET %s has Content-Length" % path)


def test_head_sends_no_body():
    with server() as s:
        # HEAD followed by GET on one connection: a body after HEAD would be
        # parsed as the start of the second answer.
        with s.connect() as c:
            c.send(build_request("HEAD", "/t/short/bob") + build_request("GET", "/t/short/x"))
            h = c.read_response(head_only=True)
            eq(h.status, 200)
            eq(h.header("Content-Length"), "11")
            g = c.read_response()
            eq(g.status, 200)
            eq(g.body, b"Hello, x\n")


def test_header_injection_via_template():
    with server() as s:
        with s.connect() as c:
            c.send(build_request("GET", "/hdr/n?x=a%0d%0aX-Evil:%20yes%0d%0a%0d%0abody"))
            r = c.read_response()
            eq(r.status, 200)
            check(not r.has("X-Evil"), "a template created a header line: %r" % r.headers)
            x = r.header("X-Q")
            check(x is not None and "\r" not in x and "\n" not in x, "X-Q = %r" % x)
            eq(r.body, b"h\n")
            head = r.raw.split(b"\r\n\r\n")[0]
            check(b"\nX-Evil" not in head, "raw head holds an injected line: %r" % head)
        # and in a redirect's Location
        r = s.get("/r/short/a?from=x%0d%0aSet-Cookie:%20a=b")
        eq(r.status, 302)
        check(not r.has("Set-Cookie"), "Location template created a header: %r" % r.headers)
        check("\n" not in r.header("Location"), "Location holds a newline")


def test_header_injection_via_path_var():
    with server() as s:
        r = s.get("/hdr/a%0D%0AX-Evil:%201")
        eq(r.status, 200)
        check(not r.has("X-Evil"), "path var created a header: %r" % r.headers)


if __name__ == "__main__":
    run(globals())

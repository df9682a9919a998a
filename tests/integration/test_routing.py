#!/usr/bin/env python3
"""Routing: specificity, 404/405/OPTIONS, method sets, path normalisation."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Server, check, curl_response, eq, parse_all, raw_exchange, run  # noqa: E402

CONFIG = r"""
routes:
  - GET /users/{tail:.*}:
      text: "tail {tail}\n"
  - GET /users/{name}:
      text: "name {name}\n"
  - GET /users/{id:\d+}:
      text: "id {id}\n"
  - GET /users/me:
      text: "static me\n"
  - GET,POST /items:
      text: "items {method}\n"
  - DELETE /items:
      text: "deleted\n"
  - GET /a/c:
      text: "a/c\n"
  - GET /x:
      text: "x\n"
  - OPTIONS,GET /own:
      text: {body: "own {method}\n", status: 200}
  - "* /any":
      text: "any {method}\n"
  - GET /f/{file}:
      text: "file [{file}]\n"
  - GET /:
      text: "root\n"
  - GET /rx/{b:\w+}:
      text: "word {b}\n"
  - GET /rx/{a:[a-z]+}:
      text: "lower {a}\n"
  - GET /rx/{t:.*x}:
      text: "span-x {t}\n"
  - GET /rx/{t:.*}:
      text: "span {t}\n"
"""


def server():
    return Server(CONFIG)


def allow_set(r):
    v = r.header("Allow")
    check(v is not None, "no Allow header in %r" % r)
    return {m.strip() for m in v.split(",") if m.strip()}


def test_static_beats_everything():
    with server() as s:
        r = s.get("/users/me")
        eq((r.status, r.body), (200, b"static me\n"))


def test_regex_beats_plain_var():
    with server() as s:
        r = s.get("/users/42")
        eq((r.status, r.body), (200, b"id 42\n"))


def test_plain_var_beats_spanning_regex():
    with server() as s:
        r = s.get("/users/bob")
        eq((r.status, r.body), (200, b"name bob\n"))


def test_spanning_regex_takes_multi_segment():
    with server() as s:
        r = s.get("/users/bob/posts/7")
        eq((r.status, r.body), (200, b"tail bob/posts/7\n"))


def test_regexes_in_file_order():
    # Among regexes of one kind, the first written wins (not the narrowest).
    with server() as s:
        eq(s.get("/rx/abc").body, b"word abc\n")
        eq(s.get("/rx/a/b/x").body, b"span-x a/b/x\n")
        eq(s.get("/rx/a/b/y").body, b"span a/b/y\n")


def test_not_found():
    with server() as s:
        r = s.get("/nope")
        eq(r.status, 404)
        check(r.header("Content-Length") is not None, "404 must be self-delimiting")
        r = s.get("/x/y")
        eq(r.status, 404)


def test_method_not_allowed_exact_allow():
    with server() as s:
        r = s.request("PUT", "/items")
        eq(r.status, 405)
        eq(allow_set(r), {"GET", "HEAD", "POST", "DELETE", "OPTIONS"})
        r = s.request("POST", "/users/me")
        eq(r.status, 405)
        eq(allow_set(r), {"GET", "HEAD", "OPTIONS"})


def test_methods_on_shared_path():
    with server() as s:
        eq(s.request("POST", "/items").body, b"items POST\n")
        eq(s.request("DELETE", "/items").body, b"deleted\n")
        eq(s.request("GET", "/items").body, b"items GET\n")


def test_automatic_options():
    with server() as s:
        r = s.request("OPTIONS", "/items")
        eq(r.status, 204)
        eq(allow_set(r), {"GET", "HEAD", "POST", "DELETE", "OPTIONS"})
        eq(r.body, b"")
        check(not r.has("Content-Length") or r.header("Content-Length") == "0",
              "204 with a Content-Length > 0")


def test_options_unknown_path_404():
    with server() as s:
        eq(s.request("OPTIONS", "/nope").status, 404)


def test_route_claims_options():
    with server() as s:
        r = s.request("OPTIONS", "/own")
        eq(r.status, 200)
        eq(r.body, b"own OPTIONS\n")


def test_star_method_route():
    with server() as s:
        for m in ("GET", "POST", "PATCH", "DELETE", "PROPFIND"):
            r = s.request(m, "/any")
            eq((r.status, r.body), (200, ("any %s\n" % m).encode()), m)


def test_percent_decoded_capture():
    with server() as s:
        r = s.get("/f/hello%20w%C3%B6rld")
        eq((r.status, r.body), (200, "file [hello wörld]\n".encode()))


def test_encoded_slash_in_capture():
    # %2F decodes to '/' inside the capture; {file} still matches the one
    # raw segment or the path is refused: never a different route's answer.
    with server() as s:
        r = s.get("/f/a%2Fb")
        check(r.status in (200, 400, 404), "status %d" % r.status)
        if r.status == 200:
            eq(r.body, b"file [a/b]\n")


def test_dot_segments_removed():
    with server() as s:
        r = s.get("/a/b/../c")
        eq((r.status, r.body), (200, b"a/c\n"))
        r = s.get("/a/./c")
        eq((r.status, r.body), (200, b"a/c\n"))
        r = s.get("/a/b/%2E%2E/c")
        eq((r.status, r.body), (200, b"a/c\n"))


def test_path_above_root_400():
    with server() as s:
        for path in ("/../x", "/a/../../x", "/%2e%2e/x"):
            r = s.get(path)
            eq(r.status, 400, path)
            eq(r.header("Connection"), "close", path)


def test_nul_in_path_400():
    with server() as s:
        r = s.get("/f/a%00b")
        eq(r.status, 400)


def test_absolute_form_target():
    with server() as s:
        data = raw_exchange(s.port, b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n"
                                    b"Connection: close\r\n\r\n")
        rs = parse_all(data)
        eq(len(rs), 1)
        eq((rs[0].status, rs[0].body), (200, b"x\n"))
        data = raw_exchange(s.port, b"GET http://example.com HTTP/1.1\r\nHost: example.com\r\n"
                                    b"Connection: close\r\n\r\n")
        eq(parse_all(data)[0].body, b"root\n")


def test_options_star():
    with server() as s:
        data = raw_exchange(s.port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = parse_all(data)[0]
        eq(r.status, 204)
        allow = allow_set(r)
        for m in ("GET", "HEAD", "POST", "DELETE", "OPTIONS"):
            check(m in allow, "%s missing from Allow %r" % (m, allow))


def test_curl_routing():
    with server() as s:
        r = curl_response("-X", "PUT", s.url("/items"))
        eq(r.status, 405)
        eq(allow_set(r), {"GET", "HEAD", "POST", "DELETE", "OPTIONS"})


def test_query_not_part_of_match():
    with server() as s:
        r = s.get("/users/me?x=/../y")
        eq((r.status, r.body), (200, b"static me\n"))


if __name__ == "__main__":
    run(globals())

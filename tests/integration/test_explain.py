#!/usr/bin/env python3
"""yhttpd --explain "METHOD TARGET": the winner, its variables, the routes it beat, exit codes."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ConfigFile, check, eq, run, yhttpd_run  # noqa: E402

CONFIG = """\
workers: 0
routes:
  - GET /hello/{name}:
      text: "Hello, {name}\\n"
  - GET /hello/{name:.*}:
      text: tail
  - POST /hello/bob:
      text: posted
  - GET /hello/admin:
      text: admin
  - GET /files/{path:.*}:
      files: /tmp
  - GET /u/{id:[0-9]+}:
      text: user
  - GET /u/{name}:
      text: named
"""


def explain(request, text=CONFIG):
    with ConfigFile(text, "routes.yaml") as c:
        p = yhttpd_run(["--explain", request, "-c", c.path])
        return c.path, p.returncode, p.stdout.decode(), p.stderr.decode()


def test_winner_variables_and_beaten_routes():
    path, rc, out, err = explain("GET /hello/bob")
    eq(rc, 0, "exit status (stderr %r)" % err)
    eq(out, "request: GET /hello/bob\n"
            "path: /hello/bob\n"
            "route: GET /hello/{name} (%s:3), handler text\n"
            "  name = bob\n"
            "beaten:\n"
            "  GET /hello/{name:.*} (%s:5): a regex spanning segments ranks below {name} at "
            "segment 2\n"
            "  POST /hello/bob (%s:7): the pattern matches, but the route accepts POST, not GET\n"
            % (path, path, path))
    eq(err, "")


def test_static_beats_variable():
    path, rc, out, _ = explain("GET /hello/admin")
    eq(rc, 0)
    check("route: GET /hello/admin (%s:9)" % path in out, out)
    check("  GET /hello/{name} (%s:3): {name} ranks below static `admin` at segment 2\n" % path
          in out, out)


def test_segment_regex_beats_name():
    path, rc, out, _ = explain("GET /u/42")
    eq(rc, 0)
    check("route: GET /u/{id:[0-9]+} (%s:13), handler text\n  id = 42\n" % path in out, out)
    check("{name} ranks below a segment regex `{id:[0-9]+}` at segment 2" in out, out)
    path, rc, out, _ = explain("GET /u/al")
    eq(rc, 0)
    check("route: GET /u/{name} (%s:15)" % path in out and "beaten" not in out, out)


def test_normalized_like_a_real_request():
    _, rc, out, _ = explain("GET /hello/x/../b%20b?q=1")
    eq(rc, 0)
    check("path: /hello/b b\n" in out and "  name = b b\n" in out, out)
    _, rc, out, _ = explain("GET /files/a/./b/../c.txt")
    eq(rc, 0)
    check("  path = a/c.txt\n" in out, out)


def test_method_not_allowed_lists_allow():
    path, rc, out, _ = explain("DELETE /hello/bob")
    eq(rc, 1)
    check("result: 405 Method Not Allowed; Allow: GET, HEAD, POST, OPTIONS\n" in out, out)
    check("  GET /hello/{name} (%s:3): the pattern matches, but the route accepts GET, not "
          "DELETE\n" % path in out, out)


def test_not_found():
    _, rc, out, _ = explain("GET /nothing/here")
    eq(rc, 1)
    check("result: 404 Not Found: no route pattern matches /nothing/here\n" in out, out)


def test_bad_path_is_400():
    for target in ("/../etc/passwd", "/a%00b", "/a%zz"):
        _, rc, out, _ = explain("GET " + target)
        eq(rc, 1, target)
        check("result: 400 Bad Request" in out, "%s: %s" % (target, out))


def test_usage_errors_exit_2():
    for request in ("GET", "get /hello/bob", "GET /a /b"):
        _, rc, out, err = explain(request)
        eq(rc, 2, request)
        eq(out, "", request)
        check(err.startswith("yhttpd: "), "%s: %r" % (request, err))
    p = yhttpd_run(["--explain"])
    eq(p.returncode, 2)
    check(b"requires an argument" in p.stderr, p.stderr)


def test_config_error_exit_2_like_t():
    bad = "routes:\n  - GET /:\n      txt: hi\n"
    path, rc, out, err = explain("GET /", bad)
    eq(rc, 2)
    eq(out, "")
    check(re.search(r"^%s:3:7: unknown key `txt`" % re.escape(path), err, re.M), err)
    p = yhttpd_run(["--explain", "GET /", "-c", "/nonexistent/yhttpd.yaml"])
    eq(p.returncode, 2)
    check(b"/nonexistent/yhttpd.yaml: No such file" in p.stderr, p.stderr)


if __name__ == "__main__":
    run(globals(), tools=())

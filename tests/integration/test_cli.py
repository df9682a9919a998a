#!/usr/bin/env python3
"""Command line: -t, --routes, -V, bad options, config errors, access log formats."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SRCDIR, ConfigFile, Server, TestFailure, check, eq, run,  # noqa: E402
                     yhttpd_run)


def check_config(text):
    with ConfigFile(text) as c:
        p = yhttpd_run(["-t", "-c", c.path])
        return c.path, p.returncode, p.stdout.decode(), p.stderr.decode()


def expect_error(text, line, col, *fragments):
    """-t must exit 1 with PATH:LINE:COL: ... holding every fragment."""
    path, rc, out, err = check_config(text)
    eq(rc, 1, "exit status (stderr %r)" % err)
    m = re.search(r"^%s:(\d+):(\d+): (.*)$" % re.escape(path), err, re.M)
    check(m, "no %s:LINE:COL: in stderr %r" % (path, err))
    eq((int(m.group(1)), int(m.group(2))), (line, col), "line:col in %r" % err)
    for frag in fragments:
        check(frag in err, "%r not in %r" % (frag, err))
    check("ok" not in out, "stdout says ok: %r" % out)
    return err


GOOD = """\
listen: 127.0.0.1:8080
workers: 0
routes:
  - GET /:
      text: "hi\\n"
  - GET /hello/{name}:
      text: {body: "Hello, {name}\\n", status: 200}
  - POST /up:
      echo: body
"""


def test_good_file_ok():
    path, rc, out, err = check_config(GOOD)
    eq(rc, 0, "exit status (stderr %r)" % err)
    eq(out, "%s: ok\n" % path)


def test_default_config_passes():
    path = os.path.join(SRCDIR, "conf", "yhttpd.yaml")
    p = yhttpd_run(["-t", "-c", path])
    eq(p.returncode, 0, "stderr %r" % p.stderr)
    eq(p.stdout.decode(), "%s: ok\n" % path)


def test_yaml_syntax_error():
    expect_error("listen: 127.0.0.1:8080\n"
                 "routes:\n"
                 "  - GET /: {text: [a, b}\n", 3, 24, "YAML")


def test_unknown_key_did_you_mean():
    err = expect_error("listen: 127.0.0.1:8080\n"
                       "routes:\n"
                       "  - GET /:\n"
                       "      text: {bdy: \"x\"}\n", 4, 14, "`bdy`", "did you mean `body`")
    check("unknown key" in err, err)


def test_unknown_top_level_key():
    expect_error("listen: 127.0.0.1:8080\n"
                 "limit:\n"
                 "  body_size: 1k\n"
                 "routes:\n"
                 "  - GET /:\n"
                 "      text: x\n", 2, 1, "`limit`", "did you mean `limits`")


def test_lowercase_method():
    expect_error("listen: 127.0.0.1:8080\n"
                 "routes:\n"
                 "  - GET /ok:\n"
                 "      text: x\n"
                 "  - get /:\n"
                 "      text: x\n", 5, 5, "`get`", "`GET`")


def test_unknown_template_variable():
    expect_error("listen: 127.0.0.1:8080\n"
                 "routes:\n"
                 "  - GET /{name}:\n"
                 "      text: \"x {nmae}\"\n", 4, 16, "nmae")


def test_ambiguous_routes_name_both_lines():
    err = expect_error("listen: 127.0.0.1:8080\n"
                       "routes:\n"
                       "  - GET /u/{a}:\n"
                       "      text: x\n"
                       "  - GET /other:\n"
                       "      text: y\n"
                       "  - GET,POST /u/{b}:\n"
                       "      text: z\n", 7, 5)
    check(re.search(r"\b3\b", err.split(":", 3)[3]), "first route's line 3 not named: %r" % err)


def test_bad_size():
    expect_error("listen: 127.0.0.1:8080\n"
                 "limits: {body_size: 12x}\n"
                 "routes:\n"
                 "  - GET /:\n"
                 "      text: x\n", 2, 21, "12x")


def test_bad_duration():
    expect_error("listen: 127.0.0.1:8080\n"
                 "timeouts:\n"
                 "  header: 10 parsecs\n"
                 "routes:\n"
                 "  - GET /:\n"
                 "      text: x\n", 3, 11)


def test_unknown_handler_suggestion():
    expect_error("listen: 127.0.0.1:8080\n"
                 "routes:\n"
                 "  - GET /:\n"
                 "      txt: \"x\"\n", 4, 7, "`txt`", "did you mean `text`")


def test_missing_routes():
    path, rc, out, err = check_config("listen: 127.0.0.1:8080\nworkers: 0\n")
    eq(rc, 1)
    check(re.search(r"^%s:\d+:\d+: .*routes" % re.escape(path), err, re.M),
          "error does not name routes: %r" % err)


def test_bad_redirect_status():
    expect_error("listen: 127.0.0.1:8080\n"
                 "routes:\n"
                 "  - GET /:\n"
                 "      redirect: {to: /x, status: 200}\n", 4, 34, "200")


def test_several_errors_reported():
    path, rc, out, err = check_config("listen: 127.0.0.1:8080\n"
                                      "routes:\n"
                                      "  - GET /a:\n"
                                      "      txt: x\n"
                                      "  - GET /b:\n"
                                      "      text: \"{nope}\"\n")
    eq(rc, 1)
    check("%s:4:" % path in err and "%s:6:" % path in err, "both errors expected: %r" % err)


def test_missing_file():
    p = yhttpd_run(["-t", "-c", "/nonexistent/yhttpd-test.yaml"])
    eq(p.returncode, 1)
    check(b"/nonexistent/yhttpd-test.yaml" in p.stderr, p.stderr)


def test_routes_listing():
    with ConfigFile(GOOD) as c:
        p = yhttpd_run(["--routes", "-c", c.path])
        eq(p.returncode, 0, p.stderr)
        lines = p.stdout.decode().splitlines()
        eq(lines[0].split(), ["ROUTE", "HANDLER", "SOURCE"])
        rows = [l.split() for l in lines[1:]]
        eq(rows, [["GET", "/", "text", "%s:4" % c.path],
                  ["GET", "/hello/{name}", "text", "%s:6" % c.path],
                  ["POST", "/up", "echo", "%s:8" % c.path]])


def test_version():
    p = yhttpd_run(["-V"])
    eq(p.returncode, 0)
    check(re.match(rb"^yhttpd \d+\.\d+\.\d+\S*\n$", p.stdout), "version output %r" % p.stdout)


def test_help():
    p = yhttpd_run(["-h"])
    eq(p.returncode, 0)
    check(b"usage" in p.stdout.lower() and b"-t" in p.stdout, p.stdout)


def test_unknown_option_exit_2():
    p = yhttpd_run(["--no-such-option"])
    eq(p.returncode, 2)
    check(b"usage" in p.stderr.lower(), p.stderr)
    p = yhttpd_run(["-t", "extra-arg"])
    eq(p.returncode, 2)


# ------------------------------------------------------------------ access log

ROUTES = """
routes:
  - GET /hello/{name}:
      text: "Hello, {name}\\n"
"""


def wait_log(s, n, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = s.access_text().splitlines()
        if len(lines) >= n:
            return lines
        time.sleep(0.02)
    raise TestFailure("access log has %d line(s), want %d: %r"
                         % (len(s.access_text().splitlines()), n, s.access_text()))


COMBINED = re.compile(r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                      r'"(\S+) (\S+) (HTTP/1\.[01])" (\d{3}) (\d+) "([^"]*)" "([^"]*)"$')


def test_access_log_combined():
    with Server(ROUTES, access_format="combined") as s:
        s.request("GET", "/hello/bob?x=1", headers={"User-Agent": "it-agent/1",
                                                    "Referer": "http://ref/"})
        s.request("GET", "/missing")
        s.request("HEAD", "/hello/x", version="1.0")
        lines = wait_log(s, 3)
        m = COMBINED.match(lines[0])
        check(m, "not combined format: %r" % lines[0])
        eq(m.groups(), ("GET", "/hello/bob?x=1", "HTTP/1.1", "200", "11", "http://ref/",
                        "it-agent/1"))
        m = COMBINED.match(lines[1])
        check(m, "not combined format: %r" % lines[1])
        eq((m.group(2), m.group(4), m.group(6), m.group(7)), ("/missing", "404", "-", "-"))
        m = COMBINED.match(lines[2])
        check(m, "not combined format: %r" % lines[2])
        eq((m.group(1), m.group(3), m.group(4), m.group(5)), ("HEAD", "HTTP/1.0", "200", "0"))


def test_access_log_json():
    with Server(ROUTES, access_format="json") as s:
        s.request("GET", "/hello/al", headers={"User-Agent": 'q"uote'})
        s.request("POST", "/hello/al")
        s.request("GET", "/nothing")
        lines = wait_log(s, 3)
        recs = []
        for line in lines:
            try:
                recs.append(json.loads(line))
            except ValueError:
                raise TestFailure("access log line is not JSON: %r" % line)
        eq((recs[0]["status"], recs[0]["route"], recs[0]["method"]),
           (200, "GET /hello/{name}", "GET"))
        eq(recs[0]["user_agent"], 'q"uote')
        eq(recs[0]["target"], "/hello/al")
        eq(recs[1]["status"], 405)
        eq(recs[2]["status"], 404)
        check(isinstance(recs[0]["status"], int), "status must be a number")


def test_access_log_common():
    with Server(ROUTES, access_format="common") as s:
        s.get("/hello/c")
        line = wait_log(s, 1)[0]
        check(re.match(r'^127\.0\.0\.1 - - \[[^\]]+\] "GET /hello/c HTTP/1\.1" 200 9$', line),
              "common format: %r" % line)


if __name__ == "__main__":
    run(globals())

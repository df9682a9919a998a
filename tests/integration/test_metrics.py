#!/usr/bin/env python3
"""The `metrics` handler: Prometheus text summed over workers through shared
memory; exact counts by route pattern across workers, reloads (routes added
and removed, failed reloads) and a worker killed with SIGKILL."""
import collections
import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Conn, Server, build_request, check, children, eq, run,  # noqa: E402
                     wait_for, yhttpd_run)

ROUTES = r"""
routes:
  - GET /hello/{name}:
      text: "Hello, {name}\n"
  - GET /old:
      text: "old\n"
  - 'GET /q"x\y':
      text: "q\n"
  - GET /metrics:
      metrics: {}
"""

# /old removed, /new added
RELOADED = r"""
routes:
  - GET /hello/{name}:
      text: "Hello, {name}\n"
  - GET /new:
      text: "new\n"
  - GET /metrics:
      metrics: {}
"""

NONE = "(none)"
HELLO = "GET /hello/{name}"
SCRAPE = "GET /metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse(text):
    """Samples of a Prometheus text exposition: [(name, {label: value}, float)].
    Fails on a line that does not parse or a family without HELP and TYPE."""
    samples, helped, typed = [], set(), {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            typed[name] = kind
            continue
        m = SAMPLE.match(line)
        check(m, "unparsable metrics line %r" % line)
        name, inner, value = m.groups()
        labels, pos = {}, 0
        for lm in LABEL.finditer(inner or ""):
            check(lm.start() == pos, "bad labels in %r" % line)
            labels[lm.group(1)] = unescape(lm.group(2))
            pos = lm.end()
        check(pos == len(inner or ""), "bad labels in %r" % line)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        check(family in helped and family in typed, "no HELP/TYPE before %r" % line)
        samples.append((name, labels, float(value)))
    return samples


class Client:
    """Requests on new connections, each tallied client-side as the server
    must count it: by route pattern (or "(none)") and status."""

    def __init__(self, server):
        self.s = server
        self.expected = collections.Counter()

    def get(self, path, route, method="GET"):
        with Conn(self.s.port) as c:
            c.send(build_request(method, path))
            r = c.read_response()
        label = route if r.status < 400 else NONE
        self.expected[(label, str(r.status))] += 1
        return r

    def scrape(self):
        r = self.get("/metrics", SCRAPE)
        eq(r.status, 200, "scrape status")
        eq(r.header("Content-Type"), CONTENT_TYPE)
        return r.text, parse(r.text)

    def check_totals(self, samples, what=""):
        """requests_total must equal the tally exactly (the scrape that
        produced samples is not counted in them yet)."""
        got = {(lb["route"], lb["code"]): v for n, lb, v in samples
               if n == "yhttpd_requests_total"}
        want = dict(self.expected)
        want[(SCRAPE, "200")] -= 1
        want = {k: v for k, v in want.items() if v}
        eq(got, want, "yhttpd_requests_total " + what)


def values(samples, name, **labels):
    return [v for n, lb, v in samples
            if n == name and all(lb.get(k) == w for k, w in labels.items())]


def value(samples, name, **labels):
    found = values(samples, name, **labels)
    eq(len(found), 1, "samples of %s%r" % (name, labels))
    return found[0]


def check_histograms(samples):
    """Per route: cumulative, monotone buckets ending in +Inf == _count ==
    the route's requests_total summed over codes."""
    routes = {lb["route"] for n, lb, _ in samples if n == "yhttpd_requests_total"}
    for route in routes:
        buckets = [(lb["le"], v) for n, lb, v in samples
                   if n == "yhttpd_request_duration_seconds_bucket" and lb["route"] == route]
        eq(buckets[-1][0], "+Inf", "last bucket of %s" % route)
        les = [float(le) for le, _ in buckets]
        check(les == sorted(les) and len(set(les)) == len(les), "bucket bounds %r" % les)
        counts = [v for _, v in buckets]
        check(counts == sorted(counts), "buckets of %s not cumulative: %r" % (route, counts))
        count = value(samples, "yhttpd_request_duration_seconds_count", route=route)
        total = sum(values(samples, "yhttpd_requests_total", route=route))
        eq(counts[-1], count, "+Inf bucket vs _count of %s" % route)
        eq(count, total, "_count vs requests_total of %s" % route)
        check(value(samples, "yhttpd_request_duration_seconds_sum", route=route) >= 0, "sum")



def wait_workers(s, n):
    check(wait_for(lambda: len(children(s.pid)) == n, 3), "expected %d workers" % n)
    return children(s.pid)


def request_mix(cl):
    for _ in range(3):
        eq(cl.get("/hello/a", HELLO).status, 200)
    for _ in range(2):
        eq(cl.get("/hello/b", HELLO).status, 200)
    eq(cl.get("/nope", None).status, 404)
    eq(cl.get("/hello/a", HELLO, method="POST").status, 405)


def reload_and_wait(s, cl, config, path, route):
    """Reloads and waits until new connections see path answered (200)."""
    s.write_config(config)
    s.signal(signal.SIGHUP)
    check(wait_for(lambda: all(cl.get(path, route).status == 200 for _ in range(6)), 5),
          "reload not applied")


# ------------------------------------------------------------------ tests

def test_counts_summed_over_two_workers():
    with Server("workers: 2\n" + ROUTES) as s:
        wait_workers(s, 2)
        cl = Client(s)
        text, samples = cl.scrape()
        eq(values(samples, "yhttpd_requests_total"), [], "counts before any request")
        request_mix(cl)
        # many short connections: SO_REUSEPORT spreads them over both workers
        for i in range(20):
            eq(cl.get("/hello/x%d" % i, HELLO).status, 200)
        eq(cl.get("/q%22x%5Cy", 'GET /q"x\\y').status, 200)
        text, samples = cl.scrape()
        cl.check_totals(samples)
        eq(value(samples, "yhttpd_requests_total", route=HELLO, code="200"), 25)
        eq(value(samples, "yhttpd_requests_total", route=NONE, code="404"), 1)
        eq(value(samples, "yhttpd_requests_total", route=NONE, code="405"), 1)
        eq(value(samples, "yhttpd_requests_total", route=SCRAPE, code="200"), 1)
        check('route="GET /q\\"x\\\\y"' in text, "quote and backslash not escaped:\n" + text)
        check_histograms(samples)
        eq(value(samples, "yhttpd_request_duration_seconds_count", route=HELLO), 25)
        for raw in ("/hello/a", "/hello/b", "/nope", "/hello/x1"):
            check(raw not in text, "raw URL %s used as a label:\n%s" % (raw, text))
        conns = {lb["worker"]: v for n, lb, v in samples if n == "yhttpd_connections"}
        eq(sorted(conns), ["0", "1"], "connection gauges by worker")
        check(sum(conns.values()) >= 1, "the scrape's own connection is not counted")
        eq(value(samples, "yhttpd_reloads_total", result="ok"), 0)
        eq(value(samples, "yhttpd_reloads_total", result="failed"), 0)
        eq(value(samples, "yhttpd_worker_restarts_total"), 0)


def test_connections_gauge_sees_open_connections():
    with Server("workers: 2\n" + ROUTES) as s:
        wait_workers(s, 2)
        cl = Client(s)
        held = [Conn(s.port) for _ in range(6)]
        try:
            for c in held:  # accepted and served: the connection is open in a worker
                c.send(build_request("GET", "/old"))
                eq(c.read_response().status, 200)
                cl.expected[("GET /old", "200")] += 1
            _, samples = cl.scrape()
            total = sum(values(samples, "yhttpd_connections"))
            check(total >= 7, "6 held connections and the scrape's, gauges say %r" % total)
        finally:
            for c in held:
                c.close()

        def settled():
            _, smp = cl.scrape()
            return sum(values(smp, "yhttpd_connections")) == 1
        check(wait_for(settled, 3, step=0.05), "closed connections still counted")


def test_reload_keeps_counters_and_counts_new_routes():
    with Server("workers: 2\n" + ROUTES) as s:
        wait_workers(s, 2)
        cl = Client(s)
        request_mix(cl)
        for _ in range(4):
            eq(cl.get("/old", "GET /old").status, 200)
        eq(cl.get("/new", None).status, 404)
        _, before = cl.scrape()
        cl.check_totals(before, "before the reload")

        reload_and_wait(s, cl, "workers: 2\n" + RELOADED, "/new", "GET /new")
        eq(cl.get("/old", None).status, 404)  # removed: now counted as (none)
        _, after = cl.scrape()
        cl.check_totals(after, "after the reload")
        eq(value(after, "yhttpd_requests_total", route="GET /old", code="200"), 4)
        check(value(after, "yhttpd_requests_total", route="GET /new", code="200") >= 6,
              "new route not counted")
        eq(value(after, "yhttpd_reloads_total", result="ok"), 1)
        eq(value(after, "yhttpd_reloads_total", result="failed"), 0)
        check_histograms(after)

        # a broken file: counted as failed, the running routes keep serving
        s.write_raw_config(s.render("workers: 2\n" + RELOADED) + "   bad: : x\n")
        s.signal(signal.SIGHUP)
        check(wait_for(lambda: "reload failed" in s.stderr_text(), 3), "no failed reload logged")
        for _ in range(3):
            eq(cl.get("/new", "GET /new").status, 200)
        _, failed = cl.scrape()
        cl.check_totals(failed, "after the failed reload")
        eq(value(failed, "yhttpd_reloads_total", result="ok"), 1)
        eq(value(failed, "yhttpd_reloads_total", result="failed"), 1)
        eq(value(failed, "yhttpd_worker_restarts_total"), 0)


def test_kill9_worker_counters_never_go_backwards():
    with Server("workers: 2\n" + ROUTES) as s:
        kids = wait_workers(s, 2)
        cl = Client(s)
        request_mix(cl)
        for i in range(20):
            eq(cl.get("/hello/k%d" % i, HELLO).status, 200)
        _, before = cl.scrape()
        cl.check_totals(before, "before the kill")
        victim = min(kids)
        os.kill(victim, signal.SIGKILL)
        check(wait_for(lambda: len(children(s.pid)) == 2 and victim not in children(s.pid), 3),
              "worker %d not respawned" % victim)
        _, after = cl.scrape()
        cl.check_totals(after, "after the kill")  # the dead worker's counts are all there
        eq(value(after, "yhttpd_worker_restarts_total"), 1)
        old = {(n, tuple(sorted(lb.items()))): v for n, lb, v in before}
        for n, lb, v in after:
            key = (n, tuple(sorted(lb.items())))
            if key in old and n != "yhttpd_connections":
                check(v >= old[key], "%s%r went backwards: %r -> %r" % (n, lb, old[key], v))
        # the new worker goes on counting in its predecessor's slot
        for i in range(20):
            eq(cl.get("/hello/n%d" % i, HELLO).status, 200)
        _, later = cl.scrape()
        cl.check_totals(later, "after more requests")
        eq(value(later, "yhttpd_requests_total", route=HELLO, code="200"), 45)
        check_histograms(later)


def test_single_process_counts_and_reloads():
    with Server(ROUTES) as s:  # workers: 0
        cl = Client(s)
        request_mix(cl)
        text, samples = cl.scrape()
        cl.check_totals(samples)
        eq([lb["worker"] for n, lb, _ in samples if n == "yhttpd_connections"], ["0"])
        eq(value(samples, "yhttpd_connections", worker="0"), 1)  # the scrape's own
        reload_and_wait(s, cl, RELOADED, "/new", "GET /new")
        s.write_raw_config("routes: [\n")
        s.signal(signal.SIGHUP)
        check(wait_for(lambda: "reload failed" in s.stderr_text(), 3), "no failed reload logged")
        eq(cl.get("/new", "GET /new").status, 200)
        _, samples = cl.scrape()
        cl.check_totals(samples)
        eq(value(samples, "yhttpd_reloads_total", result="ok"), 1)
        eq(value(samples, "yhttpd_reloads_total", result="failed"), 1)
        r = s.request("HEAD", "/metrics")
        eq((r.status, r.header("Content-Type")), (200, CONTENT_TYPE))


def test_config_must_be_empty_mapping():
    for value_text in ("{a: 1}", "[]", "yes"):
        s = Server("routes:\n  - GET /m: {metrics: %s}\n" % value_text, start=False)
        p = yhttpd_run(["-t", "-c", s.config_path])
        err = p.stderr.decode()
        eq(p.returncode, 1, "yhttpd -t on metrics: %s" % value_text)
        lines = open(s.config_path).read().splitlines()
        line_no = next(i for i, ln in enumerate(lines, 1) if "metrics" in ln)
        col = lines[line_no - 1].index(value_text) + 1
        check("%s:%d:%d: metrics: takes no options; write `metrics: {}`"
              % (s.config_path, line_no, col) in err, "error for %s:\n%s" % (value_text, err))
        s.remove()


if __name__ == "__main__":
    run(globals(), tools=())

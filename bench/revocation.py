#!/usr/bin/env python3
"""How long a session revoked on one Latchkey node stays usable on another (bench/load.sh).

Two nodes share one PostgreSQL database. Each trial logs in on node A (a new session and its
access token), calls GET /api/auth/me/ on node B until it answers 200 (so B has seen, and may have
cached, the session), logs out on A with that access token, then polls B's /api/auth/me/ with the
same token as fast as one connection allows until it answers 401. The figure is the time from
the logout's answer to that first 401. Prints one line (stale: the trials in which B still
accepted the revoked token at least once):

    revocation trials=N max_ms=… p50_ms=… p99_ms=… bound_ms=1000 within=K/N stale=S

    bench/revocation.py --a http://127.0.0.1:18001 --b http://127.0.0.1:18002 \
        --email bench@example.com --password … [--trials 100] [--bound-ms 1000]

Standard library only; one persistent HTTP/1.1 connection per node.
"""

import argparse
import http.client
import json
import sys
import time
import urllib.parse


class Node:
    """A persistent connection to one node, reopened if the server closes it."""

    def __init__(self, base):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port or 80
        self.conn = None

    def request(self, method, path, body=None, token=None):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, payload
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def percentile(sorted_values, p):
    """The nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def trial(a, b, email, password, timeout_s):
    """One revocation: the milliseconds from the logout's answer to B's first 401 (None: timed out),
    and how many times B accepted the revoked token before."""
    status, payload = a.request("POST", "/api/token/", {"email": email, "password": password})
    if status != 200:
        sys.exit(f"revocation: login on A answered {status}: {payload[:200]!r}")
    access = json.loads(payload)["access"]
    deadline = time.monotonic() + timeout_s
    while b.request("GET", "/api/auth/me/", token=access)[0] != 200:
        if time.monotonic() > deadline:
            sys.exit("revocation: node B never accepted the new session")
    status, payload = a.request("POST", "/api/auth/logout/", {}, token=access)
    if status != 200:
        sys.exit(f"revocation: logout on A answered {status}: {payload[:200]!r}")
    revoked_at = time.monotonic()
    accepted = 0
    while True:
        status, _ = b.request("GET", "/api/auth/me/", token=access)
        now = time.monotonic()
        if status == 401:
            return (now - revoked_at) * 1e3, accepted
        if status != 200:
            sys.exit(f"revocation: node B answered {status} to a revoked session")
        accepted += 1
        if now - revoked_at > timeout_s:
            return None, accepted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a", required=True, help="node A's base URL (login and logout)")
    parser.add_argument("--b", required=True, help="node B's base URL (polled)")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--bound-ms", type=float, default=1000)
    parser.add_argument("--timeout-s", type=float, default=10, help="give up on one trial after this")
    args = parser.parse_args()

    a, b = Node(args.a), Node(args.b)
    times, stale = [], 0
    for _ in range(args.trials):
        ms, accepted = trial(a, b, args.email, args.password, args.timeout_s)
        times.append(ms if ms is not None else float("inf"))
        stale += accepted > 0
    times.sort()
    within = sum(1 for ms in times if ms <= args.bound_ms)
    print(
        f"revocation trials={len(times)} max_ms={times[-1]:.1f} p50_ms={percentile(times, 50):.1f} "
        f"p99_ms={percentile(times, 99):.1f} bound_ms={args.bound_ms:.0f} within={within}/{len(times)} stale={stale}"
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The attack client of bench/abuse.sh (Python 3.11, standard library only).

    abuse.py attacks --url URL --db DB --log LOG --label LABEL   scenarios 1-3 against one running server
    abuse.py wrk --label L --endpoint E --server-pid PID -- wrk …   one run of scenario 4
    abuse.py throughput FILE                                     scenario 4 from those runs' lines
    abuse.py table FILE                                          the one table, from the rows above

Every scenario prints one JSON row per figure ({"label", "id", "scenario", "figure", "bound", "verdict",
"detail"}) on stdout; abuse.sh collects them and `table` prints them. Progress goes to stderr.

The server must trust 127.0.0.1 as a proxy (LATCHKEY_TRUSTED_PROXIES): every request names its client
in X-Forwarded-For, so one machine can act as many addresses and per-IP limits do not hide the cost.
"""

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import string
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

# Scenario 4 (throughput) and the table, in their own file; `row` prints every figure.
from abuse_report import row, run_wrk, table, throughput

PASSWORD = "Abuse-Passw0rd-2024!"
# The per-account lockout threshold the server runs with: the bound of scenario 3.
LOCKOUT_ATTEMPTS = int(os.environ.get("LATCHKEY_LOCKOUT_ATTEMPTS", "5"))
STORAGE_BOUND = 2048  # bytes per hostile request
VICTIM_DEADLINE = 2.0  # seconds a victim's login may take and still count
VICTIM_SHARE_BOUND = 0.90


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def address(scenario, i):
    """The i-th client address of a scenario: 10.<scenario>.x.y, distinct for i < 65,000."""
    return f"10.{scenario}.{i // 250}.{i % 250 + 1}"


def counts(statuses):
    """`400×300 429×2`: how many answers of each status (0: no answer, the connection failed)."""
    return " ".join(f"{status}×{n}" for status, n in sorted(Counter(statuses).items()))


# --- A minimal HTTP/1.1 client -------------------------------------------------------------------
# Hand-rolled on asyncio streams rather than urllib: keep-alive connections, exact control of the bytes
# sent (raw UTF-8 JSON bodies, just under the server's 64 KiB limit), and little client CPU on a machine
# whose two cores the server needs too.

class Conn:
    """One keep-alive connection; `request` reconnects once when the server has closed it."""

    def __init__(self, url, client_ip=None):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.client_ip = client_ip
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    def close(self):
        if self.writer:
            self.writer.close()
            self.writer = None

    async def request(self, method, path, body=None, token=None, client_ip=None):
        """Returns (status, parsed JSON body or None); status 0 when no answer came at all."""
        data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                "Content-Type: application/json", f"Content-Length: {len(data)}"]
        ip = client_ip or self.client_ip
        if ip:
            head.append(f"X-Forwarded-For: {ip}")
        if token:
            head.append(f"Authorization: Bearer {token}")
        message = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        for attempt in range(2):
            try:
                if self.writer is None:
                    await self.open()
                self.writer.write(message)
                await self.writer.drain()
                return await self._response()
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
        return 0, None

    async def _response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                body += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            body = await self.reader.read()
        if headers.get("connection", "").lower() == "close":
            self.close()
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, None


async def call(url, method, path, body=None, token=None, client_ip=None):
    """One request on a connection of its own."""
    conn = Conn(url, client_ip)
    try:
        return await conn.request(method, path, body, token)
    finally:
        conn.close()


async def register(url, email, client_ip):
    """A new account; returns its access token."""
    body = {"email": email, "password": PASSWORD, "password_confirm": PASSWORD}
    status, answer = await call(url, "POST", "/api/auth/register/", body, client_ip=client_ip)
    if status != 201:
        raise SystemExit(f"registering {email} failed: {status} {answer}")
    return answer["tokens"]["access"]


async def pool(url, jobs, workers, client_ip=None):
    """Runs `jobs` (callables conn -> awaitable status) on `workers` keep-alive connections; the statuses."""
    queue = list(reversed(jobs))
    statuses = []

    async def worker():
        conn = Conn(url, client_ip)
        while queue:
            statuses.append(await queue.pop()(conn))
        conn.close()

    await asyncio.gather(*(worker() for _ in range(workers)))
    return statuses


async def until_answered(conn, method, path, body, client_ip, retries):
    """An attacker's request, sent again while the server answers 503 (its hashing gate, or the share
    of it one account or address may hold, is full), as an attacker would; the final status.
    `retries` counts the resends."""
    deadline = time.monotonic() + 60
    while True:
        status, _ = await conn.request(method, path, body, client_ip=client_ip)
        if status != 503 or time.monotonic() > deadline:
            return status
        retries.append(1)
        await asyncio.sleep(0.01)


# --- Scenario 1: storage per hostile request -----------------------------------------------------

def sizes(db, log_path):
    """Bytes on disk: (db + -wal + -shm, the db file alone, the log)."""
    def size(path):
        try:
            return os.path.getsize(path)
        except FileNotFoundError:
            return 0
    files = size(db) + size(db + "-wal") + size(db + "-shm")
    return files, size(db), size(log_path)


def checkpoint(db):
    """Moves the WAL into the database file and truncates it, beside the running server (a second
    connection may do that in WAL mode). Needed because the WAL is a recycled buffer: after the
    burst its size says how many page images were written since the last checkpoint (about 4 KiB for
    every page a transaction touched, capped near 4 MiB by auto-checkpoints), not what is kept."""
    con = sqlite3.connect(db, timeout=30)
    try:
        for _ in range(50):
            busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return
            time.sleep(0.1)
        log("warning: the checkpoint stayed busy")
    finally:
        con.close()


def hostile(kind, i, length):
    """The i-th distinct hostile login name of a kind, `length` characters long."""
    tag = f"{i:06d}"
    if kind == "fdfa":
        # U+FDFA is 3 bytes of UTF-8 and 18 characters (33 bytes) after NFKC: 11x.
        return "\ufdfa" * (length - len(tag)) + tag
    # Random ASCII shaped like a valid address (64-character local part, labels of at most 63), so a
    # server that checks the syntax of e-mail addresses still has to take it.
    rng = random.Random(i)
    letters = string.ascii_lowercase + string.digits
    local = tag + "".join(rng.choice(letters) for _ in range(64 - len(tag)))
    domain, rest = [], length - 65 - 4  # "@" and ".com"
    while rest > 0:
        label = min(63, rest)
        if rest - label == 1:
            label -= 2  # never leave a dot with nothing after it
        domain.append("".join(rng.choice(letters) for _ in range(label)))
        rest -= label + 1
    return local + "@" + ".".join(domain) + ".com"


async def measured(label, id_, scenario, db, log_path, n, burst, note=""):
    """Runs `burst` (returns the statuses) between two measurements and prints its row. The figure
    is what stays: database file growth after a checkpoint, plus log growth, per request. What the
    files took right after the burst (the WAL included) is in the detail."""
    checkpoint(db)
    files0, db0, log0 = sizes(db, log_path)
    started = time.monotonic()
    statuses = await burst()
    seconds = time.monotonic() - started
    await asyncio.sleep(0.5)  # lets the server finish writing its log lines
    files1, _, log1 = sizes(db, log_path)
    checkpoint(db)
    _, db2, _ = sizes(db, log_path)
    kept = (db2 - db0 + log1 - log0) / n
    detail = (f"{note}{counts(statuses)} in {seconds:.1f} s; per request: db {(db2 - db0) / n:.0f} B after checkpoint, "
              f"log {(log1 - log0) / n:.0f} B; right after the burst db+wal+shm {(files1 - files0) / n:.0f} B")
    row(label, id_, scenario, f"{kept:.0f} B/req", f"≤ {STORAGE_BOUND} B/req", kept <= STORAGE_BOUND, detail)


async def storage(args):
    n = args.n
    # Fewer connections than the hashing gate admits (a worker per core and a queue four times that),
    # so 503s do not hide the cost; each request has its own name and address, so no share is hit.
    workers = 8
    base = 0

    def login_as(name, client_ip):
        body = {"email": name, "password": "Wrong-Passw0rd-2024!"}

        async def job(conn):
            status, _ = await conn.request("POST", "/api/token/", body, client_ip=client_ip)
            if status == 503:  # retried like an attacker would, so the request does its work
                await asyncio.sleep(0.05)
                status, _ = await conn.request("POST", "/api/token/", body, client_ip=client_ip)
            return status
        return job

    for id_, kind, length, what in [
        ("1a", "fdfa", 21700, "65 KB name U+FDFA×21700 (refused 400 before any work)"),
        ("1b", "fdfa", 254, "254×U+FDFA name (longest allowed, 11x under NFKC)"),
        ("1c", "ascii", 254, "random 254-char ASCII names"),
    ]:
        log(f"  {id_}: {n} × {what}")
        jobs = [login_as(hostile(kind, i, length), address(1, base + i)) for i in range(n)]
        base += n
        await measured(args.label, id_, f"1 storage: {what}", args.db, args.log, n,
                       lambda jobs=jobs: pool(args.url, jobs, workers))

    # 1d: one account name locked out, then hit again and again, each time from a new address: the
    # refusals themselves must not cost storage. The name is the costliest allowed one, as in 1b.
    name = hostile("fdfa", 999_999, 254)
    locking = 0
    for _ in range(LOCKOUT_ATTEMPTS + 10):
        status, _ = await call(args.url, "POST", "/api/token/", {"email": name, "password": "nope-nope"},
                               client_ip=address(1, base + locking))
        locking += 1
        if status == 429:
            break
    base += locking
    locked = f"locked out after {locking - 1} failures" if status == 429 else f"NOT locked out by {locking} failures"
    log(f"  1d: {n} logins at one name, {locked}")
    jobs = [login_as(name, address(1, base + i)) for i in range(n)]
    await measured(args.label, "1d", "1 storage: refusals during a lockout", args.db, args.log, n,
                   lambda: pool(args.url, jobs, workers), note=f"the name {locked}; ")


# --- Scenario 2: re-authentication flood -----------------------------------------------------------

async def flood(args):
    """The attacker, in a process of its own so its work does not delay the victims' client: `workers`
    connections sending wrong-old-password changes back to back until stdin closes. Prints its counts."""
    token, stop, statuses = args.token, asyncio.Event(), []

    async def watch_stdin():
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        stop.set()

    async def attacker(k):
        conn = Conn(args.url, args.ip)
        i = 0
        while not stop.is_set():
            i += 1
            body = {"old_password": f"guess-{k}-{i}", "new_password": f"Fresh-Passw0rd-{k}-{i}!"}
            status, _ = await conn.request("POST", "/api/auth/password/change/", body, token)
            statuses.append(status)
            if status == 0:
                await asyncio.sleep(0.01)
        conn.close()

    watcher = asyncio.ensure_future(watch_stdin())
    started = time.monotonic()
    print("started", flush=True)
    tasks = [asyncio.ensure_future(attacker(k)) for k in range(args.workers)]
    await asyncio.wait([watcher], timeout=args.max_seconds)
    stop.set()
    await asyncio.gather(*tasks)
    print(json.dumps({"statuses": dict(Counter(statuses)), "seconds": time.monotonic() - started}), flush=True)
    os._exit(0)  # the stdin reader thread may still be blocked


async def reauth(args):
    victims = [f"victim{i}@example.com" for i in range(10)]
    for i, email in enumerate(victims):
        await register(args.url, email, address(2, 100 + i))
    token = await register(args.url, "attacker@example.com", address(2, 200))
    seconds = args.flood_seconds
    log(f"  2: 48 connections changing the attacker's password with wrong old passwords for {seconds:.0f} s; "
        "10 victims log in meanwhile")
    attacker = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "flood", "--url", args.url, "--token", token, "--ip", address(2, 1),
        "--workers", "48", "--max-seconds", str(seconds + 30),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    await attacker.stdout.readline()  # "started"
    await asyncio.sleep(0.5)  # the flood is under way

    async def victim(i, email):
        # Staggered over the flood: the i-th victim comes i/10 of the way through it.
        await asyncio.sleep(i * (seconds - 1.0) / len(victims))
        started = time.monotonic()
        try:
            status, _ = await asyncio.wait_for(
                call(args.url, "POST", "/api/token/", {"email": email, "password": PASSWORD},
                     client_ip=address(2, 10 + i)), timeout=30)
        except asyncio.TimeoutError:
            status = 0
        return status, time.monotonic() - started

    results = await asyncio.gather(*(victim(i, email) for i, email in enumerate(victims)))
    attacker.stdin.close()
    out, _ = await attacker.communicate()
    flood_stats = json.loads(out.decode().strip().splitlines()[-1])
    ok = sum(1 for status, took in results if status == 200 and took <= VICTIM_DEADLINE)
    share = ok / len(victims)
    sent = sum(flood_stats["statuses"].values())
    took = [t for _, t in results]
    detail = (f"victims: {counts([s for s, _ in results])}, latency median {statistics.median(took):.2f} s, "
              f"max {max(took):.2f} s; attacker: {sent} requests ({sent / flood_stats['seconds']:.0f}/s) "
              f"{' '.join(f'{k}×{v}' for k, v in sorted(flood_stats['statuses'].items()))}")
    row(args.label, "2", "2 re-auth flood: victim logins 200 within 2 s", f"{ok}/{len(victims)} = {share * 100:.0f} %",
        f"≥ {VICTIM_SHARE_BOUND * 100:.0f} %", share >= VICTIM_SHARE_BOUND, detail)


# --- Scenario 3: parallel guesses ------------------------------------------------------------------

async def guesses(args):
    email = "guessed@example.com"
    await register(args.url, email, address(3, 200))
    parallel = 100
    log(f"  3: {parallel} parallel wrong passwords at one account from {parallel} addresses")
    # Connect first, then send every guess at once: they race the lockout as closely as one client can.
    conns = [await Conn(args.url, address(3, i)).open() for i in range(parallel)]
    retries = []
    statuses = await asyncio.gather(*(
        until_answered(conn, "POST", "/api/token/", {"email": email, "password": f"Wrong-Passw0rd-{i}!"},
                       None, retries)
        for i, conn in enumerate(conns)))
    for conn in conns:
        conn.close()
    evaluated = statuses.count(401)  # 401: a wrong password was hashed; 429: refused before hashing
    detail = f"{counts(statuses)} (401 = password evaluated, 429 = refused first); 503s resent: {len(retries)}"
    row(args.label, "3", "3 parallel guesses: passwords evaluated", f"{evaluated} of {parallel}",
        f"≤ {LOCKOUT_ATTEMPTS}", evaluated <= LOCKOUT_ATTEMPTS and 200 not in statuses, detail)


async def attacks(args):
    await storage(args)
    await reauth(args)
    await guesses(args)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("attacks", help="scenarios 1-3 against a running server")
    p.add_argument("--url", required=True)
    p.add_argument("--db", required=True, help="the server's SQLite file")
    p.add_argument("--log", required=True, help="the file the server's stdout and stderr go to")
    p.add_argument("--label", default="current")
    p.add_argument("--n", type=int, default=300, help="hostile requests per storage case")
    p.add_argument("--flood-seconds", type=float, default=10)
    p = sub.add_parser("flood", help="(internal) the attacker of scenario 2")
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--ip", required=True)
    p.add_argument("--workers", type=int, default=48)
    p.add_argument("--max-seconds", type=float, default=60)
    p = sub.add_parser("wrk", help="one wrk run, with the CPU other processes took meanwhile")
    p.add_argument("--label", required=True)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--server-pid", required=True)
    p.add_argument("wrk", nargs=argparse.REMAINDER, help="-- wrk ...")
    p = sub.add_parser("throughput", help="scenario 4's rows from wrk's results")
    p.add_argument("file")
    p = sub.add_parser("table", help="print the table")
    p.add_argument("file")
    args = parser.parse_args()
    if args.command == "attacks":
        asyncio.run(attacks(args))
    elif args.command == "flood":
        asyncio.run(flood(args))
    elif args.command == "wrk":
        run_wrk(args)
    elif args.command == "throughput":
        throughput(args)
    else:
        table(args)


if __name__ == "__main__":
    main()

"""Scenario 4 of bench/abuse.sh (the throughput cost of the hardening, from wrk runs) and the one table
of every scenario's rows; used by abuse.py (Python 3.11, standard library only)."""

import json
import os
import resource
import statistics
import subprocess
from collections import Counter

COST_BOUND = 5.0  # % of throughput
QUIET = 10.0  # % of the CPU other processes may take during the throughput runs for figures to be trusted


def row(label, id_, scenario, figure, bound, ok, detail, noisy=False):
    verdict = ("PASS" if ok else "FAIL") + ("*" if noisy else "")
    print(json.dumps({"label": label, "id": id_, "scenario": scenario, "figure": figure, "bound": bound,
                      "verdict": verdict, "detail": detail}, ensure_ascii=False), flush=True)


def run_wrk(args):
    """Runs one wrk command and prints `LABEL ENDPOINT rps=… others=…`: wrk's RESULT line, plus the
    share of the machine's CPU that processes other than the server and wrk took meanwhile (others
    build and test on this machine too, and that shows in the figures)."""
    def machine():
        values = [int(v) for v in open("/proc/stat").readline().split()[1:9]]
        return sum(values) - values[3] - values[4], sum(values)  # busy (all but idle, iowait), total

    def server():
        fields = open(f"/proc/{args.server_pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks

    def children():
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (usage.ru_utime + usage.ru_stime) * os.sysconf("SC_CLK_TCK")

    (busy0, total0), server0, wrk0 = machine(), server(), children()
    command = args.wrk[1:] if args.wrk[:1] == ["--"] else args.wrk
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    (busy1, total1), server1, wrk1 = machine(), server(), children()
    others = max(0.0, busy1 - busy0 - (server1 - server0) - (wrk1 - wrk0)) / max(1, total1 - total0)
    result = next(line for line in out.splitlines() if line.startswith("RESULT "))
    print(f"{args.label} {args.endpoint} {result[len('RESULT '):]} others={others * 100:.0f}", flush=True)


def throughput(args):
    """Reads `LABEL ENDPOINT rps=… …` lines (every run of wrk) and prints the cost of each endpoint:
    how much slower the current build is than the baseline. Their best runs are compared: others'
    work on the machine only ever takes throughput away, so the best run is the least disturbed one.
    The cost between the means is in the detail."""
    runs, errors, others = {}, Counter(), {}
    for line in open(args.file):
        label, endpoint, *pairs = line.split()
        values = dict(pair.split("=") for pair in pairs)
        runs.setdefault(endpoint, {}).setdefault(label, []).append(float(values["rps"]))
        # Answers other than 2xx are quick refusals, not the work measured: they make a figure void.
        errors[endpoint, label] += int(values["non2xx"]) + int(values["socket_errors"])
        others.setdefault(endpoint, []).append(float(values["others"]))
    for endpoint, by_label in runs.items():
        base, current = by_label.get("base", []), by_label.get("current", [])
        if not base or not current:
            continue
        b, c = max(base), max(current)
        cost = (b - c) / b * 100
        mean_cost = (statistics.mean(base) - statistics.mean(current)) / statistics.mean(base) * 100
        # How far apart runs of one and the same build are: differences below that are noise.
        spread = max((max(runs) / min(runs) - 1) * 100 for runs in (base, current))
        detail = (f"best of {len(base)} runs: baseline {b:.0f} rps (runs {', '.join(f'{x:.0f}' for x in base)}), "
                  f"current {c:.0f} rps (runs {', '.join(f'{x:.0f}' for x in current)}); cost between the means "
                  f"{mean_cost:+.1f} %; runs of one build differ by up to {spread:.0f} %; other processes took "
                  f"{statistics.mean(others[endpoint]):.0f} % of the CPU on average (up to {max(others[endpoint]):.0f} %)")
        failed = {label: errors[endpoint, label] for label in ("base", "current") if errors[endpoint, label]}
        if failed:
            detail += f"; VOID, non-2xx answers or socket errors: {failed}"
        what = {"me": "GET /api/auth/me/", "login": "POST /api/token/ (correct login)"}.get(endpoint, endpoint)
        row("current", f"4{endpoint}", f"4 throughput cost: {what}", f"{cost:+.1f} % ({c:.0f} rps)",
            f"< {COST_BOUND:.0f} %", cost < COST_BOUND and not failed, detail,
            noisy=statistics.mean(others[endpoint]) >= QUIET)
        row("base", f"4{endpoint}", "", f"{b:.0f} rps", "", True, "")


def table(args):
    rows = [json.loads(line) for line in open(args.file) if line.strip()]
    current = [r for r in rows if r["label"] == "current"]
    base = {r["id"]: r for r in rows if r["label"] == "base"}
    header = ("scenario", "figure", "bound", "result", "baseline figure")
    lines = [(r["scenario"], r["figure"], r["bound"], r["verdict"], base[r["id"]]["figure"] if r["id"] in base else "")
             for r in current]
    widths = [max(len(str(line[k])) for line in [header, *lines]) for k in range(len(header))]
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for line in lines:
        print(fmt.format(*line).rstrip())
    print("\ndetails (current build):")
    for r in current:
        print(f"  {r['id']:7} {r['detail']}")
    base_details = [r for r in rows if r["label"] == "base" and r["detail"]]
    if base_details:
        print("details (baseline build):")
        for r in base_details:
            print(f"  {r['id']:7} {r['detail']}")
    failed = sum(r["verdict"].startswith("FAIL") for r in current)
    print(f"\n{len(current) - failed} PASS, {failed} FAIL" + ("   <== FAIL: a bound is not met" if failed else ""))
    if any(r["verdict"].endswith("*") for r in current):
        print(f"* other processes took {QUIET:.0f} % or more of the CPU during these runs: the throughput figures "
              "are not reliable; run again on a quiet machine")



"""How fast the HTTP service answers: requests per second, latency, and the memory it takes.

A script, not a test (nothing here asserts on timing). Run from the checkout::

    .venv/bin/python benchmarks/bench_service.py                  # text report
    .venv/bin/python benchmarks/bench_service.py --json           # machine-readable
    .venv/bin/python benchmarks/bench_service.py --workers 2 --threads 16 --duration 20

For each number of workers (default 1, then 2) it starts ``kzmig serve`` (through
:func:`rules.service.cli.serve`) in a subprocess on a free local port, waits for ``GET
/v1/health``, warms up, then drives ``POST /v1/check`` from ``--threads`` client threads, each
with its own ``httpx.Client`` (keep-alive), for ``--duration`` seconds or, with ``--requests``,
until that many requests are answered. The persons are the README's examples (a driver with an
exemption, an overstay, a refusal at the border, a residence applicant, a kandas family, raw
crossings) and the population of ``examples/persons/population-2026.jsonl``, each on its date,
sent in turn.

It reports requests per second, the latency of each request as the client sees it (p50, p90,
p99, max), the answers other than 200 and the transport errors, and the peak resident memory
(``VmHWM`` of ``/proc/<pid>/status``, Linux only) of the server's processes: the one started
and all its descendants (uvicorn's supervisor and workers with several workers).

The clients run in this process, under its GIL, on the same machine as the server: on a small
machine they take CPU from the server, so the figures are a floor, not the server's ceiling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

import rules
from rules.cli.records import read_records

ROOT = Path(__file__).resolve().parents[1]
PERSONS = ROOT / "examples" / "persons"

#: Each example person and the date the README shows it on.
EXAMPLES = {
    "driver-A-17.json": "2024-08-01",
    "overstay-B-2.yaml": "2024-05-20",
    "refused-RU-E2.yaml": "2025-04-01",
    "residence-RA-1.yaml": "2026-06-01",
    "kandas-KD-1.yaml": "2027-07-01",
    "crossings-RU-C1.json": "2024-06-01",
}
POPULATION = ("population-2026.jsonl", "2026-03-20")


def bodies() -> list[bytes]:
    """The request bodies, encoded once: a person and its date each."""
    found = []
    for name, on in [*EXAMPLES.items(), POPULATION]:
        for record in read_records(str(PERSONS / name)):
            if record.data is not None:
                person = json.loads(json.dumps(record.data, default=str))
                found.append(json.dumps({"person": person, "on": on}).encode())
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(workers: int, port: int) -> subprocess.Popen[bytes]:
    code = f"from rules.service.cli import serve; serve(host='127.0.0.1', port={port}, workers={workers})"
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def wait_until_up(server: subprocess.Popen[bytes], base: str, limit: float = 60.0) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped (exit {server.returncode})")
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return time.perf_counter() - began
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the server did not start")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (from ``/proc/*/stat``)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, its in parents.items() if its == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of ``pids`` so far (``/proc/<pid>/stat``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU time the whole machine spent busy so far, all cores (``/proc/stat``)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def drive(
    base: str, payloads: list[bytes], threads: int, duration: float, requests: int | None
) -> dict[str, Any]:
    """``threads`` clients sending ``POST /v1/check`` until the time or the count is up."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    statuses: list[dict[int, int]] = [{} for _ in range(threads)]
    failures = [0] * threads
    sent = [0]
    lock = threading.Lock()
    stop = threading.Event()
    go = threading.Barrier(threads + 1)

    def take() -> int | None:
        with lock:
            if requests is not None and sent[0] >= requests:
                return None
            sent[0] += 1
            return sent[0]

    def client(index: int) -> None:
        with httpx.Client(base_url=base, timeout=30, headers={"content-type": "application/json"}) as http:
            go.wait()
            while not stop.is_set():
                number = take()
                if number is None:
                    return
                body = payloads[(number + index) % len(payloads)]
                began = time.perf_counter()
                try:
                    response = http.post("/v1/check", content=body)
                    response.read()
                except httpx.HTTPError:
                    failures[index] += 1
                    continue
                latencies[index].append(time.perf_counter() - began)
                statuses[index][response.status_code] = statuses[index].get(response.status_code, 0) + 1

    pool = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(threads)]
    for thread in pool:
        thread.start()
    go.wait()
    began = time.perf_counter()
    if requests is None:
        time.sleep(duration)
        stop.set()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(latency for found in latencies for latency in found)
    counted: dict[int, int] = {}
    for found in statuses:
        for status, count in found.items():
            counted[status] = counted.get(status, 0) + count
    answered = len(every)
    return {
        "seconds": round(elapsed, 2),
        "requests": answered,
        "requests_per_second": round(answered / elapsed, 1) if elapsed else 0.0,
        "latency_ms": _percentiles(every),
        "statuses": {str(status): count for status, count in sorted(counted.items())},
        "errors": sum(count for status, count in counted.items() if status != 200) + sum(failures),
        "transport_errors": sum(failures),
    }


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None}

    def at(share: float) -> float:
        return round(values[min(len(values) - 1, int(share * len(values)))] * 1000, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(values[-1] * 1000, 2)}


def run(workers: int, args: argparse.Namespace, payloads: list[bytes]) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start(workers, port)
    try:
        startup = wait_until_up(server, base)
        # Warm up every worker: enough requests that each one has answered some of each person.
        drive(base, payloads, args.threads, args.warmup, None)
        pids = descendants(server.pid)
        server_before, client_before = cpu_seconds(pids), time.process_time()
        machine_before = machine_busy_seconds()
        result = drive(base, payloads, args.threads, args.duration, args.requests)
        server_cpu, client_cpu = cpu_seconds(pids) - server_before, time.process_time() - client_before
        machine_cpu = machine_busy_seconds() - machine_before
        processes = {pid: peak_rss_kib(pid) for pid in descendants(server.pid)}
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    known = [value for value in processes.values() if value is not None]
    return {
        "workers": workers,
        "threads": args.threads,
        "startup_seconds": round(startup, 2),
        **result,
        "cpu_cores_used": {
            "server": round(server_cpu / result["seconds"], 2),
            "clients": round(client_cpu / result["seconds"], 2),
            # Other work on the machine during the run, which skews every figure.
            "other": round(max(0.0, machine_cpu - server_cpu - client_cpu) / result["seconds"], 2),
        },
        "peak_rss_mib": {
            "processes": {
                str(pid): round(kib / 1024, 1) for pid, kib in processes.items() if kib is not None
            },
            "total": round(sum(known) / 1024, 1),
            "largest": round(max(known) / 1024, 1) if known else None,
        },
    }


def render(report: dict[str, Any]) -> str:
    lines = [
        f"kzmig {report['kzmig']} HTTP service, {report['python']} on {report['machine']} "
        f"({report['cpus']} CPUs), {report['persons']} distinct persons",
        f"POST /v1/check from {report['threads']} client threads (httpx, keep-alive), "
        + (f"{report['requests']} requests" if report["requests"] else f"{report['duration']} s")
        + f" after a {report['warmup']} s warm-up",
        "",
        f"{'workers':>7}  {'req/s':>8}  {'p50 ms':>7}  {'p90 ms':>7}  {'p99 ms':>7}  {'max ms':>7}  "
        f"{'requests':>8}  {'errors':>6}  {'CPU server+clients':>18}  peak RSS MiB (processes)",
    ]
    notes: list[str] = []
    for run_ in report["runs"]:
        latency = run_["latency_ms"]
        memory = run_["peak_rss_mib"]
        cpu = run_["cpu_cores_used"]
        each = ", ".join(f"{value}" for value in memory["processes"].values())
        if cpu["other"] >= 0.1:
            notes.append(f"{cpu['other']} cores busy with other work during the {run_['workers']}-worker run")
        lines.append(
            f"{run_['workers']:>7}  {run_['requests_per_second']:>8}  {latency['p50']:>7}  "
            f"{latency['p90']:>7}  {latency['p99']:>7}  {latency['max']:>7}  {run_['requests']:>8}  "
            f"{run_['errors']:>6}  {cpu['server']:>9} + {cpu['clients']:<6}  "
            f"{memory['total']} ({each})"
        )
    lines.append("")
    if notes:
        lines.append("Not measured alone: " + "; ".join(notes) + ".")
    lines.append(
        "Latency is the client's (request sent to answer read). Peak RSS is VmHWM of the server's "
        "processes: with several workers, uvicorn's supervisor, each worker, and multiprocessing's helper."
    )
    lines.append(
        "CPU is in cores busy over the run. The clients share the machine and this process's GIL: "
        "the figures are a floor."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="server worker counts to run")
    parser.add_argument("--threads", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to measure (per run)")
    parser.add_argument("--requests", type=int, default=None, help="measure this many requests instead")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up (per run)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    args = parser.parse_args(argv)
    payloads = bodies()
    report = {
        "kzmig": rules.__version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "date": dt.date.today().isoformat(),
        "persons": len(payloads),
        "threads": args.threads,
        "duration": args.duration,
        "requests": args.requests,
        "warmup": args.warmup,
        "runs": [run(workers, args, payloads) for workers in args.workers],
    }
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

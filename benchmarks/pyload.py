"""Python load generator for ``bench_tools_call.py --client python`` (no wrk).

Run as its own process so its CPU stays out of the servers' accounting (it
still competes for the machine's cores: wrk is lighter, prefer it)::

    python -m benchmarks.pyload URL --connections 4 --duration 5 [--session-id ID]

N threads, each with a keep-alive ``requests.Session``, post the same
``tools/call`` as ``tools_call.lua`` and check every answer. Prints the same
``BENCH {json}`` line as the wrk script (latencies in microseconds).
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import requests

from benchmarks.call import BODY
from benchmarks.call import EXPECTED
from benchmarks.call import HEADERS


def run(url: str, connections: int, duration: float, session_id: str | None) -> dict:
    headers = dict(HEADERS)
    if session_id:
        headers["Mcp-Session-Id"] = session_id
    latencies: list[list[float]] = [[] for _ in range(connections)]
    bad = [0] * connections
    errors = [0] * connections
    samples: list[str] = []
    start = time.perf_counter()
    deadline = start + duration

    def client(i: int) -> None:
        http = requests.Session()
        mine = latencies[i]
        while True:
            sent = time.perf_counter()
            if sent >= deadline:
                return
            try:
                response = http.post(url, data=BODY, headers=headers, timeout=30)
            except requests.RequestException as exc:
                errors[i] += 1
                samples.append(repr(exc)[:200])
                continue
            mine.append(time.perf_counter() - sent)
            if response.status_code != 200 or response.content != EXPECTED:
                bad[i] += 1
                samples.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    merged = sorted(x for per in latencies for x in per)

    def pct(q: float) -> int:
        if not merged:
            return 0
        return int(merged[min(len(merged) - 1, int(q / 100 * len(merged)))] * 1e6)

    return {
        "requests": len(merged),
        "duration_us": int(elapsed * 1e6),
        "bad": sum(bad),
        "errors": sum(errors),
        "p50_us": pct(50),
        "p90_us": pct(90),
        "p99_us": pct(99),
        "mean_us": sum(merged) / len(merged) * 1e6 if merged else 0.0,
        "max_us": int(merged[-1] * 1e6) if merged else 0,
        "bad_sample": samples[0] if samples else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--session-id")
    args = parser.parse_args()
    result = run(args.url, args.connections, args.duration, args.session_id)
    print("BENCH " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

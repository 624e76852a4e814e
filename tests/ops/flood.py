"""A flood of ``tools/call`` from one principal, in a process of its own
(so that its client work competes with the servers for the CPU, not with
the test's own client for its interpreter lock).

    python -m tests.ops.flood URL [URL...] --key mallory --threads 4
        --stop FILE --max N

Threads post ``echo`` round-robin over the URLs until FILE exists or N
requests were sent, then print one line: ``FLOOD {"status": {code: n},
"refused_by": [worker pids of the 429s], "bad": [...]}``.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import threading

import requests


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--key", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--stop", required=True)
    parser.add_argument("--max", type=int, default=20_000)
    args = parser.parse_args()
    status: collections.Counter[int] = collections.Counter()
    refused_by: set[str] = set()
    bad: list[str] = []
    lock = threading.Lock()
    counter = itertools.count()

    def flood() -> None:
        session = requests.Session()
        while not os.path.exists(args.stop):
            i = next(counter)
            if i >= args.max:
                return
            response = session.post(
                args.urls[i % len(args.urls)],
                json={
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": "x"}},
                },
                headers={
                    "Accept": "application/json, text/event-stream",
                    "X-Key": args.key,
                    "MCP-Protocol-Version": "2025-11-25",
                },
                timeout=60,
            )
            with lock:
                status[response.status_code] += 1
                if response.status_code == 429:
                    refused_by.add(response.headers["X-Worker-Pid"])
                    error = response.json()["error"]
                    retry = response.headers.get("Retry-After", "")
                    if error["code"] != -32029 or not retry.isdigit():
                        bad.append(response.text[:200])

    threads = [threading.Thread(target=flood) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = {"status": status, "refused_by": sorted(refused_by), "bad": bad[:5]}
    print("FLOOD " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

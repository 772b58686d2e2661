"""Resident memory of `vectorize-nb serve` while it takes one 99 MB NDJSON body (issue 12).

    python benchmarks/serve_memory.py                  # every case, a fresh server for each
    python benchmarks/serve_memory.py --only accepted

Each case starts `vectorize-nb serve --memory` in a subprocess, creates the index, warms it with a
small upsert, then POSTs one body of about 99 MB to /upsert and reads the server's resident memory
from /proc (Linux): `VmRSS` before, `VmHWM` (the peak since the process started) and `VmRSS` two
seconds after the answer. Figures are megabytes above the warmed baseline, and as a multiple of the
body's size.                                                         goal: peak <= 3 x the body

Cases:
    accepted     5000 vectors x 1536 dimensions: written (the index then holds 30 MB of float32
                 values, in its matrix and again in the in-memory SQLite store)
    over-count   about 9,900 vectors x 768: refused with 40106 (at most 5000 per request)
    wrong-dims   5000 vectors x 1536, the last one 1535 wide: refused with 40012
    two-at-once  two accepted bodies sent at the same time
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import requests

TARGET = 99_000_000
ACCOUNT = "/accounts/local/vectorize/v2/indexes"


def body(dimensions: int, count: int | None, short_last: bool = False, seed: int = 12) -> bytes:
    """NDJSON of random vectors printed with 9 decimals, padded with metadata to about 99 MB."""
    rng = np.random.default_rng(seed)
    row = rng.standard_normal(dimensions)
    values = ",".join(f"{x:.9f}" for x in row)
    probe = f'{{"id":"v00000","values":[{values}],"metadata":{{"pad":""}}}}\n'
    lines = count or TARGET // len(probe)
    pad = "p" * max(0, (TARGET - lines * len(probe)) // lines)
    out = []
    for i in range(lines):
        row = rng.standard_normal(dimensions - (1 if short_last and i == lines - 1 else 0))
        values = ",".join(f"{x:.9f}" for x in row)
        out.append(f'{{"id":"v{i:05d}","values":[{values}],"metadata":{{"pad":"{pad}"}}}}')
    return "\n".join(out).encode()


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


class Served:
    """`vectorize-nb serve --memory` on a free loopback port, in a subprocess."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        self.process = subprocess.Popen([sys.executable, "-m", "vectorize_nb", "serve", "--memory", "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        self.url = line.split(" at ")[1].split(" ")[0] + ACCOUNT

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def run_case(name: str, dimensions: int, bodies: list[bytes]) -> dict[str, float | str]:
    served = Served()
    try:
        session = requests.Session()
        answer = session.post(served.url, json={"name": "bench", "config": {"dimensions": dimensions,
                                                                            "metric": "cosine"}}, timeout=60)
        assert answer.status_code == 200, answer.text
        warm = '{"id":"warm","values":[' + ",".join(["0.5"] * dimensions) + "]}"
        assert session.post(f"{served.url}/bench/upsert", data=warm, timeout=60).status_code == 200
        time.sleep(1)
        before = memory(served.process.pid)["VmRSS"]
        answers: list[requests.Response] = []

        def send(data: bytes) -> None:
            answers.append(requests.post(f"{served.url}/bench/upsert", data=data, timeout=600))

        threads = [threading.Thread(target=send, args=(data,)) for data in bodies]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        time.sleep(2)
        after = memory(served.process.pid)
        codes = sorted({str(a.json()["errors"][0]["code"]) if a.status_code != 200 else "200" for a in answers})
        size = len(bodies[0]) / 1e6
        return {"case": name, "body_mb": size, "answer": "/".join(codes), "seconds": seconds,
                "peak_mb": after["VmHWM"] - before, "peak_x_body": (after["VmHWM"] - before) / size,
                "after_mb": after["VmRSS"] - before, "baseline_mb": before}
    finally:
        served.close()


CASES = {
    "accepted": lambda: (1536, [body(1536, 5000)]),
    "over-count": lambda: (768, [body(768, None)]),
    "wrong-dims": lambda: (1536, [body(1536, 5000, short_last=True)]),
    "two-at-once": lambda: (1536, [body(1536, 5000), body(1536, 5000, seed=13)]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(CASES), action="append")
    args = parser.parse_args()
    print(f"{'case':12} {'body MB':>8} {'answer':>8} {'s':>6} {'peak MB':>8} {'peak/body':>9} {'after MB':>9}"
          f" {'baseline':>9}")
    for name in args.only or list(CASES):
        dimensions, bodies = CASES[name]()
        r = run_case(name, dimensions, bodies)
        print(f"{r['case']:12} {r['body_mb']:8.1f} {r['answer']:>8} {r['seconds']:6.2f} {r['peak_mb']:8.0f} "
              f"{r['peak_x_body']:9.2f} {r['after_mb']:9.0f} {r['baseline_mb']:9.0f}", flush=True)


if __name__ == "__main__":
    main()

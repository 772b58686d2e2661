"""The REST client's costs, each measured against its own baseline in one run.

    python benchmarks/rest.py                       # all four (a few minutes)
    python benchmarks/rest.py --only cpu --repeat 5

1. Client CPU to encode and send 100k x 768 float32 vectors (with a little metadata) through
   Index.upsert to a server that discards the bodies, against encoding the same NDJSON alone with
   vectorize_nb.contract.wire.encode_ndjson. CPU is time.process_time (every thread of this process); the
   server runs in a subprocess so its CPU is not counted.          goal: <= 1.3 x
2. Upsert throughput through RestBackend to a server that adds 100 ms per request (threaded, in a
   subprocess), rate limiter out of the way, against the ideal concurrency * 5000 / 0.1 s.
                                                                    goal: >= 0.8 of ideal
3. Query latency at 100k x 384 (cosine, seeded random data): Index.query through `vectorize-nb serve`
   (vectorize_nb.local.server.serve over the same LocalEngine) against Index.query on the engine in
   process.                                                         goal: <= 3 ms more (median)
4. Reading a whole index over REST (Index.to_frame: list-vectors pages, then get-by-ids of 20 ids) from a
   server that adds the latency to every request, with the client's concurrency 1 and 4, against the ideal
   (the requests' latency divided by the requests in flight).      goal: concurrency 4 >= 0.7 of ideal

The machine these run on may be shared and noisy: every figure is a median of repeated runs, and the
two sides of a comparison run interleaved so that drift hits both alike. Ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from collections.abc import Callable, Iterator

import numpy as np
import orjson

import vectorize_nb as vz
from vectorize_nb.contract import wire
from vectorize_nb.client import Client
from vectorize_nb.local import LocalEngine
from vectorize_nb.local.server import serve
from vectorize_nb.contract.models import CheckedVectors, Vectors

BATCH = 5000

DISCARD_SERVER = r'''
import json, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIMS, DELAY, STORED = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
STAMP = "2026-01-01T00:00:00.000000Z"
ROW = [round((-1) ** i / DIMS ** 0.5, 6) for i in range(DIMS)]  # one unit vector for every text embedded
EMBEDDED = {}

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, as the client's pool expects
    disable_nagle_algorithm = True  # headers and body go out at once: no delayed-ACK stall

    def log_message(self, *args):
        """No line per request: the benchmark prints only its measurements."""

    def answer(self, result):
        self.send(json.dumps({"result": result, "success": True, "errors": [], "messages": []}).encode())

    def send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        tail = self.path.split("?")[0].rstrip("/").split("/indexes/", 1)[-1]
        name, _, what = tail.partition("/")
        if what == "info":
            self.answer({"dimensions": DIMS, "vectorCount": STORED})
        elif what == "list":             # STORED ids, doc-0 ... doc-(STORED - 1), a page at a time
            query = dict(part.split("=", 1) for part in self.path.partition("?")[2].split("&") if "=" in part)
            start, count = int(query.get("cursor", 0)), int(query.get("count", 100))
            end = min(start + count, STORED)
            self.answer({"count": end - start, "totalCount": STORED, "isTruncated": end < STORED,
                         "nextCursor": str(end) if end < STORED else None,
                         "vectors": [{"id": f"doc-{i}"} for i in range(start, end)]})
        else:
            self.answer({"name": name, "description": "", "config": {"dimensions": DIMS, "metric": "cosine"},
                         "created_on": STAMP, "modified_on": STAMP})

    def do_POST(self):
        if "/ai/run/" in self.path:      # Workers AI: one vector per text, each answer encoded once
            count = len(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["text"])
            if count not in EMBEDDED:
                EMBEDDED[count] = json.dumps({"result": {"shape": [count, DIMS], "data": [ROW] * count},
                                              "success": True, "errors": [], "messages": []}).encode()
            time.sleep(DELAY)
            return self.send(EMBEDDED[count])
        if self.path.endswith("/get_by_ids"):
            ids = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["ids"]
            time.sleep(DELAY)
            return self.answer([{"id": i, "values": ROW, "metadata": {"n": 1}} for i in ids])
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:                  # read the body and throw it away
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                return
            left -= len(chunk)
        if DELAY:
            time.sleep(DELAY)
        self.answer({"mutationId": str(uuid.uuid4())})

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
'''


@contextmanager
def discarding_server(dims: int, delay: float = 0.0, stored: int = 0) -> Iterator[str]:
    """A minimal Vectorize-shaped HTTP server in a subprocess (its CPU is not ours), listing `stored` vectors;
    yields its base URL."""
    proc = subprocess.Popen([sys.executable, "-c", DISCARD_SERVER, str(dims), str(delay), str(stored)],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/client/v4"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def cpu(fn: Callable[[], object], split: list[tuple[float, float, int]] | None = None) -> float:
    """CPU seconds of every thread of this process while fn runs; `split` gets (user, system, page faults)."""
    start, before, faults = time.process_time(), os.times(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn()
    spent = time.process_time() - start
    if split is not None:
        after = os.times()
        split.append((after.user - before.user, after.system - before.system,
                      resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults))
    return spent


def wall(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def goal(met: bool) -> str:
    return "met" if met else "NOT met"


# --- 1. client CPU per vector sent ----------------------------------------------------------------

def bench_cpu(n: int, repeat: int, stdlib_rows: int) -> None:
    dims = 768
    rng = np.random.default_rng(768)
    matrix = rng.standard_normal((n, dims), dtype=np.float32)
    ids = [f"doc-{i}" for i in range(n)]
    metadata = [{"genre": f"genre-{i % 10}", "year": 1950 + i % 70} for i in range(n)]
    print(f"\n1. client CPU: {n:,} x {dims} float32 with 2 metadata fields, batches of {BATCH}, "
          f"to a discarding server in a subprocess")

    def encoded(at: int) -> bytes:
        """One batch's NDJSON, its metadata encoded as well (what a request body costs to build)."""
        rows = metadata[at:at + BATCH]
        return wire.encode_ndjson(CheckedVectors(ids[at:at + BATCH], matrix[at:at + BATCH], rows, None,
                                                 [orjson.dumps(row) for row in rows]))

    def encode_only() -> None:
        for at in range(0, n, BATCH):
            encoded(at)

    def stdlib_subset() -> None:
        for i in range(stdlib_rows):
            json.dumps({"id": ids[i], "values": matrix[i].tolist(), "metadata": metadata[i]}).encode()

    sizes = sum(len(encoded(at)) for at in range(0, min(n, BATCH), BATCH))
    print(f"   NDJSON is about {sizes * n / min(n, BATCH) / 1e6:,.0f} MB per run")
    with discarding_server(dims) as url, \
            vz.connect(url, requests_per_window=10**9, timeout=120) as client, \
            vz.connect(url, requests_per_window=10**9, timeout=120, concurrency=1) as serial:
        sends = {"default (concurrency 4)": client.get_index("bench"), "concurrency 1": serial.get_index("bench")}
        for index in sends.values():  # warm: connections, imports, allocator
            index.upsert(ids[:BATCH], matrix[:BATCH], metadata=metadata[:BATCH], progress=False)
        upserts: dict[str, list[float]] = {label: [] for label in sends}
        splits: dict[str, list[tuple[float, float, int]]] = {label: [] for label in [*sends, "encode"]}
        encodes, stdlibs = [], []
        for _ in range(repeat):
            for label, index in sends.items():
                upserts[label].append(cpu(lambda: index.upsert(ids, matrix, metadata=metadata, progress=False),
                                          splits[label]))
            encodes.append(cpu(encode_only, splits["encode"]))
            stdlibs.append(cpu(stdlib_subset) * n / stdlib_rows)
    enc, std = median(encodes), median(stdlibs)
    print(f"   encode_ndjson alone: median {enc:.2f} s CPU ({n * dims / enc / 1e6:.0f} M floats/s)")
    for number, (label, runs) in enumerate(upserts.items()):
        ratio = median(runs) / enc
        per_run = [u / e for u, e in zip(runs, encodes)]
        verdict = f"(goal <= 1.3: {goal(ratio <= 1.3)})" if number == 0 else "(for comparison)"
        print(f"   Index.upsert over HTTP, {label:<23} CPU / encode alone {ratio:5.2f} x  {verdict}; "
              f"per run {min(per_run):.2f} .. {max(per_run):.2f}")
    print(f"   for reference: stdlib json.dumps per record / encode_ndjson {std / enc:5.2f} x "
          f"(stdlib timed on {stdlib_rows:,} rows and scaled)")
    print("   where the CPU goes (medians): user s / system s / minor page faults")
    for label, parts in splits.items():
        user, system, faults = (median([p[i] for p in parts]) for i in range(3))
        print(f"     {label:<23} {user:5.2f} / {system:5.2f} / {faults:9,.0f}")


# --- 2. throughput against a 100 ms server -------------------------------------------------------------

def bench_throughput(concurrencies: list[int], rounds: int, repeat: int, latency: float) -> None:
    dims = 32
    print(f"\n2. upsert throughput to a server adding {latency * 1e3:.0f} ms per request (threaded, subprocess); "
          f"d = {dims} so that encoding does not dominate; {BATCH} vectors per request; rate limiter off")
    rng = np.random.default_rng(32)
    for c, delay in [(max(concurrencies), 0.0)] + [(c, latency) for c in concurrencies]:
        with discarding_server(dims, delay) as url:
            n = BATCH * c * rounds
            matrix = rng.standard_normal((n, dims), dtype=np.float32)
            ids = [f"doc-{i}" for i in range(n)]
            with vz.connect(url, concurrency=c, requests_per_window=10**9, timeout=30) as client:
                index = client.get_index("bench")
                index.upsert(ids[:BATCH * c], matrix[:BATCH * c], progress=False)  # open c connections
                times = [wall(lambda: index.upsert(ids, matrix, progress=False)) for _ in range(repeat)]
            rate = n / median(times)
            if delay == 0.0:
                print(f"   client ceiling (same server, no added latency), concurrency {c}: {rate:10,.0f} vectors/s "
                      f"= {rate * latency / BATCH:4.2f} requests per {latency * 1e3:.0f} ms")
                continue
            ideal = c * BATCH / latency
            print(f"   concurrency {c}: {rate:10,.0f} vectors/s = {rate / ideal:4.2f} of ideal "
                  f"({ideal:,.0f}/s; {n:,} vectors in {n // BATCH} requests)   "
                  f"(goal >= 0.8: {goal(rate / ideal >= 0.8)})")


# --- 3. query latency: served vs in process ----------------------------------------------------------

def bench_query(n: int, queries: int, repeat: int) -> None:
    dims, k = 384, 10
    print(f"\n3. query latency at {n:,} x {dims}, cosine, topK = {k}: through serve() vs in process "
          f"(same LocalEngine)")
    rng = np.random.default_rng(384)
    matrix = rng.standard_normal((n, dims), dtype=np.float32)
    ids = [f"doc-{i}" for i in range(n)]
    probes = rng.standard_normal((queries, dims), dtype=np.float32)
    with LocalEngine() as engine:
        engine.create_index("bench", dimensions=dims, metric="cosine")
        for at in range(0, n, BATCH):
            engine.upsert("bench", Vectors(ids[at:at + BATCH], matrix[at:at + BATCH]))
        local = Client(engine, "memory").get_index("bench")
        with serve(engine=engine) as server, vz.connect(server.url, requests_per_window=10**9,
                                                       timeout=30) as client:
            remote = client.get_index("bench")
            for q in probes[:3]:  # warm both
                local.query(q, top_k=k)
                remote.query(q, top_k=k)
            same = all(local.query(q, top_k=k)["id"].tolist() == remote.query(q, top_k=k)["id"].tolist()
                       for q in probes[:5])
            ours, theirs = [], []
            for _ in range(repeat):  # interleaved per query, so drift hits both alike
                for q in probes:
                    ours.append(wall(lambda: local.query(q, top_k=k)))
                    theirs.append(wall(lambda: remote.query(q, top_k=k)))
    diff = [(t - o) * 1e3 for o, t in zip(ours, theirs)]
    extra = median(diff)
    print(f"   in process median {median(ours) * 1e3:6.2f} ms, served median {median(theirs) * 1e3:6.2f} ms "
          f"({len(ours)} queries each; same ids: {same})")
    print(f"   served - in process, median of paired differences: {extra:5.2f} ms   "
          f"(goal <= 3 ms more: {goal(extra <= 3.0)})")


# --- 4. reading a whole index over REST -------------------------------------------------------------

def bench_export(n: int, repeat: int, latency: float) -> None:
    dims, per_request = 384, 20
    requests = -(-n // 1000) + -(-n // per_request)  # list pages of 1000, then get-by-ids
    print(f"\n4. Index.to_frame of {n:,} x {dims} from a server adding {latency * 1e3:.0f} ms per request "
          f"({requests} requests; subprocess)")
    with discarding_server(dims, latency, n) as url:
        for c in (1, 4):
            with vz.connect(url, concurrency=c, timeout=30) as client:
                index = client.get_index("bench")
                times = [wall(lambda: index.to_frame()) for _ in range(repeat)]
            ideal = latency * (-(-n // 1000) + -(-n // per_request) / c)
            ratio = ideal / median(times)
            print(f"   concurrency {c}: {median(times):6.2f} s = {ratio:4.2f} of ideal ({ideal:.2f} s)"
                  + (f"   (goal >= 0.7: {goal(ratio >= 0.7)})" if c == 4 else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["cpu", "throughput", "query", "export"], nargs="+",
                        default=["cpu", "throughput", "query", "export"])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (medians are printed)")
    parser.add_argument("--cpu-vectors", type=int, default=100_000)
    parser.add_argument("--stdlib-rows", type=int, default=5_000, help="rows the stdlib json reference encodes")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=10, help="requests per connection in the throughput run")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--query-vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--export-vectors", type=int, default=4_000)
    args = parser.parse_args()
    print(f"vectorize-nb REST benchmarks; {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
          f"repeat {args.repeat}")
    if "cpu" in args.only:
        bench_cpu(args.cpu_vectors, args.repeat, args.stdlib_rows)
    if "throughput" in args.only:
        bench_throughput(args.concurrency, args.rounds, args.repeat, args.latency)
    if "query" in args.only:
        bench_query(args.query_vectors, args.queries, args.repeat)
    if "export" in args.only:
        bench_export(args.export_vectors, args.repeat, args.latency)


if __name__ == "__main__":
    main()

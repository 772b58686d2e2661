"""The Workers AI client's throughput against a server that adds 100 ms to every request.

    python benchmarks/workers_ai.py                       # concurrency 1, 2, 4; three runs each
    python benchmarks/workers_ai.py --rounds 20 --repeat 5

`Client.embed` on a REST target sends requests of the model's max_texts (100 for bge-small),
`concurrency` at a time. The server (rest.py's threaded HTTP server in a subprocess, so its CPU is not
the client's) reads each request, sleeps 100 ms and answers Workers AI's envelope with one 384-value
vector per text (each answer encoded once). The ideal is concurrency x 100 texts / 100 ms; the goal
is at least 0.8 of it. The runs of the three concurrencies are interleaved so that drift on a shared machine hits
them alike; each figure is the median of `repeat` runs. Ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rest import discarding_server

import vectorize_nb as vz

MODEL = "@cf/baai/bge-small-en-v1.5"
PER_REQUEST = 100
GOAL = 0.8


def run(client: vz.Client, texts: list[str]) -> float:
    """Seconds to embed `texts` through Workers AI's route, no cache, no progress bar."""
    start = time.perf_counter()
    vectors = client.embed(texts, MODEL, cache=False, progress=False)
    seconds = time.perf_counter() - start
    assert vectors.shape == (len(texts), 384)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=10, help="requests per concurrent slot in one run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    print(f"Workers AI client to a server adding {args.latency * 1e3:.0f} ms per request (subprocess); "
          f"{MODEL}, {PER_REQUEST} texts per request, {args.rounds} requests per slot, median of {args.repeat}")
    timings: dict[int, list[float]] = {c: [] for c in args.concurrency}
    with discarding_server(384, args.latency) as url:
        clients = {c: vz.connect(url, api_token="benchmark", concurrency=c) for c in args.concurrency}
        try:
            for c, client in clients.items():  # warm: connections, imports
                run(client, [f"warm {i}" for i in range(PER_REQUEST * c)])
            for _ in range(args.repeat):
                for c, client in clients.items():
                    texts = [f"text number {i}" for i in range(PER_REQUEST * c * args.rounds)]
                    timings[c].append(len(texts) / run(client, texts))
        finally:
            for client in clients.values():
                client.close()
    for c, rates in timings.items():
        ideal = c * PER_REQUEST / args.latency
        ratio = statistics.median(rates) / ideal
        verdict = "met" if ratio >= GOAL else "NOT met"
        spread = f"{min(rates) / ideal:.2f} .. {max(rates) / ideal:.2f}"
        print(f"   concurrency {c}: {statistics.median(rates):7,.0f} texts/s, ideal {ideal:6,.0f}: "
              f"ratio {ratio:.2f} (goal >= {GOAL}: {verdict}); runs {spread}")


if __name__ == "__main__":
    main()

"""How long a server that answers a byte at a time can hold one REST call (issue 12).

    python benchmarks/rest_deadline.py              # the trickle with timeout=2 and no retries
    python benchmarks/rest_deadline.py --defaults   # also a stalled server with connect()'s defaults

A TrickleServer (tests/rest/faults.py) on 127.0.0.1 sends its whole answer, head included, one byte
every `--interval` seconds, so no single socket read ever waits long. The figure is how long
`client.list_indexes()` takes to return or raise. With `--defaults`, a server that reads the
request and never answers holds a call made with connect()'s default timeouts and retries.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

import vectorize_nb as vz

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for its tests' fault servers
from tests.rest.faults import TrickleServer  # noqa: E402


def held(url: str, **options: float) -> tuple[float, str]:
    start = time.monotonic()
    try:
        with vz.connect(url, **options) as client:  # type: ignore[arg-type]
            client.list_indexes()
        outcome = "answered"
    except vz.errors.VectorizeError as exc:
        outcome = f"{type(exc).__name__}"
    return time.monotonic() - start, outcome


def stalled() -> tuple[socket.socket, str]:
    """A listener that accepts connections and never answers (the kernel's backlog does the accepting)."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    held_open: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held_open.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/client/v4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interval", type=float, default=0.15, help="seconds between bytes (default 0.15)")
    parser.add_argument("--defaults", action="store_true", help="also a stalled server with the default options")
    args = parser.parse_args()
    with TrickleServer(interval=args.interval) as slow:
        whole = len(slow.answer) * args.interval
        seconds, outcome = held(slow.url, timeout=2, max_retries=0)
        print(f"trickle of {len(slow.answer)} bytes, one per {args.interval} s ({whole:.0f} s in all), "
              f"timeout=2, max_retries=0: held {seconds:.1f} s, {outcome}", flush=True)
    if args.defaults:
        listener, url = stalled()
        seconds, outcome = held(url)
        listener.close()
        print(f"stalled server, connect() defaults: held {seconds:.1f} s, {outcome}", flush=True)


if __name__ == "__main__":
    main()

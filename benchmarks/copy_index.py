"""Index.copy_to from one engine folder to another: its time and its memory, against the raw float32 matrix.

    python benchmarks/copy_index.py                    # 200k x 384, metadata of a few keys per vector
    python benchmarks/copy_index.py --rows 20000       # quicker

The source folder is built in a child process; the copy runs in another, fresh one, which reports its
resident memory before the copy and its peak (VmHWM) after it. The copy holds one export of the source (the
matrix, ids, namespaces and metadata JSON) and writes it in batches of 5,000: its peak should stay near one raw
matrix above what the process held before it, not two.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

D = 384

BUILD = """
import sys
import numpy as np
import vectorize_nb as vz

rows = int(sys.argv[2])
with vz.connect(path=sys.argv[1]) as client:
    index = client.create_index("bench", dimensions=384)
    index.create_metadata_index("genre", "string")
    rng = np.random.default_rng(7)
    for at in range(0, rows, 50_000):
        n = min(50_000, rows - at)
        index.upsert([f"v{at + i}" for i in range(n)], rng.standard_normal((n, 384), dtype=np.float32),
                     metadata=[{"genre": f"genre-{(at + i) % 10}", "year": 1990 + (at + i) % 30} for i in range(n)],
                     progress=False)
"""

COPY = """
import json, sys, time
import vectorize_nb as vz

def status(field):
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1]) * 1024

with vz.connect(path=sys.argv[1]) as source, vz.connect(path=sys.argv[2]) as target:
    index = source.get_index("bench")
    before = status("VmRSS")
    start = time.perf_counter()
    copied = index.copy_to(target, wait=True, progress=False)
    elapsed = time.perf_counter() - start
    assert copied.info().vector_count == int(sys.argv[3])
# VmHWM, not ru_maxrss: the latter is inherited from the parent across fork and exec
print(json.dumps({"seconds": elapsed, "before": before, "peak": status("VmHWM")}))
"""


def measure(rows: int, folder: Path) -> dict[str, float]:
    source, target = folder / "source", folder / "target"
    subprocess.run([sys.executable, "-c", BUILD, str(source), str(rows)], check=True)
    result = json.loads(subprocess.run([sys.executable, "-c", COPY, str(source), str(target), str(rows)],
                                       capture_output=True, text=True, check=True).stdout)
    raw = rows * D * 4
    return {"copy seconds": result["seconds"], "vectors per second": rows / result["seconds"],
            "raw matrix MB": raw / 1e6, "resident before MB": result["before"] / 1e6,
            "peak MB": result["peak"] / 1e6, "peak added / raw matrix": (result["peak"] - result["before"]) / raw}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(f"copy_to, {args.rows:,} x {D}, engine folder to engine folder", flush=True)
        for name, value in measure(args.rows, Path(folder)).items():
            print(f"  {name:<30} {value:10.3f}", flush=True)


if __name__ == "__main__":
    main()

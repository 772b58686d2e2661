"""Long computations (UMAP) run in a worker thread while the caller's thread shows the seconds go by."""

from __future__ import annotations

import concurrent.futures
from typing import TypeVar
from collections.abc import Callable

__all__ = ["run_with_progress", "TICK_SECONDS"]

T = TypeVar("T")
TICK_SECONDS = 0.5


def run_with_progress(task: Callable[[], T], label: str, progress: bool | None = None) -> T:
    """Run `task`; unless `progress` is False, tick a tqdm.auto line ("label: 00:07") until it returns.

    The bar is a widget in Jupyter and a line on stderr elsewhere. If the caller is interrupted, the
    task cannot be stopped: it finishes in the background and its result is dropped.

    Parameters
    ----------
    task : callable
        Takes no argument; its result is returned.
    label : str
        What the line says.
    progress : bool, optional
        False: run without a line.
    """
    if progress is False:
        return task()
    from tqdm.auto import tqdm

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="vectorize-nb-viz")
    future = pool.submit(task)
    bar = tqdm(desc=label, total=None, bar_format="{desc}: {elapsed}", leave=True)
    try:
        while True:
            try:
                result = future.result(timeout=TICK_SECONDS)
            except concurrent.futures.TimeoutError:
                bar.refresh()
                continue
            bar.set_description_str(f"{label}: done", refresh=False)
            return result
    finally:
        bar.close()
        pool.shutdown(wait=False)

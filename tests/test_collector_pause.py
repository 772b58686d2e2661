"""Pausing the garbage collector from several threads at once: the last one out turns it back on."""

import threading

from vectorize_nb.contract import flat


class FakeCollector:
    """Stands in for `gc`; the second thread's disable() waits until the first thread has left its pause,
    which is where two threads' own checks of the collector could interleave."""

    def __init__(self) -> None:
        self.enabled = True
        self.second_at_entry = threading.Event()
        self.first_left = threading.Event()

    def isenabled(self) -> bool:
        return self.enabled

    def disable(self) -> None:
        if threading.current_thread().name == "second":
            self.second_at_entry.set()
            self.first_left.wait(10)
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True


def test_two_threads_pausing_at_once_leave_the_collector_on(monkeypatch):
    collector = FakeCollector()
    monkeypatch.setattr(flat, "gc", collector)
    first_inside, release_first = threading.Event(), threading.Event()
    inside_second: list[bool] = []

    def first() -> None:
        with flat.collector_paused():
            first_inside.set()
            release_first.wait(10)
        collector.first_left.set()

    def second() -> None:
        with flat.collector_paused():
            collector.second_at_entry.set()
            collector.first_left.wait(10)
            inside_second.append(collector.enabled)

    threads = [threading.Thread(target=first, name="first"), threading.Thread(target=second, name="second")]
    threads[0].start()
    assert first_inside.wait(10)
    threads[1].start()
    assert collector.second_at_entry.wait(10)
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert inside_second == [False]  # paused while the second thread builds, though the first one has left
    assert collector.enabled

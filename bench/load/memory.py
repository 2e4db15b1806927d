"""The portal's memory under load: the resident set size of each gunicorn worker, of the background
process beside them, and of the master — the children of the process `portal serve` started —
read from /proc/<pid>/status: VmRSS, and its two parts that matter here, RssAnon (the heap: what a
leak grows) and RssFile (pages of mapped files: shared libraries, and the CJK fonts a worker maps
once it has rendered a certificate; the kernel can drop them). MB are 10^6 bytes.

A leak check samples them every few seconds during a long run and compares, for each process, its
memory once warmed up with its memory at the end."""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

MB = 1_000_000
WORKER_BUDGET_MB = 200  # issue 16: worker memory ≤ 200 MB RSS after the scenarios
# "growth": the heap (RssAnon) rising by more than this from the end of the warm-up to the end of
# the run. A worker's caches are bounded (SQLAlchemy's compiled statements, Jinja's templates,
# SQLite's page cache per connection, Babel's catalogs) and fill during the warm-up; what moves
# afterwards is the allocator keeping freed memory, a few MB up or down. 10 MB is 5 % of the
# budget: at that pace a worker starting at 100 MB passes 200 MB within a couple of hours, which
# no restart policy should have to hide. File pages are not judged: they are mapped, not leaked.
GROWTH_MB = 10.0


@dataclass(frozen=True)
class Rss:
    total: float  # VmRSS, MB
    anon: float  # RssAnon
    file: float  # RssFile


def rss(pid: int) -> Rss:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            fields[name] = int(value.split()[0]) * 1024 / MB  # the kernel writes kB (KiB)
    return Rss(fields["VmRSS"], fields["RssAnon"], fields["RssFile"])


@dataclass
class Snapshot:
    at: float  # seconds since sampling began
    workers: dict[int, Rss]  # pid → its memory
    background: Rss | None  # None when there is no background process (PORTAL_DEV=1)
    master: Rss

    @property
    def worst_worker(self) -> float:
        return max((worker.total for worker in self.workers.values()), default=0.0)


def snapshot(server_pid: int, at: float = 0.0) -> Snapshot:
    """The memory of the server's processes now: `server_pid` is gunicorn's master; its children
    are the workers and `python -m portal.server`, the background process."""
    workers, background = {}, None
    for child in psutil.Process(server_pid).children():
        try:
            if "portal.server" in child.cmdline():
                background = rss(child.pid)
            else:
                workers[child.pid] = rss(child.pid)
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):  # a worker being replaced
            continue
    return Snapshot(at, workers, background, rss(server_pid))


class Sampler(threading.Thread):
    """Snapshots every `every` seconds, from start() until stop()."""

    def __init__(self, server_pid: int, every: float):
        super().__init__(daemon=True)
        self.server_pid, self.every = server_pid, every
        self.samples: list[Snapshot] = []
        self._stopped = threading.Event()
        self._began = time.monotonic()

    def run(self) -> None:
        self._began = time.monotonic()
        while True:
            try:
                self.samples.append(snapshot(self.server_pid, time.monotonic() - self._began))
            except (psutil.NoSuchProcess, FileNotFoundError):  # the server is gone
                return
            if self._stopped.wait(self.every):
                return

    def stop(self) -> list[Snapshot]:
        self._stopped.set()
        self.join()
        return self.samples


@dataclass
class Trend:
    process: str  # "worker 1234", "background"
    start: Rss  # once warmed up (medians of the first three samples after the warm-up)
    end: Rss  # at the end (medians of the last three)
    peak: float  # highest VmRSS
    slope: float  # RssAnon, MB per minute after the warm-up (least squares)
    late: bool = False  # started after the first sample: a worker gunicorn replaced

    @property
    def growth(self) -> bool:
        return self.end.anon - self.start.anon > GROWTH_MB


def _median(points: list[Rss]) -> Rss:
    return Rss(*(statistics.median(getattr(p, part) for p in points) for part in ("total", "anon", "file")))


@dataclass
class LeakCheck:
    every: float
    warm_up: float
    samples: list[Snapshot] = field(default_factory=list)

    def trends(self) -> list[Trend]:
        series: dict[str, list[tuple[float, Rss]]] = {}
        for sample in self.samples:
            for pid, memory in sample.workers.items():
                series.setdefault(f"worker {pid}", []).append((sample.at, memory))
            if sample.background is not None:
                series.setdefault("background", []).append((sample.at, sample.background))
        first = self.samples[0].at if self.samples else 0.0
        trends = []
        for name, points in series.items():
            after = [p for p in points if p[0] >= self.warm_up] or points[-1:]
            minutes, memory = [t / 60 for t, _ in after], [m for _, m in after]
            slope = (statistics.linear_regression(minutes, [m.anon for m in memory]).slope
                     if len(set(minutes)) > 1 else 0.0)
            trends.append(Trend(name, _median(memory[:3]), _median(memory[-3:]), max(m.total for _, m in points),
                                slope, late=points[0][0] > first))
        return trends

    @property
    def growth(self) -> bool:
        return any(trend.growth for trend in self.trends())

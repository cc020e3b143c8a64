"""The machine a run happened on, and how much CPU *other* processes took during each load.

A cold Pyodide boot is CPU-bound, so a busy neighbour (another engineer's browser tests on the
same two cores) stretches it by tens of percent. Every load records the CPU seconds used on the
machine by processes outside this benchmark's own tree (this Python, its server threads,
Playwright's driver and the Chromium it started), so a noisy number can be told from a slow app.
Linux only (/proc); elsewhere the figures are simply missing.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _busy_ticks() -> int | None:
    """Busy CPU ticks of the whole machine (all cores) since boot."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal


def _own_tree_ticks(root_pid: int) -> int:
    """CPU ticks of root_pid and all its descendants (children they reaped included)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The command name is in parentheses and may contain spaces: split after it.
        rest = stat[stat.rfind(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(rest[1])
        ticks[pid] = sum(int(v) for v in rest[11:15])  # utime stime cutime cstime
    tree = {root_pid}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(ticks.get(pid, 0) for pid in tree)


class OtherCpu:
    """Measures CPU seconds used by processes outside our own tree between start() and stop()."""

    def __init__(self) -> None:
        self._start: tuple[int, int] | None = None

    def start(self) -> None:
        busy = _busy_ticks()
        self._start = None if busy is None else (busy, _own_tree_ticks(os.getpid()))

    def stop(self) -> float | None:
        if self._start is None:
            return None
        busy = _busy_ticks()
        if busy is None:
            return None
        own = _own_tree_ticks(os.getpid())
        others = (busy - self._start[0]) - (own - self._start[1])
        return max(0, others) / _TICK


@dataclass(frozen=True)
class MachineInfo:
    date: str
    cores: int
    cpu_model: str
    memory_gb: float
    system: str
    python: str
    chromium: str

    def lines(self) -> list[str]:
        return [
            f"- Date: {self.date}",
            f"- Machine: {self.cores} cores ({self.cpu_model}), {self.memory_gb:.1f} GB RAM,"
            f" {self.system}",
            f"- Chromium: {self.chromium}; Python {self.python} (servers and driver)",
        ]


def machine_info(chromium: str) -> MachineInfo:
    return MachineInfo(
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        cores=os.cpu_count() or 0,
        cpu_model=_cpu_model(),
        memory_gb=_memory_gb(),
        system=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        chromium=chromium,
    )


def chromium_version(executable: str | None) -> str:
    """`chromium --version`, or "?" (Playwright's browser.version is read later, if at all)."""
    if not executable:
        return "?"
    try:
        out = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    found = re.search(r"Chromium \S+", out)
    return found.group(0) if found else out.strip() or "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def wait_for_quiet(max_wait_s: float, cores: float = 0.25, window_s: float = 1.0) -> float:
    """Wait (at most max_wait_s) for a window in which other processes used under `cores`
    cores; returns the seconds waited. Both pages of a pair get the same treatment."""
    started = time.monotonic()
    while time.monotonic() - started < max_wait_s:
        sampler = OtherCpu()
        sampler.start()
        time.sleep(window_s)
        used = sampler.stop()
        if used is None or used < cores * window_s:
            break
    return time.monotonic() - started

"""What machine a number was measured on, so results from different machines never mix."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _usable_cores() -> int:
    """Cores this process may run on (affinity and cgroup quota), not the host's count."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cores = min(cores, max(1, round(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores


def _gpu() -> dict[str, Any] | None:
    """The first CUDA device, when torch is installed and sees one."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    return {
        "name": props.name,
        "count": torch.cuda.device_count(),
        "memory_gb": round(props.total_memory / 2**30, 1),
    }


def _torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM, GPU, Python and torch versions, and the date, for every result file."""
    return {
        "cpu": _cpu_model(),
        "cores": _usable_cores(),
        "host_cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "gpu": _gpu(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_impl": sys.implementation.name,
        "torch": _torch_version(),
        "commit": _git_commit(),
        # other work on the machine skews timings; the 1-minute load average says how much
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def describe(machine: dict[str, Any]) -> str:
    """One line for tables: `AMD EPYC, 2 cores, 23.4 GB RAM, no GPU, Python 3.11.7, torch 2.13`."""
    gpu = machine.get("gpu")
    gpu_text = f"{gpu['name']} ×{gpu['count']}" if gpu else "no GPU"
    torch_text = f", torch {machine['torch']}" if machine.get("torch") else ""
    load = machine.get("load_avg_1m")
    load_text = f", load {load} at start" if load is not None else ""
    return (
        f"{machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('ram_gb')} GB RAM, "
        f"{gpu_text}, Python {machine.get('python')}{torch_text}{load_text}"
    )

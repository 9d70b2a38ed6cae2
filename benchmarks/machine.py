"""Describe the machine a benchmark ran on, and write one section of benchmarks/BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from pathlib import Path

REPORT = Path(__file__).resolve().parent / "BENCHMARKS.md"


def describe(packages: tuple[str, ...] = ("torch", "sentence-transformers", "spacy", "streamlit")) -> str:
    cpu = platform.processor() or "unknown CPU"
    flags: list[str] = []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == (platform.processor() or "unknown CPU"):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:  # what the kernels choose by (machines here differ)
                have = set(line.split(":", 1)[1].split())
                flags = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile") if f in have]
    except OSError:
        pass
    cpu += f" ({', '.join(flags) or 'no AVX2'})"
    versions = []
    for p in packages:
        try:
            versions.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return (f"{cpu}, {len(os.sched_getaffinity(0))} cores{mem}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; {', '.join(versions)}")


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank (of a few runs: the largest but one of 20, the largest of fewer)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def write_section(heading: str, body: str) -> None:
    """Replace (or append) the ``## heading`` section of BENCHMARKS.md, leaving the others alone."""
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n\nMeasured, not asserted. Each section says how to rerun it.\n"
    block = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: block + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + block
    REPORT.write_text(text, encoding="utf-8")

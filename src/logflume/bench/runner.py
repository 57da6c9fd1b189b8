"""Run benchmark workers in fresh subprocesses and compare them as ratios."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from .workers import WORKERS


def run_worker(name: str, records: int, workdir: Path, timeout: float = 600) -> dict[str, Any]:
    """Run one library's worker in a new interpreter; its metrics, or an ``error`` entry."""
    path = workdir / f"{name}.jsonl"
    path.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "logflume.bench.workers", name, str(records), str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {tail}"}
    metrics: dict[str, Any] = orjson.loads(proc.stdout.strip().splitlines()[-1])
    path.unlink(missing_ok=True)
    return metrics


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if a and b else None


def run_basic(records: int, workdir: Path, only: list[str] | None = None) -> dict[str, Any]:
    """The default scenario: one JSON-lines file, every library, one after the other."""
    results = {name: run_worker(name, records, workdir) for name in (only or list(WORKERS))}
    ours = results.get("logflume", {})
    ratios: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    if "throughput_rps" in ours:
        for peer, metrics in results.items():
            if peer == "logflume" or "throughput_rps" not in metrics:
                continue
            ratios[f"throughput_vs_{peer}"] = _ratio(
                ours["throughput_rps"], metrics["throughput_rps"]
            )
            ratios[f"caller_p50_vs_{peer}"] = _ratio(
                ours["caller_p50_us"], metrics["caller_p50_us"]
            )
            ratios[f"caller_p99_vs_{peer}"] = _ratio(
                ours["caller_p99_us"], metrics["caller_p99_us"]
            )
        targets["caller_p50_le_1.5us"] = ours["caller_p50_us"] <= 1.5
        targets["caller_p99_le_10us"] = ours["caller_p99_us"] <= 10
        targets["disabled_le_100ns"] = ours.get("disabled_ns", 1e9) <= 100
        queue = results.get("stdlib_queue", {})
        if "caller_p50_us" in queue:
            targets["below_stdlib_queue_every_percentile"] = all(
                ours[k] < queue[k] for k in ("caller_p50_us", "caller_p99_us", "caller_p999_us")
            )
        if ratios.get("throughput_vs_stdlib_file") is not None:
            targets["throughput_ge_5x_stdlib_file"] = ratios["throughput_vs_stdlib_file"] >= 5
        if ratios.get("throughput_vs_loguru") is not None:
            targets["throughput_ge_3x_loguru"] = ratios["throughput_vs_loguru"] >= 3
        targets["no_record_lost"] = ours.get("lines_written") == records
    return {
        "scenario": "basic",
        "records": records,
        "results": results,
        "ratios": ratios,
        "targets": targets,
    }


def run_scenario(
    name: str,
    records: int,
    workdir: Path | None = None,
    only: list[str] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run scenario ``name`` ("basic" or a ``logflume.bench.scenario_<name>`` module).

    ``options`` (e.g. ``files=48``) are passed to the scenario's ``run()`` when it takes
    them and they are not None; ``only`` likewise.
    """
    with tempfile.TemporaryDirectory(prefix="logflume-bench-") as tmp:
        where = workdir or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        if name == "basic":
            unknown = set(only or ()) - set(WORKERS)
            if unknown:
                raise ValueError(f"unknown libraries {sorted(unknown)}; use {sorted(WORKERS)}")
            return run_basic(records, where, only)
        module = importlib.import_module(f"logflume.bench.scenario_{name}")
        accepted = inspect.signature(module.run).parameters
        given = {k: v for k, v in {**options, "only": only}.items() if v is not None}
        ignored = sorted(k for k in given if k not in accepted)
        if ignored:
            raise ValueError(f"scenario {name!r} does not take {', '.join(ignored)}")
        out: dict[str, Any] = module.run(records, where, **given)
        return out


def available_scenarios() -> list[str]:
    """Scenario names: "basic" plus every ``scenario_*`` module in this package."""
    here = Path(__file__).parent
    return ["basic", *sorted(p.stem.removeprefix("scenario_") for p in here.glob("scenario_*.py"))]

"""Benchmarks run by ``logflume bench``: each library in a fresh subprocess, one run, ratios.

Scenarios are modules ``logflume.bench.scenario_<name>`` exposing
``run(records: int, workdir: pathlib.Path) -> dict``.
"""

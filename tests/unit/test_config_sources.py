"""configure() from a dict, a TOML file and LOGFLUME_* environment variables."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import logflume
from logflume.config import (
    configure_from_dict,
    configure_from_env,
    configure_from_toml,
    settings_from_env,
)
from logflume.errors import ConfigurationError


def test_dict_configuration_builds_sinks_and_options(tmp_path: Path) -> None:
    path = tmp_path / "app.jsonl"
    pipeline = configure_from_dict(
        {"level": "debug", "policy": "drop_oldest",
         "sinks": [{"type": "file", "path": str(path)}, {"type": "memory", "name": "mem"}]}
    )  # fmt: skip
    assert pipeline.policy == "drop_oldest" and pipeline.level == logflume.DEBUG
    logflume.get_logger("d").debug("hello")
    assert logflume.flush(timeout=5)
    assert orjson.loads(path.read_bytes())["msg"] == "hello"
    assert [type(s).__name__ for s in pipeline.sinks] == ["FileSink", "MemorySink"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sinks": [{"type": "carrier-pigeon"}]}, "unknown sink type 'carrier-pigeon'"),
        ({"sinks": [{"path": "x"}]}, "needs a 'type'"),
        ({"sinks": [{"type": "file", "colour": "red"}]}, "sink type 'file'"),
        ({"sinks": {"type": "file"}}, "must be a list"),
        ({"levle": "info"}, "unknown option(s) levle"),
        ({"level": "loud"}, "unknown level 'loud'"),
    ],
)
def test_bad_dict_configuration_says_what_to_change(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        configure_from_dict(settings)
    assert message in str(info.value)


def test_toml_configuration_reads_the_logflume_table(tmp_path: Path) -> None:
    path = tmp_path / "app.jsonl"
    config = tmp_path / "logging.toml"
    config.write_text(
        f'[tool.logflume]\nlevel = "warning"\nredact_fields = ["pin"]\n'
        f'[[tool.logflume.sinks]]\ntype = "file"\npath = "{path}"\n'
    )
    configure_from_toml(config)
    log = logflume.get_logger("t")
    log.info("filtered out")
    log.warning("kept", pin="1234")
    assert logflume.flush(timeout=5)
    row = orjson.loads(path.read_bytes())
    assert row["msg"] == "kept" and row["pin"] == "[REDACTED]"


def test_invalid_or_missing_toml_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("level = \n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        configure_from_toml(bad)
    with pytest.raises(ConfigurationError, match="cannot read"):
        configure_from_toml(tmp_path / "missing.toml")


def test_environment_overrides_the_toml_file_and_adds_sinks(tmp_path: Path) -> None:
    config = tmp_path / "logging.toml"
    config.write_text('[logflume]\nlevel = "error"\npolicy = "drop_newest"\n')
    path = tmp_path / "env.jsonl"
    env = {"LOGFLUME_CONFIG": str(config), "LOGFLUME_LEVEL": "info",
           "LOGFLUME_CAPTURE_SOURCE": "yes", "LOGFLUME_FILE": str(path)}  # fmt: skip
    assert settings_from_env(env) == {
        "level": "info", "policy": "drop_newest", "capture_source": True,
        "sinks": [{"type": "file", "path": str(path)}],
    }  # fmt: skip
    configure_from_env(env)
    logflume.get_logger("e").info("from env")
    assert logflume.flush(timeout=5)
    row = orjson.loads(path.read_bytes())
    assert row["msg"] == "from env" and "src" in row


def test_bad_environment_values_name_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="LOGFLUME_CAPTURE_SOURCE='maybe'"):
        settings_from_env({"LOGFLUME_CAPTURE_SOURCE": "maybe"})
    with pytest.raises(ConfigurationError, match="LOGFLUME_MAX_QUEUE_RECORDS"):
        settings_from_env({"LOGFLUME_MAX_QUEUE_RECORDS": "lots"})

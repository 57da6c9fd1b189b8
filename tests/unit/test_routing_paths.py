"""Routing rules: sanitized names, confined paths, templates, categories and level files."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logflume import CRITICAL, DEBUG, ERROR, INFO, WARNING, ConfigurationError, Record
from logflume.routing import (
    PathTemplate,
    Period,
    Router,
    confine,
    module_of,
    period_of,
    sanitize_component,
)

SAFE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
DAY = Period("2026-11-25", "")


def rec(logger: str = "app", level: int = INFO, **fields: object) -> Record:
    return Record(0, level, logger, "m", {}, fields)


@given(st.text(max_size=300))
def test_any_text_becomes_one_safe_file_name(text: str) -> None:
    name = sanitize_component(text, max_len=64)
    assert SAFE.match(name), name
    assert name not in (".", "..")
    assert len(name) <= 64
    assert sanitize_component(text, max_len=64) == name


@pytest.mark.parametrize(
    "hostile",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        ".",
        "",
        "a/b",
        "a\\b",
        "nul\x00byte",
        "ctl\x1b[31m\n",
        "x" * 10_000,
        "café",
        ".hidden",
    ],
)
def test_hostile_names_cannot_leave_the_directory(tmp_path: Path, hostile: str) -> None:
    name = sanitize_component(hostile)
    assert "/" not in name and "\x00" not in name and not name.startswith(".")
    assert len(name) <= 100
    assert confine(tmp_path, name).parent == tmp_path


def test_plain_names_are_kept_and_changed_ones_get_a_distinguishing_hash() -> None:
    assert sanitize_component("shop.cart-v2_x") == "shop.cart-v2_x"
    assert sanitize_component("a/b") != sanitize_component("a_b")
    assert sanitize_component("a/b").startswith("a_b-")
    long = sanitize_component("y" * 10_000)
    assert len(long) == 100 and long != sanitize_component("y" * 9_999)


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "/etc/passwd", "a\x00b", ".", "a/.."])
def test_confine_rejects_paths_outside_the_root(tmp_path: Path, relative: str) -> None:
    with pytest.raises(ValueError):
        confine(tmp_path, relative)


@pytest.mark.parametrize(
    "template",
    [
        "{date}/{nope}.jsonl",
        "/abs/{category}",
        "../{category}",
        "a//{category}",
        "{category:>10}",
        "{category!r}",
        "a/./{category}",
        "{category",
        "a\\{category}",
    ],
)
def test_bad_templates_are_refused_at_configure_time(template: str) -> None:
    with pytest.raises(ConfigurationError):
        PathTemplate(template)


def test_template_placeholders_are_filled_from_the_record_and_the_period() -> None:
    router = Router("{service}/{date}-{hour}/{level}/{category}.jsonl", None, service="shop")
    period = period_of(86_400 * 365 + 3 * 3600)  # 1971-01-01 03:00 UTC
    assert period == Period("1971-01-01", "03")
    assert router.paths(
        router.key(rec("api", WARNING)), router.period(86_400 * 365 + 3 * 3600)
    ) == ("shop/1971-01-01-03/warning/api.jsonl",)
    assert router.paths(router.key(rec("api", service="../x")), period)[0].startswith("_._x-")


def test_category_is_the_first_dotted_parts_of_the_logger_name() -> None:
    router = Router("{category}.jsonl", None, category_depth=2)
    assert router.paths(router.key(rec("shop.cart.payment")), DAY) == ("shop.cart.jsonl",)
    assert router.paths(router.key(rec("shop")), DAY) == ("shop.jsonl",)


def test_category_can_come_from_a_field_with_a_default_when_missing() -> None:
    router = Router("{category}.jsonl", None, category_from="tenant", default_category="none")
    assert router.paths(router.key(rec(tenant="acme")), DAY) == ("acme.jsonl",)
    bound = Record(0, INFO, "app", "m", {"tenant": 42}, {})
    assert router.paths(router.key(bound), DAY) == ("42.jsonl",)
    assert router.paths(router.key(rec()), DAY) == ("none.jsonl",)


def test_level_files_get_copies_at_or_above_their_level() -> None:
    router = Router(
        "{date}/{category}.jsonl",
        {"warning": "{date}/warning.jsonl", "error": "{date}/error.jsonl"},
    )
    paths = {
        lv: router.paths(router.key(rec("api", lv)), DAY)
        for lv in (DEBUG, INFO, WARNING, ERROR, CRITICAL)
    }
    assert paths[DEBUG] == paths[INFO] == ("2026-11-25/api.jsonl",)
    assert paths[WARNING] == ("2026-11-25/api.jsonl", "2026-11-25/warning.jsonl")
    assert paths[ERROR] == paths[CRITICAL] == ("2026-11-25/api.jsonl", "2026-11-25/error.jsonl")


def test_a_category_named_like_a_level_file_does_not_write_into_it() -> None:
    router = Router("{date}/{category}.jsonl", {"error": "{date}/error.jsonl"})
    main, level_file = router.paths(router.key(rec("error", ERROR)), DAY)
    assert level_file == "2026-11-25/error.jsonl"
    assert main != level_file and main.startswith("2026-11-25/error_category-")


def test_bad_router_options_name_what_to_change() -> None:
    with pytest.raises(ConfigurationError, match="category_depth"):
        Router(category_depth=0)
    with pytest.raises(ConfigurationError, match="level_files"):
        Router(level_files={"loud": "x.jsonl"})


def test_module_of_uses_the_import_path() -> None:
    import logflume.routing as module

    assert module_of(module.__file__ or "") == "logflume.routing"
    assert (
        module_of(os.path.join(os.path.dirname(module.__file__ or ""), "__init__.py")) == "logflume"
    )
    assert module_of("/nowhere/at/all/thing.py") == "thing"

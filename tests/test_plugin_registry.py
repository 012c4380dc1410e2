"""The plugin registry both worlds share: duplicates, replace=True, the one-world form, the
missing world, and third-party plugins found through the ``aws_wrapper.plugins`` entry-point
group (a fake distribution on sys.path). Pure logic: no server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper import plugin_registry as registry
from aws_wrapper.errors import ConfigurationError, DuplicatePluginError
from aws_wrapper.plugin_registry import PluginSpec, find_plugin, register_plugin
from aws_wrapper.properties import Properties, lookup, parse_properties
from tests.plugin_registrations import ASYNC_COUNTING, SYNC_COUNTING

CODES = ("test_reg_a", "test_reg_b", "test_reg_compat", "test_ep_spec", "test_ep_registrar")


@pytest.fixture(autouse=True)
def forget_test_plugins() -> Iterator[None]:
    yield
    for code in CODES:
        registry._unregister(code)
    registry._forget_entry_points()


def _factory(service: Any, props: Properties) -> Any:
    return None


def _other(service: Any, props: Properties) -> Any:
    return None


def test_registering_a_code_twice_raises_unless_replace() -> None:
    first = register_plugin("test_reg_a", aio=_factory, weight=10, doc="first")
    with pytest.raises(DuplicatePluginError, match="'test_reg_a' is already registered"):
        register_plugin("test_reg_a", aio=_other, weight=10, doc="first")
    with pytest.raises(DuplicatePluginError, match="replace=True"):
        register_plugin("test_reg_a", aio=_factory, weight=20, doc="first")  # other weight
    assert find_plugin("test_reg_a") is first
    # identical: nothing happens (a module imported twice)
    assert register_plugin("test_reg_a", aio=_factory, weight=10, doc="first") is first
    second = register_plugin("test_reg_a", aio=_other, weight=20, doc="second", replace=True)
    assert find_plugin("test_reg_a") is second and second.async_factory is _other


def test_registering_a_taken_alias_raises_unless_replace() -> None:
    register_plugin("test_reg_a", aio=_factory, weight=10, aliases=("test_reg_alias",))
    with pytest.raises(DuplicatePluginError, match="already an alias of plugin 'test_reg_a'"):
        register_plugin("test_reg_b", aio=_factory, weight=10, aliases=("test_reg_alias",))
    with pytest.raises(DuplicatePluginError, match="the code of another plugin"):
        register_plugin("test_reg_b", aio=_factory, weight=10, aliases=("test_reg_a",))
    with pytest.raises(DuplicatePluginError, match="the code of another plugin"):
        register_plugin("test_reg_b", aio=_factory, weight=10, aliases=("failover_v2",))
    with pytest.raises(DuplicatePluginError):  # a built-in alias
        register_plugin("test_reg_b", aio=_factory, weight=10, aliases=("failover",))
    assert find_plugin("test_reg_b") is None
    b = register_plugin(
        "test_reg_b", aio=_factory, weight=10, aliases=("test_reg_alias",), replace=True
    )
    assert find_plugin("test_reg_alias") is b
    assert find_plugin("test_reg_a") is not None
    assert find_plugin("test_reg_a").aliases == ()  # type: ignore[union-attr]


def test_a_built_in_code_cannot_be_taken_by_accident() -> None:
    with pytest.raises(DuplicatePluginError, match="'failover_v2' is already registered"):
        register_plugin("failover_v2", aio=_factory, weight=400)
    spec = find_plugin("failover")
    assert spec is not None and spec.code == "failover_v2"


def test_the_one_world_form_of_each_package_completes_the_plugin() -> None:
    """``register_plugin(code, factory, weight, doc)``, the form before the shared registry,
    registers the factory for the world of the package it is called from."""
    aws_wrapper.aio.register_plugin("test_reg_compat", _factory, 10, "compat")
    spec = find_plugin("test_reg_compat")
    assert spec is not None and spec.aio is _factory and spec.sync is None
    aws_wrapper.register_plugin("test_reg_compat", _other, 10, "compat")
    spec = find_plugin("test_reg_compat")
    assert spec is not None and spec.async_factory is _factory and spec.sync_factory is _other
    with pytest.raises(DuplicatePluginError):  # each world once
        aws_wrapper.register_plugin("test_reg_compat", _factory, 10, "compat")


def test_a_world_without_a_class_is_named() -> None:
    spec = register_plugin("test_reg_a", aio=ASYNC_COUNTING, weight=10)
    assert spec.async_factory.__name__ == "CountingPlugin"
    with pytest.raises(ConfigurationError) as info:
        spec.sync_factory  # noqa: B018
    message = str(info.value)
    assert "'test_reg_a' has no class for blocking code (aws_wrapper)" in message
    assert "async code (aws_wrapper.aio) only" in message and "sync=" in message


def test_bad_registrations() -> None:
    with pytest.raises(ConfigurationError, match="at least one world"):
        register_plugin("test_reg_a", weight=1)
    with pytest.raises(ConfigurationError, match="module:attribute"):
        register_plugin("test_reg_a", aio="no_colon_here", weight=1)
    with pytest.raises(ConfigurationError, match="commas"):
        register_plugin("test,reg", aio=_factory, weight=1)
    spec = register_plugin("test_reg_a", sync="tests.plugin_registrations:Missing", weight=1)
    with pytest.raises(ConfigurationError, match="has no Missing"):
        spec.sync_factory  # noqa: B018


def _fake_distribution(root: Path, name: str, module: str, entry_points: str, code: str) -> None:
    """A distribution ``name`` with ``entry_points`` (lines of [aws_wrapper.plugins]), and
    its top-level module ``module`` holding ``code``, on a directory of sys.path."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[aws_wrapper.plugins]\n{entry_points}\n")
    (root / f"{module}.py").write_text(code)


EP_MODULE = f'''
from aws_wrapper.plugin_registry import PluginSpec, register_plugin
from aws_wrapper.properties import Prop

SPEC = PluginSpec(
    "test_ep_spec", 700, "from an entry point",
    aio="{ASYNC_COUNTING}", sync="{SYNC_COUNTING}",
    properties=(Prop("test_ep_level_prop", str, "low", "test", choices=("low", "high")),),
)

def register():
    register_plugin("test_ep_registrar", aio="{ASYNC_COUNTING}", weight=700)

NOT_A_PLUGIN = 42
'''


@pytest.fixture
def fake_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    _fake_distribution(
        tmp_path,
        "aws-wrapper-test-plugins",
        "aws_wrapper_test_ep",
        "spec = aws_wrapper_test_ep:SPEC\n"
        "registrar = aws_wrapper_test_ep:register\n"
        "number = aws_wrapper_test_ep:NOT_A_PLUGIN\n"
        "gone = aws_wrapper_test_ep_missing:register",
        EP_MODULE,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._forget_entry_points()
    yield
    sys.modules.pop("aws_wrapper_test_ep", None)


def test_entry_points_are_loaded_once_when_a_name_is_not_known(fake_plugins: None) -> None:
    # a property of an entry-point plugin is known at the first connect that uses it
    props = parse_properties({"test_ep_level_prop": "high"}, frozenset(), "test")
    assert props.wrapper == {"test_ep_level_prop": "high"}
    spec = find_plugin("test_ep_spec")
    assert isinstance(spec, PluginSpec) and spec.weight == 700
    assert spec.sync_factory.__module__ == "tests._sync.counting_plugin"
    registrar = find_plugin("test_ep_registrar")
    assert registrar is not None and registrar.sync is None
    failures = registry.entry_point_failures()
    assert len(failures) == 2
    assert any("'number'" in f and "not a PluginSpec or a callable" in f for f in failures)
    assert any("'gone'" in f and "aws-wrapper-test-plugins" in f for f in failures)
    assert "test_ep_spec" in registry.plugin_codes()
    assert not registry.load_entry_points()  # once
    with pytest.raises(aws_wrapper.UnknownPluginError, match="'gone'"):
        registry.parse_plugin_codes(Properties({"plugins": "test_ep_nothing"}, {}))
    assert lookup("test_ep_level_prop") is not None


def test_entry_points_are_loaded_when_listing_codes(fake_plugins: None) -> None:
    assert "test_ep_registrar" in registry.plugin_codes()

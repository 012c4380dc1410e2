"""The property registry: parsing, validation, masking (pure logic)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aws_wrapper.drivers._base import parse_pg_conninfo
from aws_wrapper.errors import ConfigurationError, PropertyError
from aws_wrapper.properties import (
    AUTO_SORT_PLUGIN_ORDER,
    LOGGER_LEVEL,
    PLUGINS,
    Prop,
    Properties,
    describe,
    is_secret,
    lookup,
    mask,
    parse_properties,
    register,
    registry,
)

DRIVER = frozenset({"host", "port", "user", "password", "dbname"})


def test_split_wrapper_and_driver_properties() -> None:
    props = parse_properties(
        {"host": "h", "password": "pw", "plugins": "dev", "auto_sort_wrapper_plugin_order": "no"},
        DRIVER,
        "psycopg",
    )
    assert props.driver == {"host": "h", "password": "pw"}
    assert props.get(PLUGINS) == "dev"
    assert props.get(AUTO_SORT_PLUGIN_ORDER) is False
    assert props.is_set(PLUGINS) and not props.is_set(LOGGER_LEVEL)
    assert props.get(LOGGER_LEVEL) is None  # the default


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("FALSE", False), ("1", True), ("off", False), (True, True), (0, False)],
)
def test_bool_values(raw: object, expected: bool) -> None:
    assert AUTO_SORT_PLUGIN_ORDER.parse(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", 2, 1.5, None, "  "])
def test_bad_bool_names_the_property(raw: object) -> None:
    with pytest.raises(PropertyError) as info:
        AUTO_SORT_PLUGIN_ORDER.parse(raw)
    assert info.value.prop == "auto_sort_wrapper_plugin_order"
    assert "auto_sort_wrapper_plugin_order" in str(info.value)
    assert "a boolean" in str(info.value)


def test_numbers_choices_and_minimum() -> None:
    count = Prop("test_count_prop", int, 3, "test", minimum=1)
    ratio = Prop("test_ratio_prop", float, 0.5, "test")
    mode = Prop("test_mode_prop", str, "a", "test", choices=("a", "b"))
    assert count.parse("7") == 7 and ratio.parse("2") == 2.0 and ratio.parse(3) == 3.0
    assert mode.parse("b") == "b"
    for prop, bad in ((count, "x"), (count, True), (count, 2.5), (ratio, "nan-ish"), (mode, 1)):
        with pytest.raises(PropertyError, match=prop.name):
            prop.parse(bad)
    with pytest.raises(PropertyError, match="below the minimum"):
        count.parse(0)
    with pytest.raises(PropertyError, match="not one of a, b"):
        mode.parse("c")


def test_unknown_property_suggests_the_close_name() -> None:
    with pytest.raises(PropertyError) as info:
        parse_properties({"plugin": "dev"}, DRIVER, "psycopg")
    assert info.value.prop == "plugin"
    assert "'plugins'" in str(info.value) and "psycopg" in str(info.value)
    with pytest.raises(PropertyError, match="'dbname'"):
        parse_properties({"dbnam": "x"}, DRIVER, "psycopg")


def test_driver_accepting_anything_gets_unknown_names() -> None:
    props = parse_properties({"whatever": 1}, None, "custom")
    assert props.driver == {"whatever": 1}


def test_secrets_are_masked_everywhere() -> None:
    secret = Prop("test_api_key_prop", str, "", "test", secret=True)
    register(secret)
    props = Properties(
        {"test_api_key_prop": "k3y-value", "plugins": "dev"},
        {"password": "hunter2", "user": "app", "sslpassword": "x1y2"},
    )
    shown = repr(props) + str(props.masked())
    for value in ("k3y-value", "hunter2", "x1y2"):
        assert value not in shown
    assert "app" in shown and "dev" in shown
    assert mask({"idp_password": "p", "secrets_manager_secret_id": "arn:x"}) == {
        "idp_password": "***",
        "secrets_manager_secret_id": "arn:x",
    }
    assert is_secret("password") and is_secret("iam_token") and not is_secret("user")
    with pytest.raises(PropertyError) as info:
        Prop("db_password_prop", int, 0, "test").parse("hunter2")
    assert "hunter2" not in str(info.value)


def test_registry_describes_every_property() -> None:
    text = describe()
    for name in registry():
        assert name in text
    with pytest.raises(RuntimeError):
        register(Prop("plugins", int, 0, "a second, different declaration"))


def test_copy_and_prefix() -> None:
    props = Properties({"monitoring-connect_timeout": "3", "plugins": "dev"}, {"user": "u"})
    assert props.with_prefix("monitoring-") == {"connect_timeout": "3"}
    other = props.copy(driver={"user": "v"})
    assert other.driver["user"] == "v" and props.driver["user"] == "u"


@pytest.mark.parametrize(
    ("conninfo", "expected"),
    [
        ("host=h port=5433 dbname=app", {"host": "h", "port": "5433", "dbname": "app"}),
        (
            "host = h  password='a b\\'c' plugins=dev",
            {"host": "h", "password": "a b'c", "plugins": "dev"},
        ),
        ("password=p\\ q", {"password": "p q"}),
        ("", {}),
        (
            "postgresql://u:p%40ss@db.example:6543/app?sslmode=disable&plugins=dev",
            {
                "user": "u",
                "password": "p@ss",
                "host": "db.example",
                "port": 6543,
                "dbname": "app",
                "sslmode": "disable",
                "plugins": "dev",
            },
        ),
        ("postgres://[::1]/db", {"host": "::1", "dbname": "db"}),
    ],
)
def test_pg_conninfo(conninfo: str, expected: dict[str, object]) -> None:
    assert parse_pg_conninfo(conninfo) == expected


@pytest.mark.parametrize("bad", ["host", "host=h 'x'", "password='unterminated", "a b=c"])
def test_malformed_conninfo_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="conninfo"):
        parse_pg_conninfo(bad)


def test_pep249_module_surface() -> None:
    import datetime

    import aws_wrapper
    import aws_wrapper.aio
    from aws_wrapper import errors

    for face in (aws_wrapper, aws_wrapper.aio):
        assert face.apilevel == "2.0" and face.paramstyle == "pyformat"
        for name in (
            "Warning",
            "Error",
            "InterfaceError",
            "DatabaseError",
            "DataError",
            "OperationalError",
            "IntegrityError",
            "InternalError",
            "ProgrammingError",
            "NotSupportedError",
        ):
            assert getattr(face, name) is getattr(errors, name)
        assert face.Date(2024, 1, 2) == datetime.date(2024, 1, 2)
        assert face.NUMBER == "int8" and face.STRING != "int8"
    assert issubclass(errors.FailoverSuccessError, errors.OperationalError)
    assert issubclass(errors.TransactionResolutionUnknownError, errors.FailoverError)
    assert issubclass(errors.FailoverFailedError, errors.AwsWrapperError)
    assert issubclass(errors.PropertyError, errors.InterfaceError)
    assert issubclass(errors.LoginError, errors.ConnectError)


def test_docs_list_every_property() -> None:
    from pathlib import Path

    import aws_wrapper.aio  # noqa: F401 - every module that declares properties is loaded

    page = (Path(__file__).resolve().parent.parent / "docs" / "properties.md").read_text()
    missing = [name for name in registry() if f"`{name}`" not in page and "_prop" not in name]
    assert not missing, f"docs/properties.md does not describe {missing}"


def test_every_plugin_property_is_known_before_any_plugin_loads() -> None:
    """Properties are checked before plugins are built (and plugin modules load lazily):
    their declarations must not live in the lazily imported plugin modules."""
    import aws_wrapper.aio  # noqa: F401

    props = parse_properties(
        {
            "reader_host_selector_strategy": "random",
            "read_write_splitting_fallback_to_writer": "false",
            "failure_detection_time_ms": "5",
            "failover_timeout_sec": 3,
            "custom_endpoint_region": "us-east-1",
            "round_robin_default_weight": 2,
            "monitoring-connect_timeout": 1,
        },
        frozenset(),
        "test",
    )
    assert not props.driver and len(props.wrapper) == 7


def _numeric_properties() -> list[Prop[Any]]:
    import aws_wrapper.aio
    import aws_wrapper.sync  # noqa: F401 - every module that declares properties

    found = [p for p in registry().values() if p.numeric]
    assert len(found) > 20  # the registry, not a hand-made list
    return found


NON_FINITE = [float("nan"), float("inf"), float("-inf"), "nan", "NaN", "inf", "-Infinity"]


@pytest.mark.parametrize("prop", _numeric_properties(), ids=lambda p: p.name)
def test_every_numeric_property_has_a_finite_range(prop: Prop[Any]) -> None:
    assert prop.minimum is not None and prop.maximum is not None
    assert prop.minimum <= prop.maximum <= 86_400_000  # a day in ms at most
    if prop.default is not None:
        assert prop.parse(prop.default) == prop.default
    assert prop.parse(prop.minimum) == prop.minimum
    assert prop.parse(str(int(prop.maximum))) == prop.maximum
    too_small = prop.minimum - (1 if prop.type is int else 0.001)
    bad: list[object] = [*NON_FINITE, prop.maximum + 1, too_small, 10**30, str(10**30)]
    for raw in bad:
        with pytest.raises(PropertyError) as info:
            prop.parse(raw)
        assert info.value.prop == prop.name
        assert prop.name in str(info.value), str(info.value)
        assert f"{prop.accepted_range()}" in str(info.value), str(info.value)


def test_a_numeric_property_without_bounds_cannot_be_declared() -> None:
    with pytest.raises(RuntimeError, match="minimum and a maximum"):
        register(Prop("test_unbounded_ms", int, 1, "test", minimum=0))
    assert lookup("test_unbounded_ms") is None


def test_docs_give_the_range_of_every_numeric_property() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "properties.md").read_text()
    section = page.split("## Numeric ranges", 1)[1]
    for prop in _numeric_properties():
        assert f"| `{prop.name}` | {prop.accepted_range()} |" in section, prop.name

"""Tests of the one loader of "module:attribute" plug-ins (engines and executors)."""

from __future__ import annotations

import collections

import pytest

from narrate.errors import ConfigError
from narrate.plugins import is_plugin_name, load_plugin


@pytest.mark.parametrize(
    ("name", "well_formed"),
    [
        ("tone_engine:ToneEngine", True),
        ("package.module:factory", True),
        ("local", False),
        (":factory", False),
        ("module:", False),
        ("", False),
    ],
)
def test_a_plugin_name_is_module_colon_attribute(name: str, well_formed: bool) -> None:
    assert is_plugin_name(name) is well_formed


def test_load_plugin_imports_the_module_and_gives_the_attribute() -> None:
    assert load_plugin("collections:OrderedDict", "the thing") is collections.OrderedDict


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("no_such_module:make", "No module named 'no_such_module'"),
        ("collections:no_such_thing", "has no attribute 'no_such_thing'"),
        (":factory", "Empty module name"),
        ("..relative:factory", "relative import"),
    ],
)
def test_what_cannot_be_loaded_is_one_config_error_saying_what_it_was_for(
    name: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_plugin(name, "the speech engine")
    message = str(raised.value)
    assert message.startswith(f"cannot load the speech engine {name!r}: ")
    assert reason in message
    assert raised.value.exit_code == 2
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_malformed_engine_name_is_one_line_not_a_traceback() -> None:
    from click.testing import CliRunner

    from narrate.cli import main

    result = CliRunner().invoke(main, ["voices", "--engine", ":x"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "narrate: error: cannot load the speech engine ':x': Empty module name"
    ]

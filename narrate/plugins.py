"""Plug-ins named "package.module:attribute": speech engines (``--engine``) and executors
(``--executor``) alike.

One loader, so both options read the name the same way and fail with the same kind of
one-line message.
"""

from __future__ import annotations

import importlib
from typing import Any

from narrate.errors import ConfigError


def is_plugin_name(name: str) -> bool:
    """Whether ``name`` has the form "module:attribute", both parts present."""
    module_name, colon, attribute = name.partition(":")
    return bool(colon and module_name and attribute)


def load_plugin(name: str, what: str) -> Any:
    """The attribute that ``name`` ("package.module:attribute") names, its module imported.

    ``what`` says what the plug-in is for in the message ("the speech engine"): a missing
    module or attribute raises ConfigError "cannot load the speech engine 'x:y': <why>".
    """
    module_name, _, attribute = name.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError, TypeError) as error:  # ":x", "..x"
        raise ConfigError(f"cannot load {what} {name!r}: {error}") from None

"""narrate: turn a story into a multi-voice audiobook — tagged, chaptered MP3s, offline.

From Python::

    import narrate
    script = narrate.script("story.txt")             # who says what, in which voice
    result = narrate.render("story.txt", out="out")  # OUT/<Author>/<Title>/NN - ….mp3
    narrate.cast("story.txt")                        # write ./voices.yaml to edit
    sample = narrate.preview("Mara", "story.txt")   # ./preview-Mara Penhallow.mp3

The four are :mod:`narrate.pipeline`'s own functions, with their full signatures; the
pipeline is imported on first use, so ``import narrate`` (and the command line's start)
stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

from narrate.errors import ConfigError, NarrateError

if TYPE_CHECKING:
    from narrate.pipeline import cast, preview, render, script

_PIPELINE = ("cast", "preview", "render", "script")


def __getattr__(name: str):
    if name in _PIPELINE:
        from narrate import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'narrate' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PIPELINE])


__all__ = ["ConfigError", "NarrateError", "__version__", "cast", "preview", "render", "script"]

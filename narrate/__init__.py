"""narrate: turn a story into a multi-voice audiobook — tagged, chaptered MP3s, offline.

From Python::

    import narrate
    script = narrate.script("story.txt")             # who says what, in which voice
    result = narrate.render("story.txt", out="out")  # OUT/<Author>/<Title>/NN - ….mp3
    narrate.cast("story.txt")                        # write ./voices.yaml to edit
    sample = narrate.preview("Mara", "story.txt")   # ./preview-Mara Penhallow.mp3
"""

from __future__ import annotations

__version__ = "0.1.0"

from narrate.errors import ConfigError, NarrateError


def script(path, **options):
    """Read, attribute and cast a story; see :func:`narrate.pipeline.script`."""
    from narrate.pipeline import script as _script

    return _script(path, **options)


def render(path, **options):
    """Render a story to tagged MP3 chapters; see :func:`narrate.pipeline.render`."""
    from narrate.pipeline import render as _render

    return _render(path, **options)


def cast(path, **options):
    """Give a story's speakers voices in the voices file; see :func:`narrate.pipeline.cast`."""
    from narrate.pipeline import cast as _cast

    return _cast(path, **options)


def preview(character, path=None, **options):
    """Speak a few lines in one character's voice; see :func:`narrate.pipeline.preview`."""
    from narrate.pipeline import preview as _preview

    return _preview(character, path, **options)


__all__ = ["ConfigError", "NarrateError", "__version__", "cast", "preview", "render", "script"]

"""Shared test set-up: the speech cache lives in a temporary folder, never the user's; a
click runner for the tests that drive the command line through it."""

import pytest
from click.testing import CliRunner

from narrate.speech.cache import CACHE_ENV


@pytest.fixture(autouse=True, scope="session")
def _private_speech_cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("speech-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv(CACHE_ENV, str(folder))
    yield folder
    patch.undo()


@pytest.fixture
def runner():
    return CliRunner()

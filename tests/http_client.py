"""A plain HTTP client for the tests of ``narrate serve``: what a podcast app would get."""

from __future__ import annotations

import urllib.error
import urllib.request


def fetch(url: str, headers: dict | None = None):
    """(status, headers, body) of a GET of ``url``, error statuses included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()

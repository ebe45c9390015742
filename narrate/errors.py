"""The one exception type for problems a user can fix."""

from __future__ import annotations

#: Exit codes the command line uses.
EXIT_FAILURE = 1
EXIT_USAGE = 2


class NarrateError(Exception):
    """A problem to report to the user as one line, with an exit code.

    Raised where the problem is detected; the command line prints the message once and
    exits with ``exit_code`` (1: the work failed, 2: bad usage or bad configuration).
    """

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class ConfigError(NarrateError):
    """Bad input or configuration: exit code 2, nothing rendered."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)

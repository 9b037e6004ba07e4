"""The plane's own lines, through `logging`: one format, levels, LAMBDA_LOCAL_LOG_LEVEL.

    lambda_local: <message>

INFO (what happens: started, reloaded, resumed) goes to standard output, WARNING and above (what does
not run as declared, what failed and is retried) to standard error, as the plane always printed them;
LAMBDA_LOCAL_LOG_LEVEL=WARNING keeps only the latter, DEBUG adds more. The delivery lines (one JSON
object per delivery, invocation/deliveries.py) are data, not log lines: printed whatever the level, for
`make events` and the console. A line about one function names it: `make logs FUNCTION=<name>`.
"""

from __future__ import annotations

import logging
import sys

LOG = logging.getLogger("lambda_local")


class _Stream(logging.Handler):
    """To standard output or error as they are when a line is written (a test's capture included)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stdout if record.levelno < logging.WARNING else sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream never stops the plane
            self.handleError(record)


def setup(level: str = "INFO") -> None:
    """The plane's lines at `level` and above (INFO if it names no level)."""
    LOG.setLevel(getattr(logging, level.upper(), logging.INFO))


_handler = _Stream()
_handler.setFormatter(logging.Formatter("lambda_local: %(message)s"))
LOG.addHandler(_handler)
LOG.setLevel(logging.INFO)
LOG.propagate = False

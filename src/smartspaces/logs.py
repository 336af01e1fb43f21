"""Structured logging to stderr (stdout stays clean for ``--json`` output)."""

from __future__ import annotations

import logging
import sys

import structlog


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now, not what it was when logging was set up (a
    test runner or an embedding program may swap it, and close the old one)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(quiet: bool) -> None:
    """Key-value logs on stderr; ``quiet`` keeps only warnings and errors."""
    level = logging.WARNING if quiet else logging.INFO
    logging.basicConfig(stream=_CurrentStderr(), level=level, format="%(message)s", force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )

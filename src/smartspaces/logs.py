"""Structured logging to stderr (stdout stays clean for ``--json`` output)."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(quiet: bool) -> None:
    """Key-value logs on stderr; ``quiet`` keeps only warnings and errors."""
    level = logging.WARNING if quiet else logging.INFO
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per migration is noise
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )

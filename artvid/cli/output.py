"""Where a command's words go: logs and progress to stderr, the ``--json`` summary to stdout."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click


class _BarAwareHandler(logging.StreamHandler):
    """Writes each record through ``tqdm.write``, which lifts any progress bar off the line, writes,
    and draws the bar again below, so that a warning mid-render gets a line of its own instead of
    being glued onto the bar's."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm import tqdm

        try:
            tqdm.write(self.format(record), file=self.stream)
        except Exception:  # as StreamHandler.emit: a broken stream must not stop the render
            self.handleError(record)


def setup_logging(quiet: bool) -> None:
    """Library logs on stderr as ``artvid: …``; warnings only with ``-q``."""
    handler = _BarAwareHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("artvid: %(message)s"))
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, handlers=[handler])


def echo_json(summary: Any) -> None:
    """The machine-readable summary, alone on stdout."""
    click.echo(json.dumps(summary))


def note(message: str) -> None:
    """A closing human-readable line on stderr."""
    click.echo(f"artvid: {message}", err=True)


def plural(count: int, noun: str) -> str:
    """``1 frame``, ``2 frames``, ``1 pass``, ``3 passes``."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}{'es' if noun.endswith('s') else 's'}"

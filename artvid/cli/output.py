"""Where a command's words go: logs and progress to stderr, the ``--json`` summary to stdout."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click


def setup_logging(quiet: bool) -> None:
    """Library logs on stderr as ``artvid: …``; warnings only with ``-q``."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO, format="artvid: %(message)s", stream=sys.stderr
    )


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

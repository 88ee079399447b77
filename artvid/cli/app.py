"""The ``artvid`` group: commands loaded on demand, library errors mapped to one clear line."""

from __future__ import annotations

import importlib
import signal
import threading
from contextlib import contextmanager

import click

from artvid import __version__
from artvid.cli.options import CONTEXT_SETTINGS
from artvid.errors import ArtvidError

COMMANDS = {
    "compare": "artvid.cli.compare:compare_command",
    "flow": "artvid.cli.flow:flow_command",
    "image": "artvid.cli.image:image_command",
    "render": "artvid.cli.render:render_command",
}
"""Command name -> ``module:attribute``, imported only when the command runs or lists its help."""


class LazyGroup(click.Group):
    """Turns library errors into one line and exit code 1, Ctrl-C into a resume hint.

    Each command's module is imported on demand: ``render`` and ``image`` derive their options
    from the stylizer's config, which needs torch, and ``artvid flow`` on a full cache should
    answer in about a second without loading it.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attribute = COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            with _sigterm_as_interrupt():
                return super().invoke(ctx)
        except ArtvidError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            # Asked of the flag, not the exception: Ray's waits raise an interrupt of their own
            # for the one the handler raised.
            terminated = _SIGTERM.is_set()
            how = "stopped (SIGTERM)" if terminated else "interrupted"
            click.echo(f"\nartvid: {how}; finished work is kept: run the same command again to resume", err=True)
            ctx.exit(128 + signal.SIGTERM if terminated else 130)
        except Exception as exc:  # the flow package's own errors and file-system errors
            import flow

            if isinstance(exc, (flow.FlowError, OSError)):
                raise click.ClickException(str(exc)) from None
            raise


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a job scheduler, ``docker stop``), handled as Ctrl-C is."""


_SIGTERM = threading.Event()
"""Set once a SIGTERM arrived while a command ran."""


def _raise_terminated(signum, frame):
    _SIGTERM.set()
    raise Terminated()


@contextmanager
def _sigterm_as_interrupt():
    """While a command runs, SIGTERM stops it the way Ctrl-C does: the work directory's lock is
    released, flow threads and a Ray cluster of artvid's own are shut down, and the resume hint
    is printed, instead of the process vanishing without a word (or, on Ray, printing Ray's stack
    dump and leaving its cluster running).
    """
    # Signals are the main thread's; a SIGTERM ignored by whoever started us stays ignored.
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        yield
        return
    _SIGTERM.clear()
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="artvid")
def main() -> None:
    """Artistic style transfer for videos (Ruder, Dosovitskiy and Brox): stable painted video."""

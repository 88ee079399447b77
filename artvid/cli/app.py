"""The ``artvid`` group: commands loaded on demand, library errors mapped to one clear line."""

from __future__ import annotations

import importlib

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
            return super().invoke(ctx)
        except ArtvidError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("\nartvid: interrupted; finished work is kept: run the same command again to resume", err=True)
            ctx.exit(130)
        except Exception as exc:  # the flow package's own errors and file-system errors
            import flow

            if isinstance(exc, (flow.FlowError, OSError)):
                raise click.ClickException(str(exc)) from None
            raise


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="artvid")
def main() -> None:
    """Artistic style transfer for videos (Ruder, Dosovitskiy and Brox): stable painted video."""

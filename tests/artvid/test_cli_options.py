"""Every command keeps the option names it had before options were derived from the configs."""

import click
import pytest

from artvid.cli import main

# Captured from `artvid COMMAND --help` before the options were generated from the config fields.
OPTIONS_BEFORE = {
    "render": {
        "--blend-weight", "--cache-dir", "--check", "--coarse-to-fine", "--content-layers", "--content-weight",
        "--device", "--flow-method", "--fresh", "--init", "--init-first", "--iterations", "--iterations-first",
        "--json", "--learning-rate", "--long-term", "--no-original-colors", "--optimizer", "--original-colors",
        "--output", "--pass-iterations", "--passes", "--pooling", "--quality", "--quiet", "--seed", "--size",
        "--style", "--style-blend-weights", "--style-layers", "--style-scale", "--style-weight",
        "--temporal-from-pass", "--temporal-weight", "--tolerance", "--tv-weight", "--weights", "--work-dir",
        "--workers", "-o", "-q", "-h", "--help",
    },
    "image": {
        "--coarse-to-fine", "--content-layers", "--content-weight", "--device", "--init", "--iterations", "--json",
        "--learning-rate", "--no-original-colors", "--optimizer", "--original-colors", "--output", "--pooling",
        "--quiet", "--seed", "--size", "--style", "--style-blend-weights", "--style-layers", "--style-scale",
        "--style-weight", "--tolerance", "--tv-weight", "--weights", "-o", "-q", "-h", "--help",
    },
    "flow": {
        "--cache-dir", "--check", "--export", "--json", "--long-term", "--method", "--quiet", "--size", "--workers",
        "-q", "-h", "--help",
    },
    "compare": {
        "--baselines", "--cache-dir", "--device", "--flow-method", "--gt-flow", "--json", "--long-term", "--names",
        "--no-side-by-side", "--output", "--quality", "--quiet", "--size", "--style", "--workers", "-o", "-q",
        "-h", "--help",
    },
}
ARGUMENTS_BEFORE = {"render": ["clip"], "image": ["content"], "flow": ["clip"], "compare": ["content", "stylized"]}


def _command(name):
    group_ctx = main.make_context("artvid", [name], resilient_parsing=True)
    command = main.get_command(group_ctx, name)
    return command, command.make_context(name, [], parent=group_ctx, resilient_parsing=True)


def option_names(name):
    command, ctx = _command(name)
    return {opt for param in command.get_params(ctx) if isinstance(param, click.Option)
            for opt in param.opts + param.secondary_opts}


@pytest.mark.parametrize("name", sorted(OPTIONS_BEFORE))
def test_every_command_keeps_its_option_names(name):
    assert OPTIONS_BEFORE[name] <= option_names(name)
    command, _ = _command(name)
    assert [p.name for p in command.params if isinstance(p, click.Argument)] == ARGUMENTS_BEFORE[name]

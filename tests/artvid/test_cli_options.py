"""Options derived from the configs: every field is an option with its default (or hidden), and
every command keeps the option names it had before the options were derived."""

import dataclasses

import click
import pytest

from artvid.cli import main, options
from artvid.cli.fields import FieldOption, field_default
from artvid.compare import CompareConfig
from artvid.config import RenderConfig
from artvid.flowcache import FlowConfig
from artvid.multipass import FRESH_INITS, ScheduleConfig
from artvid.stylize import StylizeConfig

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


# Options added since the capture above: fields that had no option before. Pinned so that a
# renamed option shows up here as one missing and one unexpected name.
OPTIONS_ADDED = {
    "render": {
        "--lbfgs-history", "--tolerance-window", "--amp", "--no-amp", "--upscale", "--no-upscale", "--cuts",
        "--chunk-frames", "--backend", "--ray-address", "--ray-workers", "--gpus-per-worker", "--scales",
        "--scale-iterations", "--scale-iterations-first", "--warp-interpolation", "--carry",
        "--content-levels", "--tolerance-first",
    },
    "image": {"--lbfgs-history", "--tolerance-window", "--amp", "--no-amp", "--content-levels", "--tolerance-first"},
    "flow": {"--cuts", "--scales"},
    "compare": {"--weights", "--perceptual", "--no-perceptual", "--cuts", "--frames"},
}


@pytest.mark.parametrize("name", sorted(OPTIONS_BEFORE))
def test_options_added_are_the_new_fields_only(name):
    assert option_names(name) - OPTIONS_BEFORE[name] == OPTIONS_ADDED[name]


# Which command shows each config's fields, and under which section its values travel.
CONFIG_COMMANDS = [
    (StylizeConfig, "render", "stylize"),
    (ScheduleConfig, "render", "schedule"),
    (FlowConfig, "render", "flow"),
    (RenderConfig, "render", "render"),
    (FlowConfig, "flow", "flow"),
    (CompareConfig, "compare", "compare"),
    (StylizeConfig, "image", "stylize"),
    (ScheduleConfig, "image", "schedule"),
    (RenderConfig, "image", "render"),
]
RENDER_STAGES = {"stylize", "flow", "schedule"}
# Fields a command deliberately leaves out, with the reason.
NOT_ON_COMMAND = {
    ("image", "temporal_weight"): "a still image has no temporal term",
    **{("image", f): "a still image has one pass and no neighbours"
       for f in ("passes", "iterations", "pass_iterations", "init", "blend_weight", "temporal_from_pass", "cuts",
                 "chunk_frames")},
    ("image", "upscale"): "--size only ever shrinks a still image (load_image's max_side)",
    **{("image", f): "a still image's scales are --coarse-to-fine's" for f in ("scales", "scale_iterations", "scale_iterations_first")},
    **{("image", f): "a still image warps nothing" for f in ("warp_interpolation", "carry")},
}
# CompareConfig fields set from the run options (plain options shared by every command); compare's
# --device defaults to auto like the other commands, the dataclass to cpu for library callers.
FROM_RUN_OPTIONS = {"device": "auto", "workers": None, "cache_dir": None}


def _field_options(name, section):
    command, ctx = _command(name)
    return ctx, {p.field: p for p in command.params if isinstance(p, FieldOption) and p.section == section}


@pytest.mark.parametrize("cls, name, section", CONFIG_COMMANDS, ids=lambda v: getattr(v, "__name__", v))
def test_every_config_field_is_an_option_with_its_default_or_hidden(cls, name, section):
    ctx, options = _field_options(name, section)
    seen = set()
    for field in dataclasses.fields(cls):
        if cls is RenderConfig and field.name in RENDER_STAGES:
            continue  # walked as sections of their own
        seen.add(field.name)
        if field.metadata.get("hidden"):
            assert field.name not in options, f"{cls.__name__}.{field.name} is hidden but has an option"
            continue
        if (name, field.name) in NOT_ON_COMMAND:
            assert field.name not in options
            continue
        if cls is CompareConfig and field.name in FROM_RUN_OPTIONS:
            param = next(p for p in ctx.command.params if p.name == field.name)
            assert param.default == FROM_RUN_OPTIONS[field.name]
            continue
        assert field.name in options, f"{cls.__name__}.{field.name} has no option on `artvid {name}` and is not hidden"
        option = options[field.name]
        shown = option.process_value(ctx, option.get_default(ctx))
        assert shown == field_default(field), f"--{field.name} on {name}"
        if name != "image":  # image narrows the first-frame help to its own meaning
            assert option.help == field.metadata["help"]
    assert set(options) <= seen


def test_render_config_stages_are_all_walked():
    assert {f.name for f in dataclasses.fields(RenderConfig)} - {"size", "upscale"} == RENDER_STAGES
    assert RENDER_STAGES == {section for cls, name, section in CONFIG_COMMANDS if name == "render"} - {"render"}


def test_flow_size_option_matches_the_render_size_field():
    # `artvid flow` cannot derive --size from RenderConfig (that import loads torch).
    field = {f.name: f for f in dataclasses.fields(RenderConfig)}["size"]
    command, _ = _command("flow")
    size = next(p for p in command.params if p.name == "size")
    assert size.default == field.default and size.type.min == field.metadata["min"]


@pytest.mark.parametrize("name, option", [("render", "--flow-method"), ("flow", "--method"), ("compare", "--flow-method")])
def test_flow_method_choices_come_from_one_place(name, option):
    command, _ = _command(name)
    param = next(p for p in command.params if option in p.opts)
    assert list(param.type.choices) == list(options.flow_method_names())


@pytest.mark.parametrize("name", ["render", "image"])
def test_first_frame_init_offers_only_fresh_starts(name):
    command, _ = _command(name)
    param = next(p for p in command.params if isinstance(p, FieldOption) and p.field == "init_first")
    assert list(param.type.choices) == [i.value for i in FRESH_INITS] == options.fresh_init_names()


def test_run_options_have_one_definition():
    helps = {}
    for name in OPTIONS_BEFORE:
        command, _ = _command(name)
        for param in command.params:
            if param.name in ("device", "workers", "cache_dir", "quiet", "as_json"):
                helps.setdefault(param.name, set()).add(param.help)
    assert all(len(h) == 1 for h in helps.values()), helps

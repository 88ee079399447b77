"""Click options derived from dataclass fields: each annotation's mapping, and the values read back."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import click
import pytest
from click.testing import CliRunner

from artvid.cli.fields import As, FieldOption, field_options, pass_settings
from artvid.settings import setting


class Colour(str, enum.Enum):
    RED = "red"
    DARK_BLUE = "dark-blue"


@dataclass(frozen=True)
class Toy:
    flag: bool = setting(False, help="A flag.")
    count: int = setting(3, help="A count.", min=1)
    ratio: float = setting(0.5, help="A ratio.", min=0, min_open=True)
    plain: float = setting(2.0, help="Unbounded.")
    mode: Literal["fast", "slow"] = setting("fast", help="A mode.")
    colour: Colour = setting(Colour.DARK_BLUE, help="A colour.")
    names: tuple[str, ...] = setting(("a", "b"), help="Names.")
    offsets: tuple[int, ...] = setting((1,), help="Offsets.", min=1)
    weights: tuple[float, ...] | None = setting(None, help="Weights.")
    where: Path | None = setting(None, help="A path.")
    limit: int | None = setting(None, help="A limit.", min=16)
    secret: dict = setting(default_factory=dict, help="Set from Python.", hidden="not a command-line value")


def _command(explicit_only=False, **kwargs):
    seen = {}

    @click.command(context_settings={"show_default": True})
    @pass_settings(explicit_only=explicit_only)
    def toy(settings):
        seen.update(settings.get("toy", {}))

    toy.params.extend(field_options(Toy, "toy", **kwargs))
    return toy, seen


def _run(args, **kwargs):
    command, seen = _command(**kwargs)
    result = CliRunner().invoke(command, args)
    return result, seen


def test_defaults_come_back_as_the_field_values():
    result, seen = _run([])
    assert result.exit_code == 0, result.output
    assert seen == {
        "flag": False, "count": 3, "ratio": 0.5, "plain": 2.0, "mode": "fast", "colour": Colour.DARK_BLUE,
        "names": ("a", "b"), "offsets": (1,), "weights": None, "where": None, "limit": None,
    }


def test_each_type_parses_its_value():
    result, seen = _run(["--flag", "--count", "5", "--ratio", "2", "--plain", "-1", "--mode", "slow", "--colour", "red",
                         "--names", "x, y,", "--offsets", "1,10", "--weights", "1,3", "--where", "p", "--limit", "16"])
    assert result.exit_code == 0, result.output
    assert seen == {
        "flag": True, "count": 5, "ratio": 2.0, "plain": -1.0, "mode": "slow", "colour": Colour.RED,
        "names": ("x", "y"), "offsets": (1, 10), "weights": (1.0, 3.0), "where": Path("p"), "limit": 16,
    }
    assert isinstance(seen["colour"], Colour) and isinstance(seen["where"], Path)


def test_help_shows_kebab_names_defaults_ranges_and_field_help():
    command, _ = _command()
    text = CliRunner().invoke(command, ["--help"]).output
    for expected in ("--flag / --no-flag", "A flag.", "[default: no-flag]", "--count INTEGER RANGE", "x>=1",
                     "x>0", "[fast|slow]", "[red|dark-blue]", "[default: dark-blue]", "[default: a,b]", "x>=16"):
        assert expected in text, expected
    assert "--secret" not in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--count", "0"], "0 is not in the range x>=1"),
        (["--ratio", "0"], "x>0"),
        (["--mode", "medium"], "medium"),
        (["--colour", "dark_blue"], "dark_blue"),
        (["--offsets", "1,x"], "expected comma-separated integers >= 1, got '1,x' (Offsets.)"),
        (["--offsets", "0,2"], "expected comma-separated integers >= 1, got '0,2'"),
        (["--offsets", ","], "expected comma-separated integers >= 1, got ','"),
        (["--weights", "1,a"], "expected comma-separated numbers, got '1,a'"),
        (["--names", ""], "expected comma-separated names, got ''"),
    ],
)
def test_bad_values_are_one_clear_error(args, message):
    result, _ = _run(args)
    assert result.exit_code == 2 and message in result.output


def test_explicit_only_leaves_out_defaults():
    result, seen = _run(["--count", "3", "--no-flag"], explicit_only=True)
    assert result.exit_code == 0, result.output
    assert seen == {"count": 3, "flag": False}


def test_tweaks_rename_restrict_retype_and_rehelp():
    options = field_options(Toy, "toy", only=["names", "mode", "count"], tweaks={
        "mode": As(name="--speed", choices=["slow"]), "count": As(type=click.IntRange(5, 6), help="Other."),
    })
    assert [o.opts for o in options] == [["--names"], ["--speed"], ["--count"]]
    assert list(options[1].type.choices) == ["slow"] and options[1].name == "speed" and options[1].field == "mode"
    assert options[2].type.min == 5 and options[2].help == "Other."
    assert all(isinstance(o, FieldOption) and o.section == "toy" for o in options)


def test_skip_and_hidden_fields_get_no_option():
    names = {o.field for o in field_options(Toy, "toy", skip=["flag", "limit"])}
    assert names == {"count", "ratio", "plain", "mode", "colour", "names", "offsets", "weights", "where"}


def test_unknown_names_and_unmapped_types_are_refused():
    with pytest.raises(TypeError, match="no fields"):
        field_options(Toy, "toy", only=["bogus"])
    with pytest.raises(TypeError, match="no fields"):
        field_options(Toy, "toy", tweaks={"bogus": As()})

    @dataclass
    class Unmapped:
        table: dict = setting(default_factory=dict, help="No option type.")

    with pytest.raises(TypeError, match="table"):
        field_options(Unmapped, "x")


def test_an_option_the_command_does_not_take_is_an_error():
    @click.command()
    @click.option("--extra", default=1)
    @pass_settings()
    def forgetful(settings):
        pass

    result = CliRunner().invoke(forgetful, [])
    assert isinstance(result.exception, TypeError) and "extra" in str(result.exception)

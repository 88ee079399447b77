"""The README's Python examples run as they are written (in a scratch folder, one after another)."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_readme_has_python_examples():
    assert len(python_blocks()) >= 2


def test_readme_python_examples_run(tmp_path, monkeypatch, capsys):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    for block in python_blocks():
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "pass 2 frame 1" in out and len(list((tmp_path / "draft").glob("*.png"))) == 12
    assert (tmp_path / "still.png").exists() and (tmp_path / "report" / "summary.json").exists()

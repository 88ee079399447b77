"""The CLI package has no import cycle, and ``artvid flow`` never loads torch or Ray."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import artvid.cli
from tests.helpers import translating_clip, write_frame_folder

PACKAGE = Path(artvid.cli.__file__).parent
FILES = {"artvid.cli" if p.stem == "__init__" else f"artvid.cli.{p.stem}": p for p in PACKAGE.glob("*.py")}
MODULES = sorted(FILES)


def _cli_imports(module: str) -> set[str]:
    """The ``artvid.cli`` modules ``module`` imports, at module level or inside functions."""
    tree = ast.parse(FILES[module].read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("artvid.cli"):
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("artvid.cli"))
    return out


def test_cli_import_graph_has_no_cycle():
    graph = {module: _cli_imports(module) for module in MODULES}
    assert all(target in graph for targets in graph.values() for target in targets), graph

    def visit(module, path):
        assert module not in path, f"import cycle: {' -> '.join(path + [module])}"
        for target in graph[module]:
            visit(target, path + [module])

    for module in MODULES:
        visit(module, [])
    # Commands are loaded by name (app.COMMANDS); no command module imports another or the group.
    commands = {"artvid.cli.render", "artvid.cli.image", "artvid.cli.flow", "artvid.cli.compare", "artvid.cli.app"}
    for module in commands:
        assert not graph[module] & commands, (module, graph[module])


def _python(code: str, cwd: Path) -> str:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("module", MODULES)
def test_each_cli_module_imports_first_in_a_fresh_interpreter(module, tmp_path):
    _python(f"import {module}", tmp_path)


def test_flow_command_on_a_full_cache_does_not_import_torch_or_ray(tmp_path):
    clip = tmp_path / "clip"
    write_frame_folder(clip, translating_clip(3, 32, 40))
    code = f"""
import json, sys
from artvid.cli import main
args = ["flow", {str(clip)!r}, "--cache-dir", {str(tmp_path / "c")!r}, "--workers", "1", "-q", "--json"]
for _ in range(2):
    try:
        main(args)
    except SystemExit as exit:
        assert exit.code == 0, exit.code
try:
    main(["flow", "--help"])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m in ("torch", "ray") or m.startswith(("torch.", "ray.", "artvid.cli.")))))
"""
    lines = _python(code, tmp_path).strip().splitlines()
    assert json.loads(lines[1])["computed"] == 0  # the second run found the cache full
    loaded = json.loads(lines[-1])
    assert not [m for m in loaded if m.split(".")[0] in ("torch", "ray")], loaded
    assert "artvid.cli.render" not in loaded and "artvid.cli.image" not in loaded


def test_importing_artvid_and_rendering_locally_does_not_import_ray(tmp_path):
    code = """
import sys
import artvid, artvid.api, artvid.rendering
from artvid.rendering import RunOptions, run
print(sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.")))
"""
    assert _python(code, tmp_path).strip() == "[]"

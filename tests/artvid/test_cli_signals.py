"""Stopping a render from outside: Ctrl-C and SIGTERM (``kill``, ``timeout``, a job scheduler,
``docker stop``) end it with one line and the resume hint, and the same command then finishes it;
on Ray, without Ray's stack dump and without leaving its cluster running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import translating_clip, write_frame_folder

ROOT = Path(__file__).resolve().parents[2]


def _command(tmp_path: Path, style: Path, *extra: str) -> list[str]:
    clip = tmp_path / "clip"
    if not clip.exists():
        write_frame_folder(clip, translating_clip(6, 48, 64, 2, 1))
    return [sys.executable, "-m", "artvid", "render", str(clip), "--style", str(style), "--quality", "draft",
            "--iterations-first", "40", "--iterations", "20", "--device", "cpu", "--cache-dir",
            str(tmp_path / "cache"), "-o", str(tmp_path / "out.mp4"), *extra]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(child) for child in (task / "children").read_text().split()}
        except OSError:
            pass
    return found


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop_once_working(command: list[str], started: Path, signum: int,
                       again_after: float | None = None) -> tuple[subprocess.CompletedProcess, set[int]]:
    """Runs ``command``, sends ``signum`` once ``started`` exists (and again ``again_after``
    seconds later, as an impatient user presses Ctrl-C twice); how it ended, and the processes it
    had started by then."""
    # A shell's background job (``pytest … &``) ignores SIGINT, and its children inherit that:
    # the render is started as a terminal would start it, with SIGINT at its default.
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    deadline = time.monotonic() + 240
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the render ended before it was stopped"
    children = _children(proc.pid)
    proc.send_signal(signum)
    if again_after is not None:
        time.sleep(again_after)
        if proc.poll() is None:
            proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(command, proc.returncode, out, err), children


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "said"), [
    (signal.SIGINT, 130, "artvid: interrupted; finished work is kept: run the same command again to resume"),
    (signal.SIGTERM, 143, "artvid: stopped (SIGTERM); finished work is kept: run the same command again to resume"),
])
def test_a_stopped_render_says_so_in_one_line_and_resumes(tmp_path, style, signum, code, said):
    command = _command(tmp_path, style)
    work = tmp_path / "out.mp4.artvid-work"
    stopped, _ = _stop_once_working(command, work / "pass1" / "000001.png", signum)
    assert stopped.returncode == code, stopped.stderr
    assert stopped.stderr.rstrip().endswith(said) and "Traceback" not in stopped.stderr
    resumed = subprocess.run([*command, "--json"], env=_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert '"frames_resumed": ' in resumed.stdout and '"frames_resumed": 0' not in resumed.stdout


@pytest.mark.slow
def test_ctrl_c_pressed_twice_ends_in_one_line_and_resumes(tmp_path, style):
    # The second interrupt lands during the first one's cleanup or the interpreter's exit, which
    # it may cut short (death by SIGINT: a shell's 130 too); the work directory is left whole.
    command = _command(tmp_path, style)
    stopped, _ = _stop_once_working(command, tmp_path / "out.mp4.artvid-work" / "pass1" / "000001.png",
                                    signal.SIGINT, again_after=0.02)
    assert stopped.returncode in (130, -signal.SIGINT), stopped.stderr
    assert "Traceback" not in stopped.stderr and "Aborted" not in stopped.stderr
    assert stopped.stderr.rstrip().endswith("artvid: interrupted; finished work is kept: run the same command "
                                            "again to resume")
    resumed = subprocess.run([*command, "--json"], env=_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert '"frames_resumed": ' in resumed.stdout and '"frames_resumed": 0' not in resumed.stdout


@pytest.mark.slow
def test_sigterm_stops_a_ray_render_and_its_cluster(tmp_path, style):
    pytest.importorskip("ray")
    command = _command(tmp_path, style, "--backend", "ray", "--ray-workers", "1")
    stopped, children = _stop_once_working(command, tmp_path / "out.mp4.artvid-work" / "content", signal.SIGTERM)
    assert stopped.returncode == 143, stopped.stderr
    assert stopped.stderr.rstrip().endswith("artvid: stopped (SIGTERM); finished work is kept: run the same "
                                            "command again to resume")
    assert "SIGTERM received" not in stopped.stderr and "Traceback" not in stopped.stderr
    # The private cluster (GCS, raylet, dashboard: the driver's children) went with it.
    assert children, "the driver had started no Ray processes"
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in children if _alive(pid)]


def test_sigterm_is_handled_only_while_a_command_runs_and_an_ignored_one_stays_ignored():
    from artvid.cli.app import _raise_terminated, _sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with _sigterm_as_interrupt():
        assert signal.getsignal(signal.SIGTERM) is _raise_terminated
    assert signal.getsignal(signal.SIGTERM) is before
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as nohup-like launchers leave it
    try:
        with _sigterm_as_interrupt():
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before)

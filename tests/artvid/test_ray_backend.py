"""``--backend ray``: the same frames as a local render, with 2 workers, on a simulated 3-node
cluster, and after a worker, the driver or a node is killed mid-render.

Every render is a chunked 9-frame clip (keyframes and chunks run in parallel, two passes) at
32x40 with a few iterations; each one compares its PNG bytes with one local render.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from artvid import images
from artvid.config import build_config
from artvid.errors import ConfigError
from artvid.rendering import Progress, RunOptions, ray_backend, render
from artvid.rendering.ray_worker import FAULT_FILE_ENV
from tests.helpers import translating_clip, write_frame_folder

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = {"iterations_first": 3, "iterations": 2, "pass_iterations": 1, "passes": 2, "chunk_frames": 3}


class Case:
    """The clip, style and config every render here uses, and what a local render made of them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.clip = folder / "clip"
        write_frame_folder(self.clip, translating_clip(9, 32, 40, 2, 1))
        self.style = folder / "style.png"
        images.save_image(self.style, np.random.default_rng(7).integers(0, 255, (64, 64, 3), dtype=np.uint8))
        self.config = build_config(schedule=SCHEDULE, size=None)
        self.local = self.render("local", backend="local")
        self.expected = self.frames("local")

    def options(self, name: str, **kwargs) -> RunOptions:
        return RunOptions(**{"device": "cpu", "workers": 1, "cache_dir": self.folder / f"cache-{name}",
                             "work_dir": self.folder / f"work-{name}", **kwargs})

    def render(self, name: str, **kwargs):
        return render(self.clip, [self.style], self.folder / f"out-{name}", self.config, self.options(name, **kwargs))

    def frames(self, name: str) -> dict[str, bytes]:
        """Output PNGs and every pass's stored frames."""
        found = {f"out/{p.name}": p.read_bytes() for p in sorted((self.folder / f"out-{name}").glob("*.png"))}
        for pass_index in (1, 2):
            for p in sorted((self.folder / f"work-{name}" / f"pass{pass_index}").glob("*.png")):
                found[f"pass{pass_index}/{p.name}"] = p.read_bytes()
        return found

    def flow_entries(self, name: str) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((self.folder / f"cache-{name}").rglob("*.avfc"))}


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Case:
    # Rendered with one torch thread (conftest), as each CPU worker on Ray runs.
    return Case(tmp_path_factory.mktemp("ray-case"))


@pytest.fixture(scope="module")
def fault_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fault") / "kill-at"


def _worker_environment(monkeypatch_env: dict[str, str]) -> None:
    # Ray's worker processes inherit the environment of the processes ray.init starts: they must
    # import this checkout (artvid may also be installed elsewhere) and see the test hook.
    path = os.environ.get("PYTHONPATH", "")
    if str(ROOT) not in path.split(os.pathsep):
        monkeypatch_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), path]))
    for key, value in monkeypatch_env.items():
        os.environ[key] = value


@pytest.fixture(scope="module")
def cluster(fault_file, case):
    from ray.cluster_utils import Cluster

    saved = dict(os.environ)
    _worker_environment({FAULT_FILE_ENV: str(fault_file)})
    # The head runs the driver only; three one-core nodes run the workers. One Ray session for
    # the whole module: a second ray.init in one process left the driver's objects unreachable
    # (OwnerDiedError) in Ray 2.60.
    simulated = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(3):
        simulated.add_node(num_cpus=1)
    ray.init(address=simulated.address, log_to_driver=False)
    yield simulated
    ray.shutdown()
    simulated.shutdown()
    os.environ.clear()
    os.environ.update(saved)


def test_run_options_are_checked():
    with pytest.raises(ConfigError, match="backend"):
        RunOptions(backend="dask")
    with pytest.raises(ConfigError, match="GPUs per worker"):
        RunOptions(backend="ray", gpus_per_worker=0)
    with pytest.raises(ConfigError, match="Ray worker"):
        RunOptions(backend="ray", ray_workers=0)



@pytest.mark.slow
def test_starting_a_local_ray_prints_no_token_notice(tmp_path):
    # Ray 2.60 warns on every start of a local cluster that token authentication is on; it was
    # the one line a quiet ``--backend ray`` render printed. Its other messages are kept.
    code = (
        "import logging, ray; from artvid.rendering.ray_backend import connect; assert connect(None); "
        "logging.getLogger('ray._private.authentication.authentication_token_setup').warning('kept'); "
        "ray.shutdown()"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_MODE", "RAY_ADDRESS")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["HOME"] = str(tmp_path)  # no token of an earlier Ray in ~/.ray
    started = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    assert "Token authentication" not in started.stderr
    assert "kept" in started.stderr


@pytest.mark.parametrize("address, env, hinted", [
    ("10.0.0.7:6379", {}, True), ("10.0.0.7:6379", {"RAY_AUTH_MODE": "token"}, False), ("auto", {}, False),
])
def test_a_refused_connection_says_how_to_join_a_token_cluster(monkeypatch, address, env, hinted):
    # Ray 2.60's `ray start` turns token authentication on; a driver that names the address
    # is refused with only "Failed to connect to Ray cluster at …".
    from artvid.rendering.ray_backend import connect

    def refused(**kwargs):
        raise ConnectionError(f"Failed to connect to Ray cluster at {kwargs['address']}")

    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refused)
    monkeypatch.setattr(ray_backend, "check_reachable", lambda address: None)
    with pytest.raises(ConfigError, match=f"cannot connect to Ray at {address}: Failed to connect") as raised:
        connect(address)
    assert ("set RAY_AUTH_MODE=token" in str(raised.value)) is hinted


def test_an_address_where_nothing_listens_is_refused_at_once_without_asking_ray(monkeypatch):
    # ray.init retries such an address for minutes, with its own warnings, before giving up.
    import socket

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: pytest.fail("ray.init was asked"))
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(ConfigError, match=f"cannot connect to Ray at {address}: .*refused.*ray start --head"):
            ray_backend.connect(address)
    with pytest.raises(ConfigError, match="unknown host no-such-head.invalid"):
        ray_backend.connect("no-such-head.invalid:6379")
    with pytest.raises(ConfigError, match=r"port 99999 is out of range \(1 to 65535\)"):
        ray_backend.connect("127.0.0.1:99999")  # the resolver would wrap it to another port


def test_an_address_that_accepts_a_connection_is_left_to_ray():
    import socket

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        ray_backend.check_reachable(f"127.0.0.1:{listening.getsockname()[1]}")
    ray_backend.check_reachable("head-node")  # no port: Ray judges it


@pytest.mark.parametrize("frames, cuts, chunk_frames, workers, said", [
    (90, (), None, 3, "1 shot for 3 Ray workers: .* so 2 stay idle; --chunk-frames 30 splits the longest (90 frames)"),
    (200, (), None, 4, "so 3 stay idle; --chunk-frames 50 splits the longest (200 frames)"),
    (200, (150,), None, 4, "2 shots for 4 Ray workers: .* so 2 stay idle; --chunk-frames 38 splits the longest (150 frames)"),
    (60, (), None, 2, "1 shot for 2 Ray workers: .* so 1 stays idle; --chunk-frames 30 splits the longest (60 frames)"),
    (200, (), 30, 4, None),  # already chunked
    (50, (), None, 4, None),  # too short to be worth splitting
    (200, (100,), None, 2, None),  # a shot per worker
    (200, (), None, 1, None),
])
def test_whole_shots_that_leave_workers_idle_get_a_chunk_frames_hint(frames, cuts, chunk_frames, workers, said):
    from artvid.multipass import ScheduleConfig
    from artvid.rendering.plan import make_plan

    plan = make_plan(frames, ScheduleConfig(chunk_frames=chunk_frames), cuts=cuts)
    hint = ray_backend.chunk_hint(plan, list(plan.units), workers)
    if said is None:
        assert hint is None
    else:
        assert hint is not None and re.search(said.replace("(", r"\(").replace(")", r"\)"), hint), hint


@pytest.mark.slow
def test_a_local_ray_starts_no_more_workers_than_it_has_room_for(tmp_path):
    # artvid's own Ray has no autoscaler: a worker beyond its cores would never be placed.
    code = (
        "import os; from artvid.rendering.ray_backend import RayBackend; "
        "b = RayBackend(None, 99, 1.0, 'cpu'); print('workers', b.workers, os.cpu_count()); b.close()"
    )
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    started = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr
    workers, cores = started.stdout.split()[-2:]
    assert workers == cores and f"--ray-workers 99: this machine's Ray has room for {cores}" in started.stderr


@pytest.mark.usefixtures("cluster")
class TestRay:
    def test_workers_import_this_checkout(self):
        @ray.remote
        def where():
            import artvid

            return artvid.__file__

        assert Path(ray.get(where.remote())).resolve().is_relative_to(ROOT)

    def test_a_gpu_the_workers_torch_cannot_use_is_named(self, monkeypatch):
        # A node that offers Ray a GPU but has a CPU-only torch (or no driver).
        import torch

        from artvid.errors import DeviceError
        from artvid.rendering.ray_worker import StylizeWorker

        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
        with pytest.raises(DeviceError, match=r"Ray worker on node \w+, which the cluster gave GPU 3, but its torch .* sees none"):
            StylizeWorker("cuda", None)._load()

    def test_devices_the_cluster_lacks_are_refused(self, case):
        with pytest.raises(ConfigError, match="no GPU"):
            case.render("cuda", backend="ray", device="cuda")
        with pytest.raises(ConfigError, match="auto, cpu or cuda"):
            case.render("mps", backend="ray", device="mps")

    @pytest.mark.slow
    def test_two_workers_give_the_local_frames_and_flow(self, case):
        summary = case.render("two", backend="ray", ray_workers=2)
        assert case.frames("two") == case.expected
        assert case.flow_entries("two") == case.flow_entries("local")
        assert summary.frames_stylized == 15 and summary.frames_resumed == 0
        assert sum(summary.workers.values()) == 15 and set(summary.workers) <= {"worker-0", "worker-1"}
        assert summary.iterations == case.local.iterations and summary.device == "cpu"

    @pytest.mark.slow
    def test_more_workers_than_the_cluster_holds_go_on_with_those_placed(self, case, monkeypatch, caplog):
        # Three one-core nodes, four workers asked for: the fourth would wait forever.
        from artvid.rendering import ray_backend

        monkeypatch.setattr(ray_backend, "PLACEMENT_GRACE_S", 2.0)
        summary = case.render("four", backend="ray", ray_workers=4)
        assert "3 of 4 Ray workers started" in caplog.text and "each needs 1 CPU" in caplog.text
        assert case.frames("four") == case.expected
        assert len(summary.workers) <= 3

    @pytest.mark.slow
    def test_filling_the_flow_holds_a_window_of_frames_not_the_clip(self, case, monkeypatch):
        # A long HD clip's frames and flow entries (12 MB a pair at 1080p) would not fit in the
        # driver's memory or the object store at once: one task in flight holds about two frames.
        from artvid.rendering import ray_backend
        from artvid.rendering.ray_schedule import Inputs

        monkeypatch.setattr(ray_backend, "FLOW_TASKS_PER_CPU", 0)  # one task at a time
        filling, held = [False], []
        ref, fill = Inputs.ref, ray_backend.RayBackend._fill_flow

        def counting_ref(self, key):
            out = ref(self, key)
            if filling[0]:
                held.append(len(self.refs))
            return out

        def counting_fill(self, *args):
            filling[0] = True
            try:
                return fill(self, *args)
            finally:
                filling[0] = False

        monkeypatch.setattr(Inputs, "ref", counting_ref)
        monkeypatch.setattr(ray_backend.RayBackend, "_fill_flow", counting_fill)
        case.render("window", backend="ray", ray_workers=2)
        assert case.frames("window") == case.expected
        assert case.flow_entries("window") == case.flow_entries("local")
        assert len(held) >= 16 and max(held) <= 3, held  # 8+ pairs, 9 frames

    @pytest.mark.slow
    def test_a_multi_scale_render_gives_the_local_frames(self, case):
        # The second scale's steps start from the first scale's frames, which travel to the workers.
        config = build_config(schedule={**SCHEDULE, "scales": "32,40", "scale_iterations": 2, "scale_iterations_first": 3}, size=None)
        runs = {}
        for name, backend in (("ms-local", {}), ("ms-ray", {"backend": "ray", "ray_workers": 2})):
            runs[name] = render(case.clip, [case.style], case.folder / f"out-{name}", config, case.options(name, **backend))
        frames = {
            name: {str(p.relative_to(case.folder / f"work-{name}")): p.read_bytes()
                   for p in sorted((case.folder / f"work-{name}" / "scales").rglob("pass*/*.png"))}
            for name in runs
        }
        assert len(frames["ms-local"]) == 2 * 15 and frames["ms-ray"] == frames["ms-local"]
        assert case.frames("ms-ray") == case.frames("ms-local")
        assert runs["ms-ray"].frames_stylized == 30

    @pytest.mark.slow
    def test_ruders_carry_and_unstretched_content_give_the_local_frames(self, case):
        # The case renders with the defaults: a residual carry (whose warps read the content of
        # frames other units own) and stretched levels (the clip is low-contrast), on workers too.
        config = build_config(schedule={**SCHEDULE, "carry": "image"}, stylize={"content_levels": "none"}, size=None)
        runs = {name: render(case.clip, [case.style], case.folder / f"out-{name}", config, case.options(name, **backend))
                for name, backend in (("ruder-local", {}), ("ruder-ray", {"backend": "ray", "ray_workers": 2}))}
        assert case.frames("ruder-ray") == case.frames("ruder-local") != case.expected
        assert runs["ruder-ray"].frames_stylized == 15

    @pytest.mark.slow
    def test_a_worker_killed_mid_unit_changes_nothing(self, case, fault_file, caplog):
        fault_file.write_text("2")  # the first worker to start its 2nd frame exits
        summary = case.render("killed-worker", backend="ray", ray_workers=2)
        assert Path(f"{fault_file}.fired").exists() and "died running" in caplog.text
        assert case.frames("killed-worker") == case.expected
        assert summary.frames_stylized >= 15  # a frame in flight is computed again

    @pytest.mark.slow
    def test_a_killed_driver_resumes_to_the_same_frames(self, case):
        code = (
            "import pickle, sys; from artvid.rendering import render; "
            "args = pickle.loads(bytes.fromhex(sys.argv[1])); render(*args)"
        )
        import pickle

        # The killed driver starts a Ray of its own (ray_address None); the rerun joins the cluster.
        options = case.options("killed-driver", backend="ray", ray_workers=2)
        args = (case.clip, [case.style], case.folder / "out-killed-driver", case.config, options)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        driver = subprocess.Popen([sys.executable, "-c", code, pickle.dumps(args).hex()], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stored = case.folder / "work-killed-driver" / "pass1"
        deadline = time.monotonic() + 120
        while len(list(stored.glob("*.png"))) < 3 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # On a busy machine the deadline may come first: what was stored by then must be resumed.
        stored_before = len(list(stored.glob("*.png")))
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        assert driver.returncode == -signal.SIGKILL, "the driver finished before it was killed"
        assert stored_before >= 1, "the driver stored no frame in 120 s"
        summary = case.render("killed-driver", backend="ray", ray_workers=2)
        assert summary.frames_resumed >= stored_before and summary.frames_stylized > 0
        assert case.frames("killed-driver") == case.expected
        # The flow entries the killed driver stored are reused, not recomputed.
        assert case.flow_entries("killed-driver") == case.flow_entries("local")


class _RemoveNode(Progress):
    """Removes a worker node of the cluster once ``after`` frames are finished."""

    def __init__(self, cluster, after: int) -> None:
        self.cluster, self.after, self.done, self.removed = cluster, after, 0, False

    def frame_done(self, step, resumed) -> None:
        self.done += not resumed
        if self.done == self.after and not self.removed:
            self.cluster.remove_node(self.cluster.list_all_nodes()[1])
            self.removed = True


@pytest.mark.slow
class TestCluster:
    def test_three_nodes_give_the_local_frames(self, case, cluster):
        summary = case.render("three-nodes", backend="ray")
        assert case.frames("three-nodes") == case.expected
        assert sum(summary.workers.values()) == 15 and len(summary.workers) <= 3

    def test_a_removed_node_changes_nothing(self, case, cluster, caplog):
        # After the three keyframes and one more frame, every node's worker runs a chunk.
        progress = _RemoveNode(cluster, after=4)
        case.render("removed-node", backend="ray", progress=progress)
        assert progress.removed and "died running" in caplog.text
        assert case.frames("removed-node") == case.expected


def test_overall_progress_is_one_bar_over_every_frame_and_pass(capsys):
    from artvid.multipass import ScheduleConfig
    from artvid.rendering import OverallProgress, make_plan

    plan = make_plan(9, ScheduleConfig(**SCHEDULE))
    progress = OverallProgress()
    progress.start(plan)
    progress.frame_done(plan.steps[0], resumed=True)
    for step in plan.steps[1:]:
        progress.frame_started(step)
        progress.frame_done(step, resumed=False)
    bar = progress._bar
    assert (bar.total, bar.n, bar.initial) == (15, 15, 1)
    progress.close()
    assert "9 frames × 2 passes" in capsys.readouterr().err

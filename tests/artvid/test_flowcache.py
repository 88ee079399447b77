"""The on-disk flow cache: keys, entries, integrity, resume, parallel fill, export."""

import errno
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import flow
from artvid.flowcache import store
from artvid.errors import ConfigError, FlowCacheError
from artvid.flowcache import FlowCache, FlowConfig, decode_entry, encode_entry
from tests.helpers import render_pairs, translating_clip, write_frame_folder

DX, DY = 2, 1


@pytest.fixture
def clip(make_clip):
    return make_clip(6, 40, 56, DX, DY)


def cache_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.avfc"))}


def test_render_pairs_are_ordered_by_first_need_and_include_long_term():
    assert render_pairs(4, (1,)) == [(0, 1), (1, 2), (2, 3)]
    assert render_pairs(5, (1, 3)) == [(0, 1), (1, 2), (2, 3), (0, 3), (3, 4), (1, 4)]


@pytest.mark.parametrize("frames, offsets", [(5, (1, 5)), (3, (10,))])
def test_render_pairs_reject_clips_too_short(frames, offsets):
    with pytest.raises(ConfigError):
        render_pairs(frames, offsets)


@pytest.mark.parametrize(
    "kwargs",
    [{"method": "farneback"}, {"long_term": ()}, {"long_term": (0,)}, {"check": "psychic"}, {"params": (("nope", 1),)}],
)
def test_flow_config_errors(kwargs):
    with pytest.raises(ConfigError):
        FlowConfig(**kwargs)


def test_flow_config_sorts_offsets():
    assert FlowConfig(long_term=(10, 1, 10)).long_term == (1, 10)


def test_entry_round_trip_and_damage_detection():
    rng = np.random.default_rng(0)
    arrays = {
        "flow_ab": rng.normal(size=(3, 4, 2)).astype(np.float16),
        "flow_ba": rng.normal(size=(3, 4, 2)).astype(np.float16),
        "rel_ab": rng.integers(0, 255, (3, 4), dtype=np.uint8),
        "rel_ba": rng.integers(0, 255, (3, 4), dtype=np.uint8),
    }
    data = encode_entry(arrays)
    assert encode_entry(arrays) == data  # deterministic bytes
    for name, array in decode_entry(data).items():
        np.testing.assert_array_equal(array, arrays[name])
    with pytest.raises(FlowCacheError, match="at least"):
        decode_entry(data[:5])
    with pytest.raises(FlowCacheError, match="magic"):
        decode_entry(b"XXXX" + data[4:])
    with pytest.raises(FlowCacheError):
        decode_entry(data[:-7])
    flipped = bytearray(data)
    flipped[-20] ^= 0xFF
    with pytest.raises(FlowCacheError):
        decode_entry(bytes(flipped))


def test_get_recovers_the_translation_in_both_directions(clip, tmp_path):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig())
    backward = cache.get(3, 2)  # frame 3 -> frame 2: (dx, dy)
    forward = cache.get(2, 3)
    interior = (slice(8, -8), slice(8, -8))
    np.testing.assert_allclose(np.median(backward.flow[interior].reshape(-1, 2), axis=0), [DX, DY], atol=0.1)
    np.testing.assert_allclose(np.median(forward.flow[interior].reshape(-1, 2), axis=0), [-DX, -DY], atol=0.1)
    assert backward.flow.dtype == np.float32 and backward.reliability.dtype == np.float32
    assert backward.reliability[interior].mean() > 0.9
    assert 0.0 <= backward.reliability.min() and backward.reliability.max() <= 1.0


def test_ensure_is_a_no_op_the_second_time(clip, tmp_path):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig(long_term=(1, 2)))
    pairs = render_pairs(6, (1, 2))
    assert cache.ensure(pairs, workers=1, progress=False) == len(pairs)
    assert cache.ensure(pairs, workers=1, progress=False) == 0
    assert cache.missing(pairs) == []


def test_parallel_fill_writes_the_same_bytes_as_serial(clip, tmp_path):
    pairs = render_pairs(6, (1, 3))
    serial = FlowCache(tmp_path / "a", clip, None, FlowConfig(long_term=(1, 3)))
    serial.ensure(pairs, workers=1, progress=False)
    parallel = FlowCache(tmp_path / "b", clip, None, FlowConfig(long_term=(1, 3)))
    parallel.ensure(pairs, workers=2, progress=False)
    assert cache_files(tmp_path / "a") == cache_files(tmp_path / "b")


def test_damaged_entry_is_recomputed(clip, tmp_path):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig())
    cache.ensure([(0, 1)], workers=1, progress=False)
    good = cache.entry_path(0, 1).read_bytes()
    cache.entry_path(0, 1).write_bytes(good[: len(good) // 2])
    assert cache.missing([(0, 1)]) == [(0, 1)]
    assert cache.ensure([(0, 1)], workers=1, progress=False) == 1
    assert cache.entry_path(0, 1).read_bytes() == good


def test_key_depends_on_every_setting(clip, tmp_path):
    root = tmp_path / "cache"
    base = FlowCache(root, clip, None, FlowConfig()).key
    assert FlowCache(root, clip, None, FlowConfig()).key == base
    assert FlowCache(root, clip, 32, FlowConfig()).key != base
    assert FlowCache(root, clip, None, FlowConfig(method="deepflow")).key != base
    assert FlowCache(root, clip, None, FlowConfig(params=(("preset", "fast"),))).key != base
    assert FlowCache(root, clip, None, FlowConfig(params=(("patch_size", 12),))).key != base
    assert FlowCache(root, clip, None, FlowConfig(check="photometric")).key != base
    # Long-term offsets only choose pairs: they share entries.
    assert FlowCache(root, clip, None, FlowConfig(long_term=(1, 2))).key == base
    other = tmp_path / "other"
    frames = translating_clip(6, 40, 56, DX, DY)
    frames[4] = frames[4] // 2
    write_frame_folder(other, frames)
    assert FlowCache(root, other, None, FlowConfig()).key != base


def test_unwritable_cache_dir_is_one_clear_error(clip, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(FlowCacheError, match="flow cache"):
        FlowCache(blocker / "cache", clip, None, FlowConfig())


def test_full_disk_keeps_finished_entries(clip, tmp_path, monkeypatch):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig())
    cache.ensure([(0, 1)], workers=1, progress=False)
    before = cache_files(tmp_path / "cache")
    real_write = store._atomic_write

    def full(path, data):
        if path.suffix == ".avfc":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(store, "_atomic_write", full)
    with pytest.raises(FlowCacheError, match="disk is full"):
        cache.ensure(render_pairs(6, (1,)), workers=1, progress=False)
    assert cache_files(tmp_path / "cache") == before
    assert not list((tmp_path / "cache").rglob(".*.partial"))


def test_flow_job_waits_for_pairs_and_reports_errors(clip, tmp_path):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig())
    cache.ensure([(0, 1)], workers=1, progress=False)
    job = cache.start(render_pairs(6, (1,)), workers=1)
    pair = job.wait(4, 3)
    assert pair.flow.shape == (40, 56, 2)
    assert job.wait(1, 0).flow.shape == (40, 56, 2)  # cached before the job started
    job.close()
    assert cache.missing(render_pairs(6, (1,))) == []


def test_export_writes_ruder_compatible_files(clip, tmp_path):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig())
    out = tmp_path / "export"
    assert cache.export(out, [(0, 1), (1, 2)]) == 8
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["forward_1_2.flo", "backward_2_1.flo", "reliable_2_1.pgm", "reliable_1_2.pgm",
         "forward_2_3.flo", "backward_3_2.flo", "reliable_3_2.pgm", "reliable_2_3.pgm"]
    )
    np.testing.assert_allclose(flow.read_flo(out / "backward_2_1.flo"), cache.get(1, 0).flow)
    np.testing.assert_allclose(flow.read_mask(out / "reliable_2_1.pgm"), cache.get(1, 0).reliability, atol=1 / 255)


def _run_flow_cli(clip, cache_dir, **popen):
    cmd = [sys.executable, "-m", "artvid", "flow", str(clip), "--cache-dir", str(cache_dir),
           "--workers", "1", "--long-term", "1,2", "-q"]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def test_killed_flow_run_resumes_to_an_identical_cache(tmp_path):
    folder = tmp_path / "clip"
    write_frame_folder(folder, translating_clip(12, 96, 128, DX, DY))
    reference = tmp_path / "reference"
    assert _run_flow_cli(folder, reference).wait(timeout=120) == 0
    expected = cache_files(reference)
    assert len(expected) == len(render_pairs(12, (1, 2)))

    interrupted = tmp_path / "interrupted"
    proc = _run_flow_cli(folder, interrupted)
    deadline = time.time() + 60
    while time.time() < deadline and len(list(interrupted.rglob("*.avfc"))) < 3:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = cache_files(interrupted)
    assert 0 < len(partial) < len(expected), "the run should have been killed part way"
    assert _run_flow_cli(folder, interrupted).wait(timeout=120) == 0
    assert cache_files(interrupted) == expected


def test_exported_files_honour_the_umask(tmp_path):
    folder = tmp_path / "clip"
    write_frame_folder(folder, translating_clip(3, 24, 32, DX, DY))
    out = tmp_path / "export"
    cmd = [sys.executable, "-m", "artvid", "flow", str(folder), "--cache-dir", str(tmp_path / "cache"),
           "--workers", "1", "--export", str(out), "-q"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120, preexec_fn=lambda: os.umask(0o022))
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert len(modes) == 8 and set(modes.values()) == {0o644}, modes
    cache_modes = {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "cache").rglob("*") if p.is_file()}
    assert cache_modes == {0o644}

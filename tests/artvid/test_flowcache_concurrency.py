"""Several writers filling one flow-cache key at once end with a complete, valid cache."""

import logging
import os
import threading
from pathlib import Path

import pytest

from artvid.flowcache import FlowCache, FlowConfig
from tests.artvid.test_flowcache import DX, DY, _run_flow_cli, cache_files
from tests.helpers import render_pairs, translating_clip, write_frame_folder

CONFIG = FlowConfig(long_term=(1, 2))


@pytest.fixture
def clip(tmp_path):
    folder = tmp_path / "clip"
    write_frame_folder(folder, translating_clip(10, 48, 64, DX, DY))
    return folder


@pytest.fixture
def reference(clip, tmp_path):
    FlowCache(tmp_path / "reference", clip, None, CONFIG).ensure(render_pairs(10, (1, 2)), workers=1, progress=False)
    return cache_files(tmp_path / "reference")


def test_two_caches_in_threads_fill_one_key(clip, reference, tmp_path, monkeypatch, caplog):
    root = tmp_path / "shared"
    caches = [FlowCache(root, clip, None, CONFIG) for _ in range(2)]
    assert caches[0].dir == caches[1].dir
    renamed = []
    real_replace = os.replace
    lock = threading.Lock()

    def replace(src, dst):
        with lock:
            renamed.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    pairs = render_pairs(10, (1, 2))
    errors, stop = [], threading.Event()

    def fill(cache, workers):
        try:
            cache.ensure(pairs, workers=workers, progress=False)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    def read():
        while not stop.is_set():
            caches[1].missing(pairs)  # a reader sees whole entries or none: no damage warnings

    threads = [threading.Thread(target=fill, args=(caches[0], 2)), threading.Thread(target=fill, args=(caches[1], 1))]
    reader = threading.Thread(target=read)
    with caplog.at_level(logging.WARNING, logger="artvid.flowcache"):
        reader.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        reader.join()
    assert errors == []
    assert "damaged" not in caplog.text
    assert cache_files(root) == reference
    assert caches[0].missing(pairs) == [] and caches[1].missing(pairs) == []
    temporaries = [src for src, dst in renamed if dst.endswith(".avfc")]
    assert len(temporaries) >= len(pairs) and len(set(temporaries)) == len(temporaries)
    assert not [p for p in root.rglob(".*") if p.is_file()]


def test_a_pair_finished_by_another_writer_is_not_recomputed(clip, tmp_path):
    root = tmp_path / "shared"
    first, second = FlowCache(root, clip, None, CONFIG), FlowCache(root, clip, None, CONFIG)
    pairs = render_pairs(10, (1, 2))
    done = []

    def finish_the_rest(pair):
        done.append(pair)
        if len(done) == 1:  # while the first writer runs, the second finishes everything
            second.ensure(pairs, workers=1, progress=False)

    assert first.ensure(pairs, workers=1, progress=False, on_done=finish_the_rest) == 1
    assert sorted(done) == sorted(pairs) and first.missing(pairs) == []


def test_two_processes_fill_one_key(clip, reference, tmp_path):
    root = tmp_path / "shared"
    procs = [_run_flow_cli(clip, root) for _ in range(2)]
    assert [proc.wait(timeout=120) for proc in procs] == [0, 0], [p.stderr.read() for p in procs]
    assert cache_files(root) == reference
    key_files = list(root.glob("*/key.json"))
    assert len(key_files) == 1 and key_files[0].read_text().startswith("{")

"""Tests for artvid.stylize.memory: the per-iteration memory estimate."""

from __future__ import annotations

import pytest

from artvid.stylize import StylizeConfig, estimate_iteration_bytes


def test_grows_linearly_with_the_pixel_count():
    config = StylizeConfig()
    sizes = [estimate_iteration_bytes(side, side, config) for side in (64, 128, 256)]
    # Sides multiple of 16: every pooled size is exact, so the estimate is affine in H·W.
    assert sizes[2] - sizes[1] == 4 * (sizes[1] - sizes[0])
    assert sizes[0] < sizes[1] < sizes[2]
    per_pixel = (sizes[2] - sizes[1]) / (256 * 256 - 128 * 128)
    assert 1_000 < per_pixel < 20_000  # bytes: VGG19 activations and 2·100 history vectors


def test_grows_with_the_lbfgs_history_by_its_pairs():
    small = estimate_iteration_bytes(120, 160, StylizeConfig(lbfgs_history=10))
    large = estimate_iteration_bytes(120, 160, StylizeConfig(lbfgs_history=110))
    assert large - small == 2 * 100 * 3 * 120 * 160 * 4
    assert estimate_iteration_bytes(120, 160, StylizeConfig(optimizer="adam")) < small


def test_depends_on_layers_autocast_and_temporal_targets():
    shallow = StylizeConfig(content_layers=("relu2_1",), style_layers=("relu1_1", "relu2_1"))
    assert estimate_iteration_bytes(64, 64, shallow) < estimate_iteration_bytes(64, 64, StylizeConfig())
    assert estimate_iteration_bytes(64, 64, StylizeConfig(), device="cuda") < estimate_iteration_bytes(
        64, 64, StylizeConfig(amp=False), device="cuda"
    )
    assert estimate_iteration_bytes(64, 64, StylizeConfig(), temporal_targets=2) > estimate_iteration_bytes(
        64, 64, StylizeConfig()
    )


def test_rejects_bad_sizes():
    with pytest.raises(ValueError, match="expected height, width >= 1"):
        estimate_iteration_bytes(0, 10, StylizeConfig())


def test_a_frame_larger_than_the_machine_is_refused_before_any_work(monkeypatch):
    from artvid.errors import DeviceError
    from artvid.stylize import StylizeConfig, check_memory
    from artvid.stylize import memory

    config = StylizeConfig()
    needed = memory.estimate_iteration_bytes(720, 1280, config)
    monkeypatch.setattr(memory, "device_memory", lambda device: (needed // 4, needed // 2))
    with pytest.raises(DeviceError, match="1280x720 needs about .* GiB per iteration.*--size"):
        check_memory(720, 1280, config, "cpu")
    monkeypatch.setattr(memory, "device_memory", lambda device: (needed // 2, needed * 2))
    assert check_memory(720, 1280, config, "cpu") == needed  # above what is free now: a warning only


def test_workers_that_share_a_gpu_are_each_checked_against_their_share(monkeypatch):
    # Two actors at --gpus-per-worker 0.5 that each fit the whole card could still not fit together.
    from artvid.errors import DeviceError
    from artvid.rendering.ray_worker import StylizeWorker
    from artvid.stylize import StylizeConfig, check_memory
    from artvid.stylize import memory

    config = StylizeConfig()
    needed = memory.estimate_iteration_bytes(720, 1280, config)
    monkeypatch.setattr(memory, "device_memory", lambda device: (needed * 1.5, needed * 1.5))
    assert check_memory(720, 1280, config, "cpu") == needed
    with pytest.raises(DeviceError, match=r"needs about .* GiB per iteration, a worker's share of the device is 0.5 of"):
        check_memory(720, 1280, config, "cpu", share=0.5)
    worker = StylizeWorker("cpu", 1, gpu_share=0.5)
    worker._stylizer = object()  # the weights are not what this checks
    worker.device = "cpu"
    setup = {"config": config, "styles": [], "plan": None, "seed": 0, "flow_key": None, "levels": None}
    with pytest.raises(DeviceError, match="share of the device is 0.5"):
        worker.ready(setup, 720, 1280, 0)


def test_this_machines_memory_is_read():
    from artvid.stylize.memory import device_memory

    available, total = device_memory("cpu")
    assert 0 < available <= total

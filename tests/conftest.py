"""Shared pytest fixtures: RNG isolation and paths to the shared real data."""

import random
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolate_rng():
    """Seed and restore every RNG so tests neither depend on nor disturb each other."""
    import torch

    py_state, np_state, torch_state = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)
    torch.set_rng_state(torch_state)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """One intra-op thread: tiny test tensors gain nothing from two, and two OpenMP threads
    spinning against background flow workers on a 2-core machine slow iterations tenfold."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _private_flow_cache(tmp_path_factory, monkeypatch):
    """Keep every test's flow cache out of the user's ~/.cache."""
    monkeypatch.setenv("ARTVID_CACHE", str(tmp_path_factory.mktemp("artvid-cache")))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``cuda`` on a machine without a CUDA device."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def make_clip(tmp_path):
    """Writes a folder of PNG frames translating by ``(dx, dy)`` per frame; returns its path."""
    from tests.helpers import translating_clip, write_frame_folder

    def make(frames: int = 4, height: int = 32, width: int = 40, dx: int = 2, dy: int = 1, name: str = "clip") -> Path:
        folder = tmp_path / name
        write_frame_folder(folder, translating_clip(frames, height, width, dx, dy))
        return folder

    return make


@pytest.fixture
def clip(make_clip) -> Path:
    """Four 32x40 frames of a texture moving 2 px right and 1 px down per frame."""
    return make_clip()


@pytest.fixture
def style(tmp_path) -> Path:
    """A 48x48 random-colour style image (PNG)."""
    from artvid import images

    path = tmp_path / "style.png"
    images.save_image(path, np.random.default_rng(7).integers(0, 255, (48, 48, 3), dtype=np.uint8))
    return path


@pytest.fixture
def constant():
    """A fake flow method ``constant`` registered for the test (see tests.helpers.ConstantFlow)."""
    import flow
    from tests.helpers import ConstantFlow

    estimator = flow.register(ConstantFlow())
    yield estimator
    flow.unregister("constant")

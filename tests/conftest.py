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

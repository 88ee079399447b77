"""The flow cache works with any registered estimator, e.g. a torch one living outside ``flow/``."""

import threading

import numpy as np
import pytest

import flow
from artvid.errors import ConfigError
from artvid.flowcache import FlowCache, FlowConfig
from tests.helpers import render_pairs
from tests.helpers import ConstantFlow



@pytest.fixture
def clip(make_clip):
    return make_clip(6, 40, 56)


class OtherDevice(ConstantFlow):
    """The constant estimator on a non-CPU device, recording the threads that call it."""

    name = "constant-gpu"
    device = "cuda:0"
    version = 1

    @property
    def cache_token(self):
        return f"constant-gpu/{self.version}"

    def estimate(self, a, b, params):
        self.threads = getattr(self, "threads", set()) | {threading.current_thread().name}
        return super().estimate(a, b, params)


def test_config_accepts_registered_methods_only(constant):
    config = FlowConfig(method="constant", params=(("dx", 2),))
    assert config.resolved_params() == {"dx": 2.0} and config.estimator is constant
    with pytest.raises(ConfigError, match="constant parameter dx: expected float"):
        FlowConfig(method="constant", params=(("dx", "far"),))
    flow.unregister("constant")
    try:
        with pytest.raises(ConfigError, match="unknown flow method 'constant': expected one of dis, deepflow"):
            FlowConfig(method="constant")
    finally:
        flow.register(constant)


def test_dis_preset_override_supplies_its_tunables():
    fast = FlowConfig(params=(("preset", "fast"),)).resolved_params()
    assert fast == flow.resolve_params("dis", {"preset": "fast"}) != flow.default_params("dis")
    assert fast["gradient_descent_iterations"] == 16 and fast["finest_scale"] == 2


def test_cache_uses_a_registered_estimator(constant, clip, tmp_path):
    cache = FlowCache(tmp_path / "cache", clip, None, FlowConfig(method="constant", params=(("dx", 1.5),)))
    assert cache.describe()["estimator"] == "constant/1" and cache.describe()["params"] == {"dx": 1.5}
    pair = cache.get(2, 1)
    assert pair.flow.shape == (40, 56, 2) and np.all(pair.flow[..., 0] == 1.5) and np.all(pair.flow[..., 1] == 0)
    assert constant.seen == [(40, 56, 3), (40, 56, 3)]  # RGB frames, both directions
    dis_key = FlowCache(tmp_path / "cache", clip, None, FlowConfig()).key
    assert cache.key != dis_key


def test_key_follows_the_cache_token(clip, tmp_path):
    estimator = flow.register(OtherDevice())
    try:
        config = FlowConfig(method="constant-gpu")
        old = FlowCache(tmp_path / "cache", clip, None, config)
        estimator.version = 2
        new = FlowCache(tmp_path / "cache", clip, None, config)
        assert new.key != old.key and new.describe()["estimator"] == "constant-gpu/2"
        # A non-CPU estimator fills in the calling thread unless workers are asked for.
        assert new.ensure(render_pairs(6, (1,)), progress=False) == 5
        assert estimator.threads == {threading.current_thread().name}
    finally:
        flow.unregister("constant-gpu")
    assert "constant-gpu" not in flow.method_names()

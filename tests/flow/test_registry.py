"""The estimator registry: built-ins, registering a new method, and the checks around estimators."""

import cv2
import numpy as np
import pytest

import flow
from flow import FlowEstimator, FlowMethodError, FlowShapeError
from tests.helpers import ConstantFlow, translating_clip


def test_builtins_are_registered_in_order():
    assert flow.method_names()[:2] == ("dis", "deepflow")
    for name in ("dis", "deepflow"):
        estimator = flow.get_estimator(name)
        assert estimator.name == name and estimator.device == "cpu"
        assert cv2.__version__ in estimator.cache_token and estimator.cache_token.startswith(name)


def test_registered_estimator_is_used_everywhere(constant):
    a, b = translating_clip(2, 12, 16)
    assert "constant" in flow.method_names() and "constant" in flow.METHODS
    assert flow.default_params("constant") == {"dx": 1.0}
    assert flow.resolve_params("constant", {"dx": 3}) == {"dx": 3.0}
    result = flow.estimate(a, b, "constant", dx=2.5)
    assert result.dtype == np.float32 and result.shape == (12, 16, 2) and np.all(result[..., 0] == 2.5)
    assert constant.seen == [(12, 16, 3)]  # input = "rgb": frames arrive in colour
    with pytest.raises(FlowMethodError, match="constant parameter dx: expected float"):
        flow.estimate(a, b, "constant", dx="far")


def test_unregister_removes_the_name(constant):
    flow.unregister("constant")
    assert "constant" not in flow.method_names()
    with pytest.raises(FlowMethodError, match="expected one of dis, deepflow, got 'constant'"):
        flow.get_estimator("constant")
    flow.register(constant)  # for the fixture's teardown


def test_registration_errors(constant):
    with pytest.raises(FlowMethodError, match="expected a new name"):
        flow.register(ConstantFlow())
    assert flow.register(ConstantFlow(), replace=True) is not constant
    with pytest.raises(TypeError, match="expected a flow.FlowEstimator, got str"):
        flow.register("dis")
    nameless = ConstantFlow()
    nameless.name = ""
    with pytest.raises(FlowMethodError, match="expected a non-empty str"):
        flow.register(nameless)
    with pytest.raises(FlowMethodError, match="unknown flow method"):
        flow.unregister("raft")
    with pytest.raises(FlowMethodError, match="expected one of dis, deepflow, constant, got None"):
        flow.get_estimator(None)


def test_a_bad_estimator_result_is_refused():
    a, b = translating_clip(2, 12, 16)
    flow.register(ConstantFlow(result_shape=(12, 15, 2)))
    try:
        with pytest.raises(FlowShapeError, match=r"constant estimator result: expected \(12, 16, 2\) float"):
            flow.estimate(a, b, "constant")
    finally:
        flow.unregister("constant")


def test_estimator_without_params_refuses_any():
    with pytest.raises(FlowMethodError, match="unknown parameter.*sigma for deepflow: expected none"):
        flow.resolve_params("deepflow", {"sigma": 1})
    assert flow.default_params("deepflow") == {}


def test_typed_param_checks_each_kind():
    check = flow.estimator.typed_param
    assert check("m", "n", np.int64(3), int) == 3 and type(check("m", "n", np.int64(3), int)) is int
    assert check("m", "x", 2, float) == 2.0 and check("m", "b", np.bool_(True), bool) is True
    for value, kind in [(True, int), (1.5, int), (1, bool), (True, float), ("1", float)]:
        with pytest.raises(FlowMethodError, match=f"m parameter p: expected {kind.__name__}"):
            check("m", "p", value, kind)
    with pytest.raises(FlowMethodError, match="expected a value >= 0"):
        check("m", "p", -1, int)

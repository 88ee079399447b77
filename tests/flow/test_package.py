"""The flow package stands alone: numpy + OpenCV only."""

import subprocess
import sys

import flow


def test_imports_neither_torch_nor_artvid():
    code = "import sys, flow; bad = {'torch', 'artvid'} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_api():
    for name in ("estimate", "reliability", "warp", "out_of_frame_mask", "read_flo", "write_flo", "read_mask",
                 "write_mask", "flow_to_color", "write_flow_png", "default_params", "METHODS",
                 "DEFAULT_CHECK", "FlowError", "FlowFileError", "FlowMethodError"):
        assert name in flow.__all__ and hasattr(flow, name)
    assert flow.METHODS == ("dis", "deepflow")
    assert issubclass(flow.FlowFileError, flow.FlowError) and issubclass(flow.FlowMethodError, ValueError)

"""Exceptions of the standalone ``flow`` package (no artvid imports)."""


class FlowError(Exception):
    """Base class for errors raised by the ``flow`` package."""


class FlowFileError(FlowError, ValueError):
    """A flow or mask file is missing, malformed or truncated."""


class FlowMethodError(FlowError, ValueError):
    """An unknown flow method or an invalid method parameter."""


class FlowShapeError(FlowError, ValueError):
    """An array passed to ``flow`` has the wrong shape, dtype or size."""

"""Exceptions raised by the artvid library.

Every error a user can cause derives from :class:`ArtvidError`; the CLI turns these into
one clear line and a non-zero exit. Messages say what was expected and what was got.
"""


class ArtvidError(Exception):
    """Base class for errors caused by input, configuration or the environment."""


class ConfigError(ArtvidError, ValueError):
    """An option or combination of options is invalid."""


class VideoReadError(ArtvidError):
    """A clip or image folder cannot be read as a sequence of frames."""


class VideoWriteError(ArtvidError):
    """The output video or frame folder cannot be written."""


class ImageReadError(ArtvidError):
    """A style or content image cannot be read."""


class FlowCacheError(ArtvidError):
    """The flow cache cannot be read or written."""


class WeightsError(ArtvidError):
    """VGG19 weights cannot be loaded."""


class WorkDirError(ArtvidError):
    """A render work directory cannot be used (other settings, unwritable, …)."""


class DeviceError(ArtvidError):
    """The requested compute device is unavailable or ran out of memory."""


class CompareError(ArtvidError):
    """Inputs to ``artvid compare`` do not fit together."""


class StylizeError(ArtvidError):
    """A frame's optimisation cannot succeed: its loss is never finite or every step diverges."""

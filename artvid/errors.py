"""Exceptions raised by the artvid library.

Every error a user can cause derives from :class:`ArtvidError`; the CLI turns these into
one clear line and a non-zero exit. Messages say what was expected and what was got.
"""


class ArtvidError(Exception):
    """Base class for errors caused by input, configuration or the environment."""


class ConfigError(ArtvidError, ValueError):
    """An option or combination of options is invalid."""


class OutputIsInputError(ConfigError):
    """An output would overwrite an input, or be written inside an input folder (or contain one)."""


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


class WorkDirInUseError(WorkDirError):
    """Another artvid run (or another WorkDir in this process) holds the work directory's lock."""


class DamagedFrameError(WorkDirError):
    """A stored frame is missing or does not match its checksum; it has been removed.

    Attributes:
        path: The frame's file.
        pass_index: Its pass (0 for a content frame).
        frame: Its index (0-based).
    """

    def __init__(self, message: str, path, pass_index: int, frame: int) -> None:
        super().__init__(message)
        self.path = path
        self.pass_index = pass_index
        self.frame = frame


class DeviceError(ArtvidError):
    """The requested compute device is unavailable or ran out of memory."""


class CompareError(ArtvidError):
    """Inputs to ``artvid compare`` do not fit together."""


class StylizeError(ArtvidError):
    """A frame's optimisation cannot succeed: its loss is never finite or every step diverges."""

"""artvid: artistic style transfer for videos (Ruder, Dosovitskiy and Brox), as a library and a command.

The public API (see :mod:`artvid.api`)::

    import artvid
    artvid.render("clip.mp4", "starry.jpg", "out.mp4", passes=3)
    artvid.stylize_image("photo.jpg", "starry.jpg", "photo-starry.png")
    artvid.compute_flow("clip.mp4", long_term=(1, 10))
    artvid.compare_clips("clip.mp4", ["out.mp4"], style="starry.jpg", report_dir="report/")

Importing ``artvid`` loads neither torch nor OpenCV; each function loads what it needs.
"""

__version__ = "0.1.0"

from artvid.api import compare_clips, compute_flow, render, stylize_image  # noqa: E402

__all__ = ["__version__", "compare_clips", "compute_flow", "render", "stylize_image"]

"""Still images: load style/content images, save frames, convert frames to and from tensors.

Every image leaves this package as a *frame*: ``np.ndarray (H, W, 3) uint8`` RGB. Whatever the file
holds (grayscale, palette, alpha, 16-bit, CMYK, float TIFF) is converted, never rejected:

- alpha is composited on white (a transparent style image should not paint black);
- 16-bit samples are scaled to 8 bits by ``round(v / 257)`` (so 65535 -> 255 exactly);
- EXIF orientation is applied, so a phone photo is used the way it is displayed.

``to_tensor`` / ``to_frame`` convert between frames and image tensors
``torch.Tensor (1, 3, H, W) float32`` in [0, 1] RGB, the form the stylizer works in. ``torch`` is
imported lazily, so reading video does not pay for it.

Modules: :mod:`~artvid.images.sizing` (long-side resizing), :mod:`~artvid.images.arrays` (any
decoded array to a frame), :mod:`~artvid.images.files` (reading and writing image files),
:mod:`~artvid.images.tensors` (frames to tensors and back).
"""

from artvid.images.arrays import array_to_rgb8, check_frame
from artvid.images.files import check_image_output, load_image, open_image, save_image
from artvid.images.sizing import fit_into, fit_long_side, resize_long_side, resize_to
from artvid.images.tensors import to_frame, to_tensor

__all__ = [
    "array_to_rgb8",
    "check_frame",
    "check_image_output",
    "fit_into",
    "fit_long_side",
    "load_image",
    "open_image",
    "resize_long_side",
    "resize_to",
    "save_image",
    "to_frame",
    "to_tensor",
]

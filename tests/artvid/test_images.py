"""Tests for artvid.images: loading every common image layout, atomic saving, tensor conversion."""

from __future__ import annotations

import logging
import warnings

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from artvid.errors import ImageReadError, VideoWriteError
from artvid.images import array_to_rgb8, fit_long_side, load_image, resize_long_side, save_image, to_frame, to_tensor
from tests.helpers import textured_image

H, W = 32, 48


def test_rgb_round_trip_is_exact(tmp_path):
    frame = textured_image(H, W)
    path = save_image(tmp_path / "a.png", frame)
    loaded = load_image(path)
    assert loaded.dtype == np.uint8 and loaded.shape == (H, W, 3)
    assert np.array_equal(loaded, frame)
    assert path.stat().st_mode & 0o044  # not mkstemp's private 0600
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temporary left behind


@pytest.mark.parametrize("suffix", [".jpg", ".bmp", ".tif", ".ppm", ".webp"])
def test_other_formats(tmp_path, suffix):
    frame = cv2.GaussianBlur(textured_image(H, W), (0, 0), 4.0)  # smooth: JPEG/WebP subsample chroma
    loaded = load_image(save_image(tmp_path / f"a{suffix}", frame))
    assert loaded.shape == (H, W, 3)
    assert np.abs(loaded.astype(int) - frame).mean() < 4


def test_gray_is_replicated(tmp_path):
    gray = textured_image(H, W)[..., 0]
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    loaded = load_image(tmp_path / "g.png")
    assert all(np.array_equal(loaded[..., c], gray) for c in range(3))


def test_one_bit(tmp_path):
    Image.fromarray(np.eye(H, W, dtype=bool)).convert("1").save(tmp_path / "b.png")
    loaded = load_image(tmp_path / "b.png")
    assert loaded[0, 0].tolist() == [255, 255, 255] and loaded[0, 1].tolist() == [0, 0, 0]


def test_gray_alpha_is_composited_on_white(tmp_path):
    la = np.zeros((H, W, 2), np.uint8)
    la[..., 1] = 255
    la[:, : W // 2, 1] = 0  # left half transparent
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    loaded = load_image(tmp_path / "la.png")
    assert (loaded[:, : W // 2] == 255).all() and (loaded[:, W // 2 :] == 0).all()


def test_rgba_half_transparent(tmp_path):
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 128
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    pixel = load_image(tmp_path / "rgba.png")[0, 0].astype(int)
    a = 128 / 255
    assert pixel.tolist() == [round(200 * a + 255 * (1 - a)), round(255 * (1 - a)), round(255 * (1 - a))]


def test_palette_with_and_without_transparency(tmp_path):
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:, W // 2 :] = (10, 200, 30)
    img = Image.fromarray(rgb, "RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    img.save(tmp_path / "p.png")
    assert np.array_equal(load_image(tmp_path / "p.png"), rgb)
    black = img.getpixel((0, 0))
    img.save(tmp_path / "pt.png", transparency=black)
    loaded = load_image(tmp_path / "pt.png")
    assert (loaded[:, : W // 2] == 255).all()  # the transparent index becomes white
    assert loaded[0, -1].tolist() == [10, 200, 30]


def test_sixteen_bit_gray_png_and_tiff(tmp_path):
    gray16 = np.linspace(0, 65535, H * W).reshape(H, W).astype(np.uint16)
    expected = np.rint(gray16 / 257).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "g16.png"), gray16)
    Image.fromarray(gray16).save(tmp_path / "g16.tif")
    for name in ("g16.png", "g16.tif"):
        loaded = load_image(tmp_path / name)
        assert np.abs(loaded[..., 1].astype(int) - expected).max() <= 1, name
        assert loaded[-1, -1, 0] == 255


def test_sixteen_bit_rgb_png_and_tiff(tmp_path):
    rgb16 = np.zeros((H, W, 3), np.uint16)
    rgb16[..., 0] = 65535
    rgb16[..., 2] = 257 * 100
    bgr16 = rgb16[..., ::-1].copy()
    cv2.imwrite(str(tmp_path / "c16.png"), bgr16)
    cv2.imwrite(str(tmp_path / "c16.tif"), bgr16)
    for name in ("c16.png", "c16.tif"):
        assert load_image(tmp_path / name)[0, 0].tolist() == [255, 0, 100], name


def test_opencv_fallback_keeps_channel_order_and_depth(tmp_path, monkeypatch):
    rgba16 = np.zeros((H, W, 4), np.uint16)
    rgba16[..., 0] = 65535
    rgba16[..., 2] = 257 * 100
    rgba16[..., 3] = 65535
    rgba16[0, 0, 3] = 0  # one transparent pixel
    cv2.imwrite(str(tmp_path / "c16.png"), rgba16[..., [2, 1, 0, 3]])
    cv2.imwrite(str(tmp_path / "c8.png"), np.full((H, W, 3), (1, 2, 3), np.uint8))

    def pillow_cannot(*args, **kwargs):
        raise OSError("cannot identify image file")

    monkeypatch.setattr(Image, "open", pillow_cannot)  # as for formats only OpenCV decodes
    loaded = load_image(tmp_path / "c16.png")
    assert loaded[0, 0].tolist() == [255, 255, 255] and loaded[1, 1].tolist() == [255, 0, 100]
    assert load_image(tmp_path / "c8.png")[0, 0].tolist() == [3, 2, 1]


def test_float_tiff_and_cmyk_jpeg(tmp_path):
    Image.fromarray(np.full((H, W), 0.5, np.float32), "F").save(tmp_path / "f.tif")
    assert load_image(tmp_path / "f.tif")[0, 0].tolist() == [128, 128, 128]
    Image.new("CMYK", (W, H), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    red = load_image(tmp_path / "cmyk.jpg")[0, 0].astype(int)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(textured_image(H, W))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert load_image(tmp_path / "rot.jpg").shape == (W, H, 3)


def test_max_side_shrinks_but_never_enlarges(tmp_path):
    path = save_image(tmp_path / "a.png", textured_image(H, W))
    assert load_image(path, max_side=24).shape == (16, 24, 3)
    assert load_image(path, max_side=500).shape == (H, W, 3)
    with pytest.raises(ValueError, match="positive int"):
        load_image(path, max_side=0)


def test_fit_and_resize_long_side():
    assert fit_long_side(47, 33, 20) == (20, 14)
    assert fit_long_side(1000, 1, 10) == (10, 1)  # never 0
    assert fit_long_side(47, 33, None) == (47, 33)
    frame = textured_image(H, W)
    assert resize_long_side(frame, None) is frame
    assert resize_long_side(frame, W) is frame
    assert resize_long_side(frame, 96).shape == (64, 96, 3)
    with pytest.raises(ValueError, match="positive int"):
        fit_long_side(4, 4, True)


def test_load_errors_name_the_path(tmp_path):
    with pytest.raises(ImageReadError, match="not found: .*nope.png"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="directory"):
        load_image(tmp_path)
    bad = tmp_path / "bad.jpg"
    bad.write_text("definitely not a jpeg")
    with pytest.raises(ImageReadError, match="bad.jpg"):
        load_image(bad)


def test_array_to_rgb8_rejects_non_images():
    with pytest.raises(ValueError, match="shape"):
        array_to_rgb8(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError, match="dtype"):
        array_to_rgb8(np.zeros((4, 4), np.complex64))
    assert array_to_rgb8(np.full((2, 2), 70000, np.int32))[0, 0, 0] == 255  # peak-scaled


def test_save_errors(tmp_path):
    frame = textured_image(H, W)
    with pytest.raises(VideoWriteError, match="does not exist"):
        save_image(tmp_path / "missing" / "a.png", frame)
    with pytest.raises(VideoWriteError, match="expected an image suffix"):
        save_image(tmp_path / "a.gif", frame)
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        save_image(tmp_path / "a.png", frame.astype(np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        save_image(tmp_path / "a.png", frame[..., 0])


def test_save_failure_leaves_nothing(tmp_path, monkeypatch):
    def broken_save(self, fp, format=None, **params):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(VideoWriteError, match="No space left"):
        save_image(tmp_path / "a.png", textured_image(H, W))
    assert list(tmp_path.iterdir()) == []


def test_to_tensor_and_back():
    frame = textured_image(H, W)
    tensor = to_tensor(frame)
    assert tensor.shape == (1, 3, H, W) and tensor.dtype == torch.float32 and tensor.is_contiguous()
    assert tensor.min() >= 0 and tensor.max() <= 1
    assert tensor[0, 0, 3, 5].item() == pytest.approx(frame[3, 5, 0] / 255)
    assert np.array_equal(to_frame(tensor), frame)
    assert np.array_equal(to_frame(tensor[0]), frame)  # (3, H, W) accepted too
    assert np.array_equal(to_frame(tensor.requires_grad_()), frame)
    with pytest.raises(ValueError, match="uint8"):
        to_tensor(frame.astype(np.float32))


def test_to_frame_rounds_and_clamps():
    tensor = torch.tensor([-0.5, 0.0, 0.4 / 255, 0.6 / 255, 1.0, 7.0]).reshape(1, 1, 1, 6).expand(1, 3, 1, 6)
    assert to_frame(tensor)[0, :, 0].tolist() == [0, 0, 0, 1, 255, 255]
    with pytest.raises(ValueError, match="NaN"):
        to_frame(torch.full((1, 3, 2, 2), float("nan")))
    with pytest.raises(ValueError, match="shape"):
        to_frame(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="torch.Tensor"):
        to_frame(np.zeros((3, 4, 4)))


def test_very_large_image_is_read_with_one_log_line_and_no_warning(tmp_path, monkeypatch, caplog):
    frame = textured_image(H, W)
    path = save_image(tmp_path / "huge.png", frame)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", H * W - 1)  # Pillow now warns about this image
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a raw DecompressionBombWarning would fail here
        with caplog.at_level(logging.WARNING, logger="artvid.images"):
            loaded = load_image(path)
    assert np.array_equal(loaded, frame)
    assert [r.getMessage() for r in caplog.records] == [
        f"{path} is a very large image ({W}x{H}, 0 megapixels); reading it anyway"]


def test_a_jpeg_above_pillows_hard_limit_is_read_reduced(tmp_path, monkeypatch, caplog):
    # A museum's scan of a painting can have hundreds of megapixels: decoded at 1/2, 1/4 or 1/8.
    path = tmp_path / "scan.jpg"
    Image.fromarray(textured_image(64, 96)).save(path, quality=95)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x96 is over 2000: refused by Pillow
    with caplog.at_level(logging.WARNING, logger="artvid.images"):
        loaded = load_image(path)
    assert loaded.shape == (16, 24, 3)  # 1/4: 1/2 (32x48 = 1536) is still over 1000
    assert [r.getMessage() for r in caplog.records] == [
        f"{path} is a very large image (96x64, 0 megapixels); reading it at 1/4 of its size (24x16)"]
    assert Image.MAX_IMAGE_PIXELS == 1000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)  # even 1/8 (12x8) is over 20: refused
    with pytest.raises(ImageReadError, match="decompression-bomb limit"):
        load_image(path)


def test_image_above_pillows_hard_limit_is_an_image_read_error(tmp_path, monkeypatch):
    path = save_image(tmp_path / "bomb.png", textured_image(H, W))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses above 2 * 100 pixels
    with pytest.raises(ImageReadError, match=rf"bomb\.png: expected at most 200 pixels \(Pillow's "
                                             rf"decompression-bomb limit\), got {H * W:,} pixels; shrink it first$"):
        load_image(path)

"""Image loading: every bad or unusual file gives RGB uint8 or one clear sentence."""

import io

import numpy as np
import pytest
from PIL import Image

from cvexplorer.imageio import ImageLoadError, ImageSaveError, as_rgb, load_image, load_image_info, save_png, working_copy


def _save(img: Image.Image, path, **kw):
    img.save(path, **kw)
    return path


def test_rgb_png_round_trip(tmp_path):
    a = (np.random.default_rng(0).random((30, 40, 3)) * 255).astype(np.uint8)
    p = save_png(tmp_path / "a.png", a)
    assert np.array_equal(load_image(p), a)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(p)


def test_truncated_jpeg(tmp_path):
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(1).random((200, 200, 3)) * 255).astype(np.uint8)).save(buf, "JPEG")
    p = tmp_path / "cut.jpg"
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="truncated|damaged"):
        load_image(p)


def test_text_file_renamed_png(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("this is not a picture\n" * 20)
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(p)


def test_16bit_png_is_scaled(tmp_path):
    a = np.array([[0, 65535], [257 * 100, 257 * 200]], np.uint16)
    p = _save(Image.fromarray(a), tmp_path / "deep.png")
    info = load_image_info(p)
    assert info.rgb.dtype == np.uint8 and info.rgb.shape == (2, 2, 3)
    assert info.rgb[:, :, 0].tolist() == [[0, 255], [100, 200]]
    assert any("16-bit" in n for n in info.notes)


def test_rgba_composited_over_white(tmp_path):
    a = np.zeros((4, 4, 4), np.uint8)
    a[..., 0] = 255
    a[:2, :, 3] = 255  # top half opaque red, bottom half transparent
    p = _save(Image.fromarray(a, "RGBA"), tmp_path / "alpha.png")
    rgb = load_image(p)
    assert rgb[0, 0].tolist() == [255, 0, 0] and rgb[3, 0].tolist() == [255, 255, 255]


def test_grayscale_becomes_three_equal_channels(tmp_path):
    g = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    rgb = load_image(_save(Image.fromarray(g, "L"), tmp_path / "g.png"))
    assert rgb.shape == (3, 4, 3) and np.array_equal(rgb[..., 1], g)


def test_non_ascii_file_name(tmp_path):
    a = np.full((5, 6, 3), 77, np.uint8)
    p = save_png(tmp_path / "Bild_äöü_写真.png", a)
    assert np.array_equal(load_image(p), a)


def test_exif_rotated_jpeg_is_upright(tmp_path):
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :20] = 255  # left half white, stored landscape
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90° CW to display"
    p = tmp_path / "rot.jpg"
    im.save(p, "JPEG", exif=exif, quality=95)
    rgb = load_image(p)
    assert rgb.shape[:2] == (40, 20)  # shown portrait
    assert rgb[:15].mean() > 200 and rgb[-15:].mean() < 50  # the white half ends up on top


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_decompression_bomb_refused_before_decoding(tmp_path):
    # A valid PNG header claiming 100000 x 100000 pixels, with no real pixel data behind it.
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b"")
    p = tmp_path / "bomb.png"
    p.write_bytes(png)
    with pytest.raises(ImageLoadError, match="refused before decoding"):
        load_image(p)


def test_animated_gif_first_frame(tmp_path):
    frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (10, 200)]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100)
    info = load_image_info(p)
    assert abs(int(info.rgb.mean()) - 10) <= 2 and any("frames" in n for n in info.notes)


def test_cmyk_and_palette(tmp_path):
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))  # red
    rgb = load_image(_save(cmyk, tmp_path / "c.jpg", quality=100))
    assert rgb[0, 0, 0] > 200 and rgb[0, 0, 1] < 60
    pal = Image.new("P", (4, 4))
    pal.putpalette([0, 0, 255] + [0] * 765)
    assert load_image(_save(pal, tmp_path / "p.png"))[0, 0].tolist() == [0, 0, 255]


def test_float_tiff_is_stretched(tmp_path):
    a = np.array([[-1.0, 0.0], [0.5, 1.0]], np.float32)
    info = load_image_info(_save(Image.fromarray(a, "F"), tmp_path / "f.tif"))
    assert info.rgb[0, 0, 0] == 0 and info.rgb[1, 1, 0] == 255


def test_as_rgb_rejects_bad_shapes():
    with pytest.raises(ImageLoadError):
        as_rgb(np.zeros((3, 3, 5)))
    assert as_rgb(np.ones((2, 2), float)).max() == 255


def test_working_copy_keeps_aspect():
    img, s = working_copy(np.zeros((3000, 30000, 3), np.uint8), max_pixels=9_000_000)
    assert img.shape[1] / img.shape[0] == pytest.approx(10, rel=0.01) and s < 1


def test_save_to_unwritable_place(tmp_path):
    with pytest.raises(ImageSaveError, match="Could not save"):
        save_png(tmp_path / "no_such_dir" / "x.png", np.zeros((2, 2, 3), np.uint8))


# -- hostile and giant files (issue: reliability round 2) ---------------------------------------------
def test_a_fifo_is_refused_without_reading(tmp_path):
    import os

    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageLoadError, match="not a regular file"):
        load_image(fifo)  # returns at once: a pipe is never opened


def test_a_radiance_header_claiming_400_mp_is_refused_before_decoding(tmp_path):
    p = tmp_path / "huge.hdr"
    p.write_bytes(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 20000 +X 20000\n" + b"\x00" * 64)
    with pytest.raises(ImageLoadError, match="20000×20000 pixels .* refused before decoding"):
        load_image(p)


def test_a_large_image_is_decoded_at_a_reduced_scale(tmp_path, monkeypatch):
    import cvexplorer.imageio as io

    monkeypatch.setattr(io, "FULL_DECODE_PIXELS", 100 * 100)
    img = np.zeros((300, 240, 3), np.uint8)
    img[:, 120:] = 200
    info = io.load_image_info(io.save_png(tmp_path / "big.png", img))
    assert info.rgb.shape == (100, 80, 3) and info.original_size == (240, 300)
    assert "1/3 scale" in " ".join(info.notes)
    assert info.rgb[:, :39].max() == 0 and info.rgb[:, 41:].min() == 200


def test_an_all_nan_float_tiff_says_so(tmp_path):
    from PIL import Image

    p = tmp_path / "nan.tif"
    Image.fromarray(np.full((4, 5), np.nan, np.float32), mode="F").save(p)
    with pytest.raises(ImageLoadError, match="no finite pixel values"):
        load_image(p)


def test_a_newline_in_a_file_name_does_not_reach_the_message(tmp_path):
    with pytest.raises(ImageLoadError) as info:
        load_image(tmp_path / "two\nlines.png")
    assert "\n" not in str(info.value)


def test_a_header_that_ends_early_is_one_sentence(tmp_path):
    p = tmp_path / "cut.pbm"
    p.write_bytes(b"P1")  # found by the property test: Pillow raised a bare ValueError here
    with pytest.raises(ImageLoadError, match="cut.pbm cannot be read"):
        load_image(p)

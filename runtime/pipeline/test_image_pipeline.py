"""Tests of image_pipeline.py without a server: `python -m pytest runtime/pipeline` or, with any
Python that has numpy and Pillow (the OneFlow environment has both), `python runtime/pipeline/test_image_pipeline.py`."""
import io
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_pipeline  # noqa: E402

STYLE = {"layout": "CHW", "shape": [1, 3, 256, 256], "scale": 255.0, "dtype": "float32"}


def photo(width=300, height=200, mode="RGB"):
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    pixels = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2).astype(np.uint8)
    image = Image.fromarray(pixels)
    return image.convert(mode) if mode != "RGB" else image


def encoded(image, image_format):
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


def test_formats_are_recognised_by_their_bytes():
    for name in ("JPEG", "PNG", "WEBP"):
        assert image_pipeline.image_format(encoded(photo(), name)) == name


def test_other_bytes_are_refused_with_what_they_are():
    for data in (b"", b"GIF89a....", encoded(photo(), "BMP")):
        try:
            image_pipeline.preprocess(data, STYLE)
        except image_pipeline.PipelineError as error:
            assert "not a JPEG, PNG or WebP image" in str(error)
        else:
            raise AssertionError("accepted")


def test_truncated_image_is_refused():
    data = encoded(photo(), "PNG")[:100]
    try:
        image_pipeline.preprocess(data, STYLE)
    except image_pipeline.PipelineError as error:
        assert "cannot decode this PNG image" in str(error)
    else:
        raise AssertionError("accepted")


def test_chw_float_resized_scaled_and_original_size_kept():
    array, size = image_pipeline.preprocess(encoded(photo(), "PNG"), STYLE)
    assert size == (200, 300)
    assert array.shape == (1, 3, 256, 256) and array.dtype == np.float32
    expected = np.asarray(photo().resize((256, 256), Image.BILINEAR), dtype=np.float32).transpose(2, 0, 1)
    assert np.array_equal(array[0], expected)


def test_hwc_uint8_grey_and_unit_scale():
    grey = {"layout": "HWC", "shape": [28, 28, 1], "scale": 1.0, "dtype": "uint8"}
    array, _ = image_pipeline.preprocess(encoded(photo(), "PNG"), grey)
    assert array.shape == (28, 28, 1) and array.dtype == np.uint8
    unit = {"layout": "HWC", "shape": [1, 32, 32, 3], "scale": 1.0, "dtype": "float32"}
    array, _ = image_pipeline.preprocess(encoded(photo(mode="L"), "PNG"), unit)
    assert array.shape == (1, 32, 32, 3) and 0.0 <= array.min() and array.max() <= 1.0


def test_free_height_and_width_keep_the_photo_size():
    free = {"layout": "CHW", "shape": [1, 3, -1, -1], "scale": 255.0, "dtype": "float32"}
    array, size = image_pipeline.preprocess(encoded(photo(), "PNG"), free)
    assert array.shape == (1, 3, 200, 300) and size == (200, 300)


def test_postprocess_clamps_resizes_and_encodes():
    values = np.full((1, 3, 256, 256), 300.0, dtype=np.float32)
    values[0, 1] = -20.0
    data = image_pipeline.postprocess_image(values, STYLE, (200, 300))
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (300, 200)
    pixels = np.asarray(image)
    assert (pixels[:, :, 0] == 255).all() and (pixels[:, :, 1] == 0).all()
    jpeg = image_pipeline.postprocess_image(values, STYLE, (200, 300), "jpeg")
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"


def test_postprocess_refuses_unknown_format():
    try:
        image_pipeline.postprocess_image(np.zeros((3, 8, 8), np.float32), STYLE, None, "gif")
    except image_pipeline.PipelineError as error:
        assert "png or jpeg" in str(error)
    else:
        raise AssertionError("accepted")


def test_round_trip_is_identity_for_an_identity_model():
    image = photo(256, 256)
    data = image_pipeline.reference(encoded(image, "PNG"), lambda x: x, STYLE, STYLE)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), np.asarray(image))


def test_top_labels_best_first():
    labels = ["cat", "dog", "bird"]
    assert image_pipeline.top_labels(np.array([[0.1, 0.7, 0.2]]), labels, 2) == ["0.700000:1:dog", "0.200000:2:bird"]
    assert len(image_pipeline.top_labels(np.array([0.1, 0.7, 0.2]), labels, 10)) == 3


if __name__ == "__main__":
    tests = [value for name, value in sorted(globals().items()) if name.startswith("test_")]
    for test in tests:
        test()
    print(f"{len(tests)} passed")

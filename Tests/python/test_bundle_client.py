"""The bundle template's client (templates/default/client/infer.py) without a server: how it turns
images and .npy files into the tensors a model's config describes, and image outputs back into images."""
import os
import sys

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                                "templates", "default", "client"))
import infer  # noqa: E402


def photo(path, width=60, height=40):
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    pixels = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=2).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return Image.fromarray(pixels)


def spec(shape, layout, datatype="FP32", dims=None):
    return {"name": "INPUT_0", "shape": shape, "image": layout, "datatype": datatype,
            "dims": dims if dims is not None else shape[1:]}


def test_a_photo_becomes_a_resized_scaled_chw_batch(tmp_path):
    image = photo(tmp_path / "photo.png")
    array = infer.image_to_tensor(str(tmp_path / "photo.png"), spec([1, 3, 16, 24], "CHW"), 1.0)
    assert array.shape == (1, 3, 16, 24) and array.dtype == np.float32
    expected = np.asarray(image.resize((24, 16), Image.BILINEAR), dtype=np.float32).transpose(2, 0, 1) / 255.0
    assert np.allclose(array[0], expected)
    assert 0.0 <= array.min() and array.max() <= 1.0


def test_a_grayscale_uint8_hwc_input_keeps_its_pixels(tmp_path):
    image = photo(tmp_path / "photo.png")
    array = infer.image_to_tensor(str(tmp_path / "photo.png"), spec([8, 8, 1], "HWC", "UINT8", [8, 8, 1]), 255.0)
    assert array.shape == (8, 8, 1) and array.dtype == np.uint8
    assert np.array_equal(array[:, :, 0], np.asarray(image.convert("L").resize((8, 8), Image.BILINEAR)))


def test_free_height_and_width_keep_the_photos_size(tmp_path):
    photo(tmp_path / "photo.jpg", width=30, height=20)
    array = infer.image_to_tensor(str(tmp_path / "photo.jpg"), spec([1, 3, -1, -1], "CHW"), 255.0)
    assert array.shape == (1, 3, 20, 30)
    assert array.max() > 200  # 0..255 at scale 255


def test_an_image_output_becomes_a_clamped_picture():
    tensor = np.zeros((1, 3, 2, 3), dtype=np.float32)
    tensor[0, 0] = 2.0  # past white at scale 1: clamped
    tensor[0, 1, 1, 2] = 0.5
    picture = infer.tensor_to_image(tensor, {"image": "CHW"}, scale=1.0)
    assert picture.mode == "RGB" and picture.size == (3, 2)
    pixels = np.asarray(picture)
    assert pixels[:, :, 0].tolist() == [[255, 255, 255], [255, 255, 255]]
    assert pixels[1, 2].tolist() == [255, 127, 0]
    gray = infer.tensor_to_image(np.full((4, 5, 1), 9, dtype=np.uint8), {"image": "HWC"})
    assert gray.mode == "L" and np.asarray(gray).tolist() == [[9] * 5] * 4


def test_an_image_round_trips_through_tensor_and_back(tmp_path):
    image = photo(tmp_path / "photo.png", width=12, height=10)
    array = infer.image_to_tensor(str(tmp_path / "photo.png"), spec([1, 10, 12, 3], "HWC"), 255.0)
    assert np.array_equal(np.asarray(infer.tensor_to_image(array, {"image": "HWC"})), np.asarray(image))


def test_an_npy_item_gains_its_batch_dimension_and_the_configs_type(tmp_path):
    path = tmp_path / "item.npy"
    np.save(path, np.arange(4, dtype=np.int32))
    array = infer.npy_to_tensor(str(path), {"name": "X", "shape": [-1, 4], "dims": [4], "datatype": "INT64"})
    assert array.shape == (1, 4) and array.dtype == np.int64 and array.tolist() == [[0, 1, 2, 3]]


def test_an_npy_of_the_wrong_shape_or_kind_is_refused(tmp_path):
    path = tmp_path / "item.npy"
    np.save(path, np.ones((2, 5)))
    with pytest.raises(infer.InputError, match=r"X needs shape \[-1, 4\] \(-1: any size\), the file holds \[2, 5\]"):
        infer.npy_to_tensor(str(path), {"name": "X", "shape": [-1, 4], "dims": [4], "datatype": "FP32"})
    np.save(path, np.ones((1, 4)))
    with pytest.raises(infer.InputError, match="X is INT32, the file holds float64"):
        infer.npy_to_tensor(str(path), {"name": "X", "shape": [-1, 4], "dims": [4], "datatype": "INT32"})


def test_random_inputs_follow_the_config_and_the_seed():
    model = {"name": "m", "inputs": [spec([-1, 3, 8, 8], "CHW"), {"name": "IDS", "shape": [2], "dims": [2], "datatype": "INT64"}]}
    first = infer.build_inputs(model, {}, random=True, seed=3, scale=1.0)
    again = infer.build_inputs(model, {}, random=True, seed=3, scale=1.0)
    other = infer.build_inputs(model, {}, random=True, seed=4, scale=1.0)
    assert first["INPUT_0"].shape == (1, 3, 8, 8) and first["IDS"].dtype == np.int64
    assert 0.0 <= first["INPUT_0"].min() and first["INPUT_0"].max() <= 1.0
    assert np.array_equal(first["INPUT_0"], again["INPUT_0"]) and not np.array_equal(first["INPUT_0"], other["INPUT_0"])


def test_inputs_not_given_or_unknown_are_named():
    model = {"name": "m", "inputs": [spec([1, 3, 8, 8], "CHW")]}
    with pytest.raises(infer.InputError, match=r"input INPUT_0 needs an image file \(--input INPUT_0=FILE\) or --random"):
        infer.build_inputs(model, {})
    with pytest.raises(infer.InputError, match="m has no input NOPE"):
        infer.build_inputs(model, {"NOPE": "x.npy"}, random=True)

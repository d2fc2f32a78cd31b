"""The image steps of a tritonpack pipeline (`pack --pipeline image`), as plain functions of
numpy arrays and bytes, so they can be tested without a server and computed directly by a client.

preprocess: encoded image (JPEG, PNG or WebP) -> the model's input tensor and the image's size.
postprocess_image: the model's image tensor -> an encoded image (PNG, or JPEG) at a given size.
top_labels: the model's score vector -> the k best labels.

A `spec` describes the model's tensor: `layout` ("CHW" or "HWC"), `shape` (the full tensor shape,
leading dimensions of 1 included; -1 for a free height or width), `scale` (the value of a white
pixel: 255 for 0..255, 1 for 0..1) and `dtype` (a numpy type name: float32, uint8, ...).
"""
import io

import numpy as np
from PIL import Image, ImageOps

SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))
FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG"}


class PipelineError(ValueError):
    """A request the pipeline cannot serve; the message says what is wrong with it."""


def image_format(data):
    """JPEG, PNG or WEBP from the first bytes; a PipelineError for anything else."""
    for magic, name in SIGNATURES:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    shown = data[:8].hex() if data else "nothing"
    raise PipelineError(f"IMAGE is not a JPEG, PNG or WebP image ({len(data)} bytes starting with {shown})")


def decode(data):
    """The image in `data`, turned upright as its EXIF orientation says."""
    if isinstance(data, np.ndarray):
        data = data.tobytes()
    data = bytes(data)
    expected = image_format(data)
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as error:
        raise PipelineError(f"IMAGE: cannot decode this {expected} image: {error}") from None
    return ImageOps.exif_transpose(image)


def _axes(spec):
    """(channels, height, width) of the spec's shape, the image dimensions counted from the end."""
    shape = list(spec["shape"])
    if spec["layout"] == "CHW":
        return shape[-3], shape[-2], shape[-1]
    return shape[-1], shape[-3], shape[-2]


def preprocess(data, spec):
    """The model's input for the encoded image `data`, and the image's (height, width)."""
    image = decode(data)
    size = (image.height, image.width)
    channels, height, width = _axes(spec)
    image = image.convert("L" if channels == 1 else "RGB")
    if height > 0 and width > 0 and image.size != (width, height):
        image = image.resize((width, height), Image.BILINEAR)
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if spec["layout"] == "CHW":
        pixels = pixels.transpose(2, 0, 1)
    dtype = np.dtype(spec["dtype"])
    if np.issubdtype(dtype, np.floating):
        array = pixels.astype(np.float32) * np.float32(float(spec["scale"]) / 255.0)
    else:
        array = pixels
    shape = [pixels.shape[k] if s < 0 else s for k, s in zip(range(-len(spec["shape"]), 0), spec["shape"])]
    leading = [1 if s < 0 else s for s in shape[:-3]]
    return np.ascontiguousarray(array.astype(dtype).reshape(leading + list(array.shape))), size


def to_pixels(array, spec):
    """The first image of the model's output as 8-bit pixels (HxWxC, C 1 or 3): scaled back to
    0..255, clamped and rounded."""
    array = np.asarray(array)
    while array.ndim > 3:
        array = array[0]
    if array.ndim != 3:
        raise PipelineError(f"the model's output has shape {list(np.asarray(array).shape)}, not an image")
    if spec["layout"] == "CHW":
        array = array.transpose(1, 2, 0)
    if array.shape[2] not in (1, 3):
        raise PipelineError(f"the model's output has {array.shape[2]} channels (an image has 1 or 3)")
    values = array.astype(np.float32) * np.float32(255.0 / float(spec["scale"]))
    return np.rint(np.clip(values, 0, 255)).astype(np.uint8)


def encode(pixels, size=None, image_format="png", quality=90):
    """PNG (or JPEG) bytes of 8-bit pixels, resized to `size` (height, width) when given."""
    name = FORMATS.get(str(image_format).lower())
    if name is None:
        raise PipelineError(f"format '{image_format}': the pipeline returns png or jpeg")
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    if size is not None:
        height, width = int(size[0]), int(size[1])
        if height > 0 and width > 0 and image.size != (width, height):
            image = image.resize((width, height), Image.BILINEAR)
    out = io.BytesIO()
    if name == "PNG":
        image.save(out, format="PNG", compress_level=3)
    else:
        image.save(out, format="JPEG", quality=int(quality))
    return out.getvalue()


def postprocess_image(array, spec, size=None, image_format="png", quality=90):
    """The model's image output encoded at `size` (height, width): what the pipeline returns."""
    return encode(to_pixels(array, spec), size, image_format, quality)


def read_labels(path):
    """One label per line (blank lines kept as their index)."""
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n").rstrip("\r") for line in handle]


def top_labels(scores, labels, k):
    """The k highest scores of a score vector as Triton's classification strings
    `<score>:<index>:<label>`, best first."""
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    k = max(1, min(int(k), values.size))
    order = np.argsort(-values, kind="stable")[:k]
    out = []
    for index in order:
        label = labels[index] if index < len(labels) else ""
        out.append(f"{values[index]:.6f}:{index}:{label}")
    return out


def reference(data, model, preprocess_spec, postprocess_spec, image_format="png"):
    """Preprocessing, `model` (a function of the input array) and postprocessing computed
    directly, as the pipeline computes them on a server."""
    array, size = preprocess(data, preprocess_spec)
    return postprocess_image(model(array), postprocess_spec, size, image_format)

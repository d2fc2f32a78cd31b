#!/usr/bin/env python3
"""Sends one request to a model of this bundle with tritonclient (HTTP with binary tensors, or
gRPC with --protocol grpc) and writes its outputs.

Every input is built from the model's config, as recorded in ../bundle.json: an image file for
image-shaped inputs, a .npy file otherwise, or random data with --random. Outputs are written
as .npy files, and image-shaped outputs also as .png.

    python3 client/infer.py --image photo.jpg [--output result.jpg]
    python3 client/infer.py --model @@default_model@@ --random
    python3 client/infer.py --model MODEL --input NAME=FILE [--input NAME=FILE ...] [--out DIR]
    python3 client/infer.py --protocol grpc --url localhost:8001 --random

`--image` feeds the model's image input and writes its image output to result.jpg (and the raw
tensor beside it, result.npy), as in OneFlow's deployment guide. When the bundle has the model's
image pipeline (`<model>_image`, from `tritonpack pack --pipeline image`), `--image` sends the
file's bytes to it and writes the image it returns (at the photo's size; JPEG for a .jpg output,
else PNG), or prints its labels, with Python's standard library alone.
"""
import argparse
import json
import os
import sys

REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "requirements.txt")


def missing(error):
    """The message for a Python package this script needs and cannot import."""
    return (f"infer.py: the Python package '{error.name}' is missing; install what the demo needs with: "
            f"{os.path.basename(sys.executable)} -m pip install -r {os.path.normpath(REQUIREMENTS)}")


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import triton_image_request  # noqa: E402  (standard library only; bundles with an image pipeline carry it)
except ImportError:
    triton_image_request = None

try:
    import numpy as np
except ImportError as _error:  # only a model without a pipeline needs numpy
    np = None
    NUMPY_MISSING = _error

BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "bundle.json")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
NUMPY_TYPES = {} if np is None else {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
    "FP16": np.float16, "FP32": np.float32, "FP64": np.float64, "BYTES": np.object_,
}


class InputError(Exception):
    """An input that cannot be built: the message says which and why."""


def load_bundle(path=BUNDLE):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def find_model(bundle, name=None):
    name = name or bundle["default_model"]
    for model in bundle["models"]:
        if model["name"] == name:
            return model
    known = ", ".join(m["name"] for m in bundle["models"])
    raise InputError(f"no model '{name}' in this bundle (it has: {known})")


def concrete_shape(spec):
    """The request shape, with each variable (-1) dimension set to 1."""
    return [1 if s < 0 else s for s in spec["shape"]]


def image_to_tensor(path, spec, scale):
    """Reads an image as the tensor `spec` describes: CHW or HWC, 1 or 3 channels, resized to the
    model's height and width when they are fixed, pixel values 0..255 times scale/255."""
    from PIL import Image

    shape = list(spec["shape"])
    layout = spec["image"]
    channels_at = len(shape) - 3 if layout == "CHW" else len(shape) - 1
    height_at = len(shape) - 2 if layout == "CHW" else len(shape) - 3
    channels = shape[channels_at]
    height, width = shape[height_at], shape[height_at + 1]
    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        if height > 0 and width > 0 and image.size != (width, height):
            image = image.resize((width, height), Image.BILINEAR)
        pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if layout == "CHW":
        pixels = pixels.transpose(2, 0, 1)
    dtype = NUMPY_TYPES[spec["datatype"]]
    array = pixels.astype(np.float32) * (scale / 255.0) if dtype != np.uint8 else pixels
    while array.ndim < len(shape):
        array = array[None]
    return array.astype(dtype)


def npy_to_tensor(path, spec):
    array = np.load(path, allow_pickle=spec["datatype"] == "BYTES")
    expected = spec["shape"]
    if array.ndim == len(expected) - 1 and len(spec["dims"]) == array.ndim and len(expected) > len(spec["dims"]):
        array = array[None]  # one item without its batch dimension
    if array.ndim != len(expected) or any(e >= 0 and e != a for e, a in zip(expected, array.shape)):
        raise InputError(f"{path}: {spec['name']} needs shape {expected} (-1: any size), the file holds {list(array.shape)}")
    dtype = NUMPY_TYPES[spec["datatype"]]
    if spec["datatype"] == "BYTES":
        return array.astype(np.object_)
    if array.dtype != dtype and not np.can_cast(array.dtype, dtype, casting="same_kind"):
        raise InputError(f"{path}: {spec['name']} is {spec['datatype']}, the file holds {array.dtype}")
    return array.astype(dtype)


def random_tensor(spec, rng, scale):
    shape = concrete_shape(spec)
    kind = spec["datatype"]
    if kind == "BYTES":
        return np.array([b"tritonpack"] * int(np.prod(shape)), dtype=np.object_).reshape(shape)
    if kind == "BOOL":
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    dtype = NUMPY_TYPES[kind]
    if np.issubdtype(dtype, np.integer):
        high = 256 if kind == "UINT8" else 10
        return rng.integers(0, high, size=shape).astype(dtype)
    if spec.get("image"):
        return (rng.random(size=shape) * scale).astype(dtype)
    return rng.standard_normal(size=shape).astype(dtype)


def build_inputs(model, files, random=False, seed=0, scale=255.0):
    """One array per config input, from `files` ({name: path}) or random data."""
    unknown = set(files) - {spec["name"] for spec in model["inputs"]}
    if unknown:
        raise InputError(f"{model['name']} has no input {', '.join(sorted(unknown))}")
    rng = np.random.default_rng(seed)
    arrays = {}
    for spec in model["inputs"]:
        path = files.get(spec["name"])
        if path is None:
            if not random:
                kind = "an image file" if spec.get("image") else "a .npy file"
                raise InputError(f"input {spec['name']} needs {kind} (--input {spec['name']}=FILE) or --random")
            arrays[spec["name"]] = random_tensor(spec, rng, scale)
        elif spec.get("image") and path.lower().endswith(IMAGE_SUFFIXES):
            arrays[spec["name"]] = image_to_tensor(path, spec, scale)
        else:
            arrays[spec["name"]] = npy_to_tensor(path, spec)
    return arrays


def infer(url, model, arrays, timeout=600.0, protocol="http"):
    """Sends the arrays with binary data and returns {output name: array}."""
    if protocol == "grpc":
        return infer_grpc(url, model, arrays, timeout)
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(url=url, connection_timeout=timeout, network_timeout=timeout)
    try:
        inputs = []
        for spec in model["inputs"]:
            array = arrays[spec["name"]]
            tensor = httpclient.InferInput(spec["name"], list(array.shape), spec["datatype"])
            tensor.set_data_from_numpy(array, binary_data=True)
            inputs.append(tensor)
        outputs = [httpclient.InferRequestedOutput(spec["name"], binary_data=True) for spec in model["outputs"]]
        result = client.infer(model["name"], inputs, outputs=outputs)
        return {spec["name"]: result.as_numpy(spec["name"]) for spec in model["outputs"]}
    finally:
        client.close()


def infer_grpc(url, model, arrays, timeout=600.0):
    """The same request over KServe v2 gRPC (tensors as raw bytes); returns {output name: array}."""
    import tritonclient.grpc as grpcclient

    client = grpcclient.InferenceServerClient(url=url)
    try:
        inputs = []
        for spec in model["inputs"]:
            array = arrays[spec["name"]]
            tensor = grpcclient.InferInput(spec["name"], list(array.shape), spec["datatype"])
            tensor.set_data_from_numpy(array)
            inputs.append(tensor)
        outputs = [grpcclient.InferRequestedOutput(spec["name"]) for spec in model["outputs"]]
        result = client.infer(model["name"], inputs, outputs=outputs, client_timeout=timeout)
        return {spec["name"]: result.as_numpy(spec["name"]) for spec in model["outputs"]}
    finally:
        client.close()


def tensor_to_image(array, spec, scale=255.0):
    """The first image of an image-shaped output as a PIL image, values clamped to 0..255."""
    from PIL import Image

    layout = spec["image"]
    pixels = np.asarray(array)
    while pixels.ndim > 3:
        pixels = pixels[0]
    if layout == "CHW":
        pixels = pixels.transpose(1, 2, 0)
    if pixels.dtype != np.uint8:
        pixels = np.clip(pixels.astype(np.float32) * (255.0 / scale), 0, 255).astype(np.uint8)
    if pixels.shape[2] == 1:
        return Image.fromarray(pixels[:, :, 0], mode="L")
    return Image.fromarray(pixels, mode="RGB")


def write_outputs(model, outputs, directory, scale=255.0):
    """Writes NAME.npy for every output and NAME.png for image-shaped ones; returns the paths."""
    os.makedirs(directory, exist_ok=True)
    written = []
    for spec in model["outputs"]:
        array = outputs[spec["name"]]
        path = os.path.join(directory, spec["name"] + ".npy")
        np.save(path, array)
        written.append(path)
        if spec.get("image"):
            path = os.path.join(directory, spec["name"] + ".png")
            tensor_to_image(array, spec, scale).save(path)
            written.append(path)
    return written


def infer_pipeline(args, pipeline):
    """--image through the bundle's image pipeline: bytes in, bytes (or labels) out."""
    if not os.path.isfile(args.image):
        raise InputError(f"{args.image}: no such file")
    with open(args.image, "rb") as handle:
        data = handle.read()
    try:
        if pipeline["outputs"][0]["name"] == "LABELS":
            for label in triton_image_request.infer_labels(args.url, pipeline["name"], data, args.top_k):
                print(label)
            return 0
        image_format = "jpeg" if os.path.splitext(args.output)[1].lower() in (".jpg", ".jpeg") else "png"
        answer = triton_image_request.infer_image(args.url, pipeline["name"], data, {"format": image_format})
    except Exception as error:  # the server's refusal, or no server
        print(f"infer.py: request to {args.url} for {pipeline['name']} failed: {error}", file=sys.stderr)
        return 1
    with open(args.output, "wb") as handle:
        handle.write(answer)
    print(args.output)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Send one request to a model of this bundle.")
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http",
                        help="HTTP (binary tensors, default) or gRPC (tritonclient.grpc)")
    parser.add_argument("--url", help="Triton's address for the protocol (default: $TRITON_URL, else localhost:8000 "
                        "for HTTP and localhost:8001 for gRPC)")
    parser.add_argument("--model", help="the model (default: @@default_model@@)")
    parser.add_argument("--input", action="append", default=[], metavar="NAME=FILE", help="an input's image or .npy file")
    parser.add_argument("--random", action="store_true", help="random data for inputs not given")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=255.0, help="the value of a white pixel for FP32 images (default 255)")
    parser.add_argument("--out", default="outputs", help="where outputs are written (default: outputs)")
    parser.add_argument("--image", help="an image for the model's image input (writes --output)")
    parser.add_argument("--output", default="result.jpg",
                        help="with --image: the image output's file (default result.jpg; the tensor goes beside it as .npy)")
    parser.add_argument("--top-k", type=int, help="with --image and a classifier's pipeline: how many labels")
    parser.add_argument("files", nargs="*", help="input files in config order (instead of --input)")
    args = parser.parse_args(argv)
    if args.url is None:
        args.url = os.environ.get("TRITON_URL") or ("localhost:8001" if args.protocol == "grpc" else "localhost:8000")
    try:
        bundle = load_bundle()
        model = find_model(bundle, args.model)
        pipeline = triton_image_request.find_pipeline(bundle, model["name"]) if triton_image_request else None
        if args.image and pipeline is not None:
            return infer_pipeline(args, pipeline)
        if np is None:
            print(missing(NUMPY_MISSING), file=sys.stderr)
            return 2
        if model["backend"] == "ensemble" and not model["inputs"]:
            raise InputError(f"{model['name']} declares no inputs")
        files = {}
        if args.image:
            images = [spec for spec in model["inputs"] if spec.get("image")]
            if not images:
                raise InputError(f"{model['name']} has no image-shaped input; use --input NAME=FILE")
            files[images[0]["name"]] = args.image
        for item in args.input:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise InputError(f"--input takes NAME=FILE, not '{item}'")
            files[name] = path
        if len(args.files) > len(model["inputs"]):
            raise InputError(f"{model['name']} takes {len(model['inputs'])} input(s), {len(args.files)} files given")
        for spec, path in zip(model["inputs"], args.files):
            files.setdefault(spec["name"], path)
        for path in files.values():
            if not os.path.isfile(path):
                raise InputError(f"{path}: no such file")
        arrays = build_inputs(model, files, random=args.random, seed=args.seed, scale=args.scale)
    except InputError as error:
        print(f"infer.py: {error}", file=sys.stderr)
        return 2
    except ImportError as error:
        print(missing(error), file=sys.stderr)
        return 2
    try:
        outputs = infer(args.url, model, arrays, protocol=args.protocol)
    except ImportError as error:
        print(missing(error), file=sys.stderr)
        return 2
    except Exception as error:  # tritonclient raises several types; all mean the request failed
        print(f"infer.py: {args.protocol} request to {args.url} for {model['name']} failed: {error}", file=sys.stderr)
        return 1
    if args.image:
        spec = next((spec for spec in model["outputs"] if spec.get("image")), None)
        if spec is not None:
            array = outputs[spec["name"]]
            np.save(os.path.splitext(args.output)[0] + ".npy", array)
            tensor_to_image(array, spec, args.scale).save(args.output)
            print(args.output)
            print(os.path.splitext(args.output)[0] + ".npy")
            return 0
    for path in write_outputs(model, outputs, args.out, args.scale):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

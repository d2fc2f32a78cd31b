"""One request to a Triton image pipeline with Python's standard library alone: the encoded image
as a BYTES tensor in Triton's binary tensor extension (a JSON header, then the tensor's bytes), the
answer's tensor read the same way. The bundle's client and web app carry this file.
"""
import json
import struct
import urllib.error
import urllib.request


class PipelineRequestError(Exception):
    """The server refused the request; the message is the server's."""


def request_body(data, input_name="IMAGE", output_name="IMAGE", parameters=None):
    """The body and the JSON header's length for one encoded image (a BYTES element: its length as
    4 little-endian bytes, then the bytes)."""
    element = struct.pack("<I", len(data)) + data
    header = {
        "inputs": [{"name": input_name, "shape": [1], "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(element)}}],
        "outputs": [{"name": output_name, "parameters": {"binary_data": True}}],
    }
    if parameters:
        header["parameters"] = parameters
    text = json.dumps(header).encode()
    return text + element, len(text)


def read_answer(body, header_length, output_name="IMAGE"):
    """The elements of the output tensor `output_name` of an answer (bytes each)."""
    if header_length is None:
        header, binary = json.loads(body), b""
    else:
        header, binary = json.loads(body[:header_length]), body[header_length:]
    offset = 0
    for output in header.get("outputs", []):
        size = output.get("parameters", {}).get("binary_data_size")
        if output["name"] != output_name:
            offset += size or 0
            continue
        if size is None:  # sent as JSON
            return [value.encode() if isinstance(value, str) else value for value in output.get("data", [])]
        chunk, elements = binary[offset:offset + size], []
        position = 0
        while position < len(chunk):
            (length,) = struct.unpack_from("<I", chunk, position)
            elements.append(chunk[position + 4:position + 4 + length])
            position += 4 + length
        return elements
    raise PipelineRequestError(f"the answer has no output {output_name}")


def infer(server, model, data, parameters=None, output_name="IMAGE", timeout=300):
    """Sends one encoded image to `model` on `server` (host:port) and returns the output's elements."""
    body, header_length = request_body(data, "IMAGE", output_name, parameters)
    url = f"http://{server}/v2/models/{model}/infer"
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(header_length)})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Inference-Header-Content-Length")
            return read_answer(response.read(), int(length) if length else None, output_name)
    except urllib.error.HTTPError as error:
        text = error.read().decode(errors="replace")
        try:
            text = json.loads(text).get("error", text)
        except ValueError:
            pass
        raise PipelineRequestError(f"{model}: {text}") from None


def infer_image(server, model, data, parameters=None, timeout=300):
    """The encoded image a pipeline returns for the encoded image `data`."""
    return infer(server, model, data, parameters, "OUTPUT_IMAGE", timeout)[0]


def infer_labels(server, model, data, top_k=None, timeout=300):
    """The labels (`<score>:<index>:<label>` strings) a classifier's pipeline returns."""
    parameters = {"top_k": int(top_k)} if top_k else None
    return [value.decode() for value in infer(server, model, data, parameters, "LABELS", timeout)]


def is_pipeline(model):
    """Whether a model of a bundle's bundle.json is an image pipeline's ensemble (IMAGE in,
    OUTPUT_IMAGE or LABELS out)."""
    inputs = [(spec["name"], spec["datatype"]) for spec in model.get("inputs", [])]
    outputs = [spec["name"] for spec in model.get("outputs", [])]
    return model.get("backend") == "ensemble" and inputs == [("IMAGE", "BYTES")] and outputs[:1] in (
        ["OUTPUT_IMAGE"], ["LABELS"])


def find_pipeline(bundle, name):
    """The pipeline for model `name` of a bundle (the model itself or `<name>_image`), or None."""
    for model in bundle.get("models", []):
        if model["name"] in (name, f"{name}_image") and is_pipeline(model):
            return model
    return None


def image_format(data):
    """JPEG, PNG or WEBP from an encoded image's first bytes (what the pipeline accepts), else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None

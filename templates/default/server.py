#!/usr/bin/env python3
"""A small web app in front of Triton: pick a model, upload its inputs (images or .npy files, or
ask for random data), and see the outputs (images shown, tensors summarized, all downloadable).

    python3 server.py --port 8080 --triton 127.0.0.1:8000

GET /            the upload form
POST /infer      multipart form: "model", one file per input name, "random" (optional);
                 answers HTML, or JSON with "Accept: application/json" or ?format=json
GET /health      200 once the app is up
An image pipeline (`tritonpack pack --pipeline image`) needs only Python's standard library: the
photo's bytes go to Triton as they are and the image (or labels) it returns is shown. Other models
need what client/infer.py needs (numpy, tritonclient, Pillow); without them their forms say so.
"""
import argparse
import base64
import html
import io
import json
import os
import sys
import tempfile
import time
import traceback
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "client"))
import infer  # noqa: E402  (client/infer.py)
try:
    import triton_image_request  # noqa: E402  (client/triton_image_request.py, in bundles with an image pipeline)
except ImportError:
    triton_image_request = None

np = infer.np  # None without numpy: then only image pipelines are offered

MAX_UPLOAD = 256 << 20
STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.2em .6em;text-align:left}"
         "img{max-width:100%}.pair{display:flex;gap:1em}.pair figure{flex:1;margin:0}.error{color:#b00020}")


def page(title, body):
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>").encode("utf-8")


def is_pipeline(model):
    """Whether `model` is an image pipeline's ensemble (standard library only: bytes in, bytes out)."""
    return triton_image_request is not None and triton_image_request.is_pipeline(model)


def pipeline_form(model):
    labels = model["outputs"][0]["name"] == "LABELS"
    extra = ("<label> top <input type='number' name='top_k' value='5' min='1' style='width:4em'> labels</label> "
             if labels else "")
    return (f"<h2>{html.escape(model['name'])}</h2><p>image pipeline: a photo (JPEG, PNG or WebP) in, "
            f"{'its labels' if labels else 'an image at the photo&#39;s size'} out</p>"
            "<form method='post' action='/infer' enctype='multipart/form-data'>"
            f"<input type='hidden' name='model' value='{html.escape(model['name'])}'>"
            "<input type='file' name='IMAGE' accept='image/jpeg,image/png,image/webp'> "
            f"{extra}<button type='submit'>Infer</button></form>")


def form(bundle):
    parts = []
    pipelines = [model for model in bundle["models"] if is_pipeline(model)]
    # A pipeline's own steps take tensors from the ensemble, not from people: not offered.
    steps = {pipeline["name"][:-len("_image")] + suffix for pipeline in pipelines if pipeline["name"].endswith("_image")
             for suffix in ("_preprocess", "_postprocess")}
    for model in pipelines + [model for model in bundle["models"] if model not in pipelines and model["name"] not in steps]:
        if is_pipeline(model):
            parts.append(pipeline_form(model))
            continue
        if model["backend"] == "ensemble" and not model["inputs"]:
            continue
        if np is None:
            parts.append(f"<h2>{html.escape(model['name'])}</h2><p>needs numpy, tritonclient and Pillow: "
                         f"{html.escape(sys.executable)} -m pip install -r requirements.txt</p>")
            continue
        rows = []
        for spec in model["inputs"]:
            accept = "image/*" if spec.get("image") else ".npy"
            kind = "image" if spec.get("image") else ".npy"
            rows.append(f"<tr><td><code>{html.escape(spec['name'])}</code></td><td>{spec['datatype']} {spec['shape']}</td>"
                        f"<td><input type='file' name='{html.escape(spec['name'])}' accept='{accept}'> ({kind})</td></tr>")
        parts.append(
            f"<h2>{html.escape(model['name'])}</h2><form method='post' action='/infer' enctype='multipart/form-data'>"
            f"<input type='hidden' name='model' value='{html.escape(model['name'])}'><table>{''.join(rows)}</table>"
            "<label><input type='checkbox' name='random' value='1'> random data for inputs not uploaded</label> "
            "<button type='submit'>Infer</button></form>")
    return page("Triton demo", "".join(parts))


def parse_multipart(content_type, body):
    """{field name: (filename or None, bytes)} from a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise infer.InputError("expected a multipart/form-data body")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return fields


def run_pipeline(triton_url, model, fields):
    """Sends the uploaded photo's bytes to the pipeline; returns an HTML body part or a JSON value."""
    filename, data = fields.get("IMAGE", (None, b""))
    if not data:
        raise infer.InputError("choose a photo (JPEG, PNG or WebP) to upload")
    started = time.perf_counter()
    try:
        if model["outputs"][0]["name"] == "LABELS":
            top_k = (fields.get("top_k") or (None, b""))[1].decode() or None
            result = {"labels": triton_image_request.infer_labels(triton_url, model["name"], data, top_k)}
        else:
            result = {"image": triton_image_request.infer_image(triton_url, model["name"], data, {"format": "png"})}
    except triton_image_request.PipelineRequestError as error:
        raise infer.InputError(str(error)) from error
    result["seconds"] = time.perf_counter() - started
    result["original"] = data
    return result


def pipeline_html(model, result):
    seconds = result["seconds"]
    parts = ["<p><a href='/'>back</a></p>",
             f"<p id='latency'>Triton answered in <b>{seconds * 1000:.1f} ms</b> (request and response included).</p>"]
    kind = (triton_image_request.image_format(result["original"]) or "png").lower()
    original = f"data:image/{kind};base64," + base64.b64encode(result["original"]).decode()
    if "image" in result:
        styled = "data:image/png;base64," + base64.b64encode(result["image"]).decode()
        parts.append(
            "<div class='pair'>"
            f"<figure><img id='original' alt='original' src='{original}'><figcaption>original</figcaption></figure>"
            f"<figure><img id='result' alt='result' src='{styled}'><figcaption>result "
            f"(<code>{html.escape(model['name'])}</code>)</figcaption></figure></div>"
            f"<p><a download='result.png' href='{styled}'>download result.png</a></p>")
    else:
        rows = "".join(f"<tr><td>{html.escape(label.split(':', 2)[2])}</td><td>{html.escape(label.split(':', 2)[0])}</td></tr>"
                       for label in result["labels"])
        parts.append(f"<figure><img id='original' alt='original' src='{original}' style='max-width:20em'></figure>"
                     f"<table id='labels'><tr><th>label</th><th>score</th></tr>{rows}</table>")
    return page(f"{model['name']}: result", "".join(parts))


def pipeline_json(model, result):
    answer = {"model": model["name"], "latency_ms": round(result["seconds"] * 1000, 3)}
    if "image" in result:
        answer["image_png_base64"] = base64.b64encode(result["image"]).decode()
    else:
        answer["labels"] = result["labels"]
    return answer


def png_data_uri(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def run_model(bundle, triton_url, fields):
    """Runs the model on the uploaded files; returns the model, its outputs, the seconds the request
    took, and {input name: data URI} of the image inputs as the model saw them."""
    model = infer.find_model(bundle, (fields.get("model") or (None, b""))[1].decode() or None)
    random = (fields.get("random") or (None, b""))[1] not in (b"", b"0")
    with tempfile.TemporaryDirectory(prefix="tritonpack-demo-") as folder:
        files = {}
        for spec in model["inputs"]:
            filename, data = fields.get(spec["name"], (None, b""))
            if not data:
                continue
            suffix = os.path.splitext(filename or "")[1].lower() or (".png" if spec.get("image") else ".npy")
            path = os.path.join(folder, spec["name"] + suffix)
            with open(path, "wb") as handle:
                handle.write(data)
            files[spec["name"]] = path
        try:
            arrays = infer.build_inputs(model, files, random=random)
        except infer.InputError:
            raise
        except Exception as error:  # an upload that is no image Pillow can read, or a damaged .npy
            raise infer.InputError(f"cannot read the upload: {error}") from error
        started = time.perf_counter()
        outputs = infer.infer(triton_url, model, arrays)
        seconds = time.perf_counter() - started
    originals = {spec["name"]: png_data_uri(infer.tensor_to_image(arrays[spec["name"]], spec))
                 for spec in model["inputs"] if spec.get("image")}
    return model, outputs, seconds, originals


def outputs_json(model, outputs, seconds):
    result = {}
    for spec in model["outputs"]:
        array = outputs[spec["name"]]
        values = array.tolist() if array.dtype != np.object_ else [v.decode("utf-8", "replace") for v in array.ravel()]
        result[spec["name"]] = {"datatype": spec["datatype"], "shape": list(array.shape), "data": values}
    return {"model": model["name"], "latency_ms": round(seconds * 1000, 3), "outputs": result}


def outputs_html(model, outputs, seconds, originals):
    parts = ["<p><a href='/'>back</a></p>",
             f"<p id='latency'>Triton answered in <b>{seconds * 1000:.1f} ms</b> (request and response included).</p>"]
    images = [spec for spec in model["outputs"] if spec.get("image")]
    if originals and images:
        original_name, original = next(iter(originals.items()))
        result = png_data_uri(infer.tensor_to_image(outputs[images[0]["name"]], images[0]))
        parts.append(
            "<div class='pair'>"
            f"<figure><img id='original' alt='original' src='{original}'><figcaption>original "
            f"(<code>{html.escape(original_name)}</code>)</figcaption></figure>"
            f"<figure><img id='result' alt='result' src='{result}'><figcaption>result "
            f"(<code>{html.escape(images[0]['name'])}</code>)</figcaption></figure></div>")
    for spec in model["outputs"]:
        array = outputs[spec["name"]]
        buffer = io.BytesIO()
        np.save(buffer, array)
        download = base64.b64encode(buffer.getvalue()).decode()
        parts.append(f"<h2><code>{html.escape(spec['name'])}</code> {spec['datatype']} {list(array.shape)}</h2>")
        if spec.get("image"):
            png = io.BytesIO()
            infer.tensor_to_image(array, spec).save(png, format="PNG")
            parts.append(f"<img alt='{html.escape(spec['name'])}' src='data:image/png;base64,{base64.b64encode(png.getvalue()).decode()}'>")
        elif array.dtype != np.object_ and array.size:
            flat = array.ravel()
            shown = ", ".join(f"{v:.6g}" if np.issubdtype(array.dtype, np.floating) else str(v) for v in flat[:16])
            more = f", ... ({array.size} values)" if array.size > 16 else ""
            parts.append(f"<p>min {flat.min():.6g}, max {flat.max():.6g}</p><pre>[{html.escape(shown)}{more}]</pre>")
        parts.append(f"<p><a download='{html.escape(spec['name'])}.npy' href='data:application/octet-stream;base64,{download}'>"
                     f"download {html.escape(spec['name'])}.npy</a></p>")
    return page(f"{model['name']}: outputs", "".join(parts))


class Handler(BaseHTTPRequestHandler):
    bundle = None
    triton_url = None

    def send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def wants_json(self):
        query = parse_qs(urlparse(self.path).query)
        return query.get("format") == ["json"] or "application/json" in self.headers.get("Accept", "")

    def do_GET(self):
        path = urlparse(self.path).path
        if path == "/health":
            self.send(200, b"ok\n", "text/plain")
        elif path == "/":
            self.send(200, form(self.bundle), "text/html; charset=utf-8")
        elif path == "/bundle.json":
            self.send(200, json.dumps(self.bundle).encode(), "application/json")
        else:
            self.send(404, b"not found\n", "text/plain")

    def do_POST(self):
        if urlparse(self.path).path != "/infer":
            self.send(404, b"not found\n", "text/plain")
            return
        as_json = self.wants_json()
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if length > MAX_UPLOAD:
                raise infer.InputError(f"upload of {length} bytes is over the {MAX_UPLOAD} byte limit")
            fields = parse_multipart(self.headers.get("Content-Type", ""), self.rfile.read(length))
            model = infer.find_model(self.bundle, (fields.get("model") or (None, b""))[1].decode() or None)
            if is_pipeline(model):
                result = run_pipeline(self.triton_url, model, fields)
                if as_json:
                    self.send(200, json.dumps(pipeline_json(model, result)).encode(), "application/json")
                else:
                    self.send(200, pipeline_html(model, result), "text/html; charset=utf-8")
                return
            if np is None:
                raise infer.InputError(f"{model['name']} needs numpy, tritonclient and Pillow: "
                                       f"{sys.executable} -m pip install -r requirements.txt")
            model, outputs, seconds, originals = run_model(self.bundle, self.triton_url, fields)
        except infer.InputError as error:
            self.fail(400, str(error), as_json)
            return
        except Exception as error:  # the request to Triton failed; say why instead of a stack trace
            traceback.print_exc()
            self.fail(502, f"inference failed: {error}", as_json)
            return
        if as_json:
            self.send(200, json.dumps(outputs_json(model, outputs, seconds)).encode(), "application/json")
        else:
            self.send(200, outputs_html(model, outputs, seconds, originals), "text/html; charset=utf-8")

    def fail(self, status, message, as_json):
        if as_json:
            self.send(status, json.dumps({"error": message}).encode(), "application/json")
        else:
            self.send(status, page("Error", f"<p id='error' class='error'>{html.escape(message)}</p><p><a href='/'>back</a></p>"),
                      "text/html; charset=utf-8")


def main():
    parser = argparse.ArgumentParser(description="Web app in front of Triton for this bundle's models.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)")
    parser.add_argument("--triton", default="127.0.0.1:8000", help="Triton's HTTP address")
    args = parser.parse_args()
    Handler.bundle = infer.load_bundle()
    Handler.triton_url = args.triton
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"server.py: listening on http://{args.host}:{args.port}, Triton at {args.triton}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()

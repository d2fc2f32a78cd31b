"""Trains the style-transfer sample samples/oneflow/style_transfer: the TransformerNet of OneFlow's
deployment guide (the architecture of samples/oneflow/fast_neural_style, which keeps random
weights) taught to reproduce one unmistakable painterly filter, then saved with OneFlow 0.9.0 at
1x3x256x256 (RGB, 0..255 in and out, as in the guide) with golden data.

The filter (`paint` below, Pillow only) is a poster painting: a mode filter (flat patches of
colour, like an oil painting), colours posterized to 3 levels per channel, a warm tint, and dark
ink outlines along the edges. The network learns it on small random crops of freely licensed
photos shipped in scikit-image's wheel (it is fully convolutional, so 256x256 works afterwards);
chelsea (the test photo of samples/images) is left out of the training set.

Training ends with a colour fit: the last convolution is linear, so a least-squares 3x3 colour
matrix and offset from its outputs to the filter's colours is folded into its weights (same
architecture, brighter and closer colours after a short training).

Usage (about 20 minutes on two shared CPU cores):
  <python with oneflow> scripts/train_style_sample.py SKIMAGE_WHEEL_OR_DATA_DIR samples/oneflow/style_transfer \
      [--steps 400] [--crop 48] [--batch 2] [--resume OLD/model --steps 0]

SKIMAGE_WHEEL_OR_DATA_DIR: scikit-image's wheel (`pip download scikit-image==0.24.0 --no-deps`) or
its skimage/data folder.
"""
import argparse
import io
import json
import os
import sys
import time
import zipfile

import numpy as np
import oneflow as flow
import oneflow.nn as nn
from PIL import Image, ImageFilter

# Freely licensed photos of skimage.data (see samples/oneflow/style_transfer/README.md).
PHOTOS = ["astronaut.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg"]
TEST_PHOTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "samples", "images", "chelsea.jpg")


def paint(image):
    """The filter the network learns: flat colour patches, 3 levels per channel, warm tint, ink edges."""
    image = image.convert("RGB")
    flat = image.filter(ImageFilter.ModeFilter(5)).filter(ImageFilter.SMOOTH_MORE)
    poster = np.asarray(flat, dtype=np.float32)
    levels = np.round(poster / 127.5) * 127.5  # 0, 127.5, 255
    warm = levels * np.array([1.0, 0.82, 0.55], dtype=np.float32) + np.array([30, 18, 0], dtype=np.float32)
    edges = np.asarray(image.convert("L").filter(ImageFilter.GaussianBlur(1)).filter(ImageFilter.FIND_EDGES),
                       dtype=np.float32)
    ink = np.clip((edges - 12.0) / 24.0, 0.0, 1.0)[:, :, None]
    out = warm * (1.0 - 0.85 * ink)
    return np.clip(out, 0, 255).astype(np.uint8)


class ConvLayer(nn.Module):
    def __init__(self, cin, cout, k, s):
        super().__init__()
        self.pad = nn.ReflectionPad2d(k // 2)
        self.conv = nn.Conv2d(cin, cout, k, s)

    def forward(self, x):
        return self.conv(self.pad(x))


class ResidualBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvLayer(c, c, 3, 1)
        self.in1 = nn.InstanceNorm2d(c, affine=True)
        self.conv2 = ConvLayer(c, c, 3, 1)
        self.in2 = nn.InstanceNorm2d(c, affine=True)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(out)) + x


class Upsample(nn.Module):
    def __init__(self, cin, cout, k, s, up=None):
        super().__init__()
        self.up = up
        self.pad = nn.ReflectionPad2d(k // 2)
        self.conv = nn.Conv2d(cin, cout, k, s)

    def forward(self, x):
        if self.up:
            x = flow.nn.functional.interpolate(x, scale_factor=self.up, mode="nearest")
        return self.conv(self.pad(x))


class TransformerNet(nn.Module):
    """OneFlow's fast neural style network (the deployment guide's model), as in fast_neural_style."""

    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 32, 9, 1)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = ConvLayer(32, 64, 3, 2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = ConvLayer(64, 128, 3, 2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        self.res = nn.Sequential(*[ResidualBlock(128) for _ in range(5)])
        self.deconv1 = Upsample(128, 64, 3, 1, 2)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = Upsample(64, 32, 3, 1, 2)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = ConvLayer(32, 3, 9, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def photos(source):
    """The training photos as RGB Pillow images, from the wheel or a data folder."""
    images = []
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            for name in PHOTOS:
                images.append(Image.open(io.BytesIO(wheel.read(f"skimage/data/{name}"))).convert("RGB"))
    else:
        for name in PHOTOS:
            images.append(Image.open(os.path.join(source, name)).convert("RGB"))
    return images


def training_pairs(images, crop):
    """Photo and painted photo, at full size and half size (more scales of the same strokes)."""
    pairs = []
    for image in images:
        for factor in (1.0, 0.5):
            scaled = image.resize((max(crop, int(image.width * factor)), max(crop, int(image.height * factor))),
                                  Image.BILINEAR)
            pairs.append((np.asarray(scaled, dtype=np.float32), paint(scaled).astype(np.float32)))
    return pairs


def batch(pairs, rng, size, crop):
    xs, ys = [], []
    for _ in range(size):
        x, y = pairs[rng.integers(len(pairs))]
        top = rng.integers(x.shape[0] - crop + 1)
        left = rng.integers(x.shape[1] - crop + 1)
        xs.append(x[top:top + crop, left:left + crop].transpose(2, 0, 1))
        ys.append(y[top:top + crop, left:left + crop].transpose(2, 0, 1))
    return flow.tensor(np.stack(xs)), flow.tensor(np.stack(ys))


def load_saved(net, graph_dir):
    """The parameters of a graph this script saved before (`<graph_dir>/m.<name>/out`, raw float32)."""
    with flow.no_grad():
        for name, parameter in net.named_parameters():
            path = os.path.join(graph_dir, f"m.{name}", "out")
            values = np.fromfile(path, dtype=np.float32).reshape(tuple(parameter.shape))
            parameter.copy_(flow.tensor(values))


def calibrate(net, pairs, rng, crop, count=24):
    """Fits the colours the network returns to the filter's by least squares (a 3x3 matrix and an
    offset) over `count` crops, and folds that affine map into the last convolution, which is
    linear: the architecture is unchanged, only deconv3's weights and bias move."""
    outputs, targets = [], []
    with flow.no_grad():
        for _ in range(count):
            x, y = batch(pairs, rng, 1, crop)
            outputs.append(net(x).numpy()[0].reshape(3, -1).T)
            targets.append(y.numpy()[0].reshape(3, -1).T)
    outputs, targets = np.concatenate(outputs), np.concatenate(targets)
    design = np.concatenate([outputs, np.ones((len(outputs), 1), np.float32)], axis=1)
    solution, *_ = np.linalg.lstsq(design, targets, rcond=None)
    matrix, offset = solution[:3].T, solution[3]
    before = float(np.abs(outputs - targets).mean())
    after = float(np.abs(design @ solution - targets).mean())
    conv = net.deconv3.conv
    weight, bias = conv.weight.numpy(), conv.bias.numpy()
    with flow.no_grad():
        conv.weight.copy_(flow.tensor(np.einsum("oi,ijkl->ojkl", matrix, weight).astype(np.float32)))
        conv.bias.copy_(flow.tensor((matrix @ bias + offset).astype(np.float32)))
    return before, after


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--crop", type=int, default=48)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", help="start from the parameters of a graph this script saved (its model/ folder)")
    parser.add_argument("--calibrate-crop", type=int, default=128, help="crop size of the final colour fit (0: none)")
    args = parser.parse_args()

    flow.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    pairs = training_pairs(photos(args.source), args.crop)
    net = TransformerNet()
    if args.resume:
        load_saved(net, args.resume)
    else:
        with flow.no_grad():
            net.deconv3.conv.bias.fill_(128.0)  # start from mid grey: the output is in 0..255
    optimizer = flow.optim.Adam(net.parameters(), lr=3e-3)
    scheduler = flow.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, args.steps))
    started = time.time()
    for step in range(1, args.steps + 1):
        x, y = batch(pairs, rng, args.batch, args.crop)
        loss = flow.nn.functional.l1_loss(net(x) / 255.0, y / 255.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % 10 == 0 or step == 1:
            print(f"step {step}/{args.steps} L1 {loss.item() * 255:.1f} levels, {time.time() - started:.0f} s", flush=True)

    net.eval()
    calibration = None
    if args.calibrate_crop:
        calibration = calibrate(net, pairs, rng, args.calibrate_crop)
        print(f"colour fit: mean error {calibration[0]:.1f} -> {calibration[1]:.1f} levels", flush=True)

    class StyleGraph(nn.Graph):
        def __init__(self):
            super().__init__()
            self.m = net

        def build(self, x):
            return self.m(x)

    with Image.open(TEST_PHOTO) as photo:
        photo = photo.convert("RGB").resize((256, 256), Image.BILINEAR)
        pixels = np.asarray(photo, dtype=np.float32).transpose(2, 0, 1)[None].copy()
        target = paint(photo).astype(np.float32)
    graph = StyleGraph()
    output = graph(flow.tensor(pixels)).numpy()
    os.makedirs(os.path.join(args.out, "golden"), exist_ok=True)
    flow.save(graph, os.path.join(args.out, "model"))
    np.save(os.path.join(args.out, "golden", "INPUT_0.npy"), pixels)
    np.save(os.path.join(args.out, "golden", "OUTPUT_0.npy"), output)
    styled = np.clip(output[0].transpose(1, 2, 0), 0, 255)
    error = float(np.abs(styled - target).mean())
    change = float(np.abs(styled - pixels[0].transpose(1, 2, 0)).mean())
    Image.fromarray(styled.astype(np.uint8)).save(os.path.join(args.out, "chelsea-styled.png"))
    Image.fromarray(paint(photo)).save(os.path.join(args.out, "chelsea-filter.png"))
    summary = {
        "inputs": [[list(pixels.shape), "oneflow.float32"]],
        "outputs": [[list(output.shape), "oneflow.float32"]],
    }
    with open(os.path.join(args.out, "signature.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    print(json.dumps({"steps": args.steps, "crop": args.crop, "resumed": bool(args.resume),
                      "colour_fit_levels": calibration and [round(value, 1) for value in calibration], "seconds": round(time.time() - started),
                      "chelsea_mean_abs_error_vs_filter": round(error, 1),
                      "chelsea_mean_abs_change_vs_photo": round(change, 1),
                      "output_range": [float(output.min()), float(output.max())]}))


if __name__ == "__main__":
    sys.exit(main())

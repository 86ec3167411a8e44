"""PyTorch reference for bench/score.sh: the same scoring as `busi score` on the same images.

torchvision's ResNet-18 with a 1-channel stem and 3 classes (the width busi's resnet18 has at width 1.0),
freshly initialised, in eval mode: read and decode each image, convert to gray, squash it to SIZE x SIZE
(bilinear), normalise, and run minibatches of 32 without gradients. Prints one Markdown table row like
bench/score.sh's, for decode + inference (the comparable number) and a line for inference alone.

Usage: /usr/bin/python3 bench/score_reference.py FOLDER [--size 128] [--threads 1] [--batch 32]
"""
import argparse
import pathlib
import time

import numpy as np
import torch
import torchvision
from PIL import Image


def model():
    net = torchvision.models.resnet18(num_classes=3)
    net.conv1 = torch.nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return net.eval()


def load(path, size):
    gray = Image.open(path).convert("L").resize((size, size), Image.BILINEAR)
    return (np.asarray(gray, dtype=np.float32) / 255.0 - 0.3) / 0.2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    files = sorted(p for p in pathlib.Path(args.folder).rglob("*.png") if "_mask" not in p.name)
    net = model()
    with torch.no_grad():
        net(torch.zeros(2, 1, args.size, args.size))  # warm-up
        infer = 0.0
        start = time.perf_counter()
        for i in range(0, len(files), args.batch):
            x = torch.from_numpy(np.stack([load(f, args.size) for f in files[i:i + args.batch]])).unsqueeze(1)
            t = time.perf_counter()
            probs = torch.softmax(net(x), dim=1)
            infer += time.perf_counter() - t
            assert probs.shape == (x.shape[0], 3)
        total = time.perf_counter() - start
    n = len(files)
    print(f"| pytorch {torch.__version__} | {args.threads} | {n} | {total:.1f} | {n / total:.1f} "
          f"| {n / total / args.threads:.1f} | |")
    print(f"pytorch inference alone, {args.threads} thread(s), {args.size}px, batch {args.batch}: "
          f"{n / infer:.1f} images/s")


if __name__ == "__main__":
    main()

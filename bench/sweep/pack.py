"""Packs the ingested BUSI split for bench/sweep/sweep.py into one compressed .npz (numpy + PIL only).

Input: the CSV written by bench/sweep/export_split.java (source_path,label,split,dup_group) and the image files
it names (masks are the sibling files NAME_mask.png, NAME_mask_1.png, ..., OR-ed together).
Output arrays (row order = CSV order):
  img160, img128  uint8 (N,S,S)  the whole image squashed to SxS with an area (box) filter, like the product's
                                 Preprocessor.plain (no crop); 128 is resized from the original, not from 160
  mask160, mask128 uint8 (N,S,S) the union mask, box-resized then thresholded at 0.5, values {0,1}
  label  int8   0 benign, 1 malignant, 2 normal        split  int8  0 train, 1 validation, 2 test
  dup    int32  dup_group as a dense id                name   <U   file name (for tracing)
  classes, splits  the code tables
Usage: /usr/bin/python3 bench/sweep/pack.py SPLIT.csv OUT.npz [--data-root DIR]
  --data-root: where Dataset_BUSI_with_GT's class folders are, when the CSV's paths do not exist here.
"""
import argparse
import csv
import os
import sys

import numpy as np
from PIL import Image

CLASSES = ("benign", "malignant", "normal")
SPLITS = ("train", "validation", "test")
SIZES = (160, 128)


def resolve(source, data_root):
    path = source[len("file:"):] if source.startswith("file:") else source
    if os.path.exists(path):
        return path
    if data_root:
        # keep the class folder and file name: .../Dataset_BUSI_with_GT/benign/benign (1).png
        candidate = os.path.join(data_root, *path.replace("\\", "/").split("/")[-2:])
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"image not found: {source} (try --data-root)")


def masks_of(path):
    stem, ext = os.path.splitext(path)
    found = [stem + "_mask" + ext] if os.path.exists(stem + "_mask" + ext) else []
    k = 1
    while os.path.exists(f"{stem}_mask_{k}{ext}"):
        found.append(f"{stem}_mask_{k}{ext}")
        k += 1
    return found


def squash(im, size):
    return im.resize((size, size), Image.BOX)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("out")
    ap.add_argument("--data-root", default=None)
    a = ap.parse_args()

    with open(a.csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    n = len(rows)
    imgs = {s: np.zeros((n, s, s), np.uint8) for s in SIZES}
    masks = {s: np.zeros((n, s, s), np.uint8) for s in SIZES}
    label = np.zeros(n, np.int8)
    split = np.zeros(n, np.int8)
    dup = np.zeros(n, np.int32)
    names, groups, without_mask = [], {}, 0
    for i, r in enumerate(rows):
        path = resolve(r["source_path"], a.data_root)
        im = Image.open(path)
        im.load()
        gray = im.convert("L") if im.mode != "L" else im
        union = None
        for mp in masks_of(path):
            m = np.asarray(Image.open(mp).convert("L")) > 127
            if m.shape != (gray.height, gray.width):  # a few BUSI masks differ in size: bring them to the image's
                m = np.asarray(Image.fromarray(m.astype(np.uint8) * 255).resize((gray.width, gray.height),
                                                                                  Image.NEAREST)) > 127
            union = m if union is None else union | m
        if union is None:
            without_mask += 1
            union = np.zeros((gray.height, gray.width), bool)
        union_im = Image.fromarray(union.astype(np.uint8) * 255)
        for s in SIZES:
            imgs[s][i] = np.asarray(squash(gray, s))
            masks[s][i] = (np.asarray(squash(union_im, s)) >= 128).astype(np.uint8)
        label[i] = CLASSES.index(r["label"])
        split[i] = SPLITS.index(r["split"])
        g = r["dup_group"] or f"__single_{i}"
        dup[i] = groups.setdefault(g, len(groups))
        names.append(os.path.basename(path))
        if (i + 1) % 100 == 0:
            print(f"pack: {i + 1}/{n}", flush=True)

    np.savez_compressed(a.out, img160=imgs[160], img128=imgs[128], mask160=masks[160], mask128=masks[128],
                        label=label, split=split, dup=dup, name=np.array(names),
                        classes=np.array(CLASSES), splits=np.array(SPLITS))
    print(f"pack: {n} images -> {a.out} ({os.path.getsize(a.out) / 2**20:.1f} MiB); no mask file: {without_mask}")
    for si, s in enumerate(SPLITS):
        counts = [int(((split == si) & (label == c)).sum()) for c in range(len(CLASSES))]
        print(f"pack: {s:<10} {int((split == si).sum()):4d}  " +
              " ".join(f"{c}={k}" for c, k in zip(CLASSES, counts)))
    # dup groups never straddle splits (the ingest splits them as a unit)
    for g in np.unique(dup):
        if len(np.unique(split[dup == g])) > 1:
            print(f"pack: WARNING dup group {g} spans several splits", file=sys.stderr)
    lesion = [float(masks[160][label == c].mean()) for c in range(len(CLASSES))]
    print("pack: mean mask area per class " + " ".join(f"{c}={v:.3f}" for c, v in zip(CLASSES, lesion)))


if __name__ == "__main__":
    main()

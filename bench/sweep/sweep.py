"""Recipe sweep for busi-spark's breast-ultrasound classifier, with PyTorch as a fast proxy of the DL4J CPU recipe.

Trains every configuration of CONFIGS (one factor at a time against the DL4J recipe, plus a "kitchen sink") for
several seeds on ONE GPU, several worker processes at once, all data and augmentation on the GPU; selects each
run's epoch by VALIDATION macro-F1 (the product's rule: the latest epoch with the best score) and reports the TEST
metrics of that epoch, plain and with hflip averaging, plus the ensemble of the seeds (mean softmax).

The baseline mirrors the product (conf/recipe-cpu.conf, ResNetBuilder, LearningRates, Augmenter):
  ResNet-18 (7x7/2 stem + 3x3/2 max-pool, basic blocks, 1x1 projection shortcuts, global average pool), width
  x0.5, 1x128x128 input = the whole image squashed (box filter), normalised with the train split's mean/std;
  60 epochs, batch 16, AdaBelief lr 2e-3, per-epoch schedule: linear warm-up 2 epochs then cosine to 1% of lr;
  decoupled weight decay 1e-4 (p -= lr*wd*p, conv/linear weights only); cross-entropy with balanced class weights
  n/(k*n_c), averaged over the batch like DL4J's LossMCXENT; He-normal (fan-in) conv init, Xavier-normal output.
  Augmentation (one affine resampling, then jitter, blur, erasing; black outside the image):
  random resized crop scale 0.7-1.0 ratio 0.8-1.25, translate +-0.05, rotation +-10 deg, hflip 0.5,
  contrast x[0.8,1.2] about the image mean then brightness +-0.1 (clamped to [0,1]), Gaussian blur p0.2
  sigma U(0.1,1.0), random erasing p0.25 area 2-15% ratio 0.3-3.3 filled with the image mean.
AdaBelief (not in torch; written here): m = b1 m + (1-b1) g;  s = b2 s + (1-b2) (g-m)^2 + eps;
  p -= lr * (m/(1-b1^t)) / (sqrt(s/(1-b2^t)) + eps), b1 0.9, b2 0.999, eps 1e-14 (DL4J's defaults), and the
  decoupled weight decay above, applied before the update.

Seeds as groups: by default the seeds of a configuration train as ONE network whose convolutions have groups=G
(G = number of seeds): every group has its own weights, batch-norm statistics, batches, shuffling and
augmentation draws, and the loss is the sum of the groups' losses, so each group trains exactly as an
independent network would (same init per seed as an ungrouped run), but the GPU launches one kernel where it
would launch G. --no-group-seeds runs one job per (config, seed) instead.

Runtime estimate (one H200, 16 CPU cores, default 13 configs x 3 seeds grouped = 13 jobs on 13 workers):
  a ResNet-18 step at batch 16 at 128 px is launch-bound, ~4-6 ms per step for G=1 and not much more for G=3;
  469 train images = 30 steps/epoch, so 60 epochs ~ 10-15 s alone. Per job (3 seeds together):
  60-epoch configs 1,800 steps (~10-20 s alone), epochs-150 4,500, epochs-300 9,000, resnet34 ~1.8x the
  baseline, kitchen-sink (w1.0, 160 px, 200 epochs, aux seg) 6,000 heavier steps. Sum ~41,000 grouped steps;
  with 13 processes sharing the GPU (time-sliced), expect the sweep to take ~2-5 minutes, the longest jobs
  (epochs-300, kitchen-sink; started first) dominating. --time-budget (default 420 s) stops launching new jobs,
  --hard-deadline (default 465 s) kills what still runs; summary.md is written from what finished either way.
  Every finished run appends one line to results.jsonl at once, so partial results survive a timeout.

Usage:
  python3 bench/sweep/sweep.py --pack .sweep/pack.npz --out OUTDIR [--only a,b] [--seeds 3] [--workers 0]
        [--epochs-scale 1] [--time-budget 420] [--hard-deadline 465] [--no-group-seeds]
  python3 bench/sweep/sweep.py --summarize-only --out OUTDIR      (rewrite summary.md from results.jsonl)
CPU smoke test (device auto-detected; torch >= 1.13):
  /usr/bin/python3 bench/sweep/sweep.py --pack .sweep/pack.npz --out /tmp/sw --epochs-scale 0.02 --seeds 1 \
      --workers 1 --only baseline,aux-seg
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import queue as queue_mod
import sys
import time
import traceback

import numpy as np

# ----------------------------------------------------------------------------------------------------------------
# The configurations. BASE is the DL4J recipe; each entry of CONFIGS overrides some of its keys.
BASE = dict(
    arch="resnet18", width=0.5, size=128, epochs=60, batch=16, lr=2e-3, warmup=2, wd=1e-4,
    crop=(0.7, 1.0), ratio=(0.8, 1.25), translate=0.05, rot=10.0, hflip=0.5, vflip=0.0,
    bright=0.1, contrast=0.2, blur_p=0.2, blur_sigma=1.0, erase_p=0.25, erase_area=0.15,
    aux_seg=0.0,      # weight of the auxiliary segmentation loss (BCE + dice on the union mask), 0 = off
    mixup=0.0,        # mixup alpha, 0 = off
    smoothing=0.0,    # label smoothing
    norm="dataset",   # "dataset": the train split's mean/std (the product); "image": each image by its own mean/std
    gamma=0.0,        # gamma augmentation: x ** exp(U(-log(1+gamma), log(1+gamma))), 0 = off
    ssl_epochs=0,     # SimCLR pre-training epochs on the TRAIN split's images (labels unused) before the recipe, 0 = off
    ssl_batch=64, ssl_lr=2e-3, ssl_temp=0.2,
    # SimCLR's views are stronger than the supervised augmentation
    ssl_aug=dict(crop=(0.3, 1.0), rot=20.0, contrast=0.4, bright=0.2, blur_p=0.5, erase_p=0.25),
)
CONFIGS = [  # (name, overrides of BASE)
    ("baseline", {}),
    ("width-1.0", dict(width=1.0)),
    ("input-160", dict(size=160)),
    ("epochs-150", dict(epochs=150)),
    ("epochs-300", dict(epochs=300)),
    ("batch-32", dict(batch=32, lr=4e-3)),
    ("aug-light", dict(crop=(0.85, 1.0), blur_p=0.0, erase_p=0.0)),
    ("aug-heavy", dict(crop=(0.5, 1.0), rot=20.0, erase_p=0.5, vflip=0.0)),
    ("aux-seg", dict(aux_seg=0.5)),
    ("mixup", dict(mixup=0.2)),
    ("smooth-0.1", dict(smoothing=0.1)),
    ("resnet34", dict(arch="resnet34")),
    ("kitchen-sink", dict(width=1.0, size=160, epochs=200, aux_seg=0.5, smoothing=0.1)),
    # Round 2 (run with --only ... --seeds 5): the round-1 gains combined, and what a 2-core CPU could afford.
    ("light-smooth", dict(crop=(0.85, 1.0), blur_p=0.0, erase_p=0.0, smoothing=0.1)),
    ("light-smooth-100", dict(crop=(0.85, 1.0), blur_p=0.0, erase_p=0.0, smoothing=0.1, epochs=100)),
    ("light-150", dict(crop=(0.85, 1.0), blur_p=0.0, erase_p=0.0, epochs=150)),
    ("kitchen-sink-light", dict(width=1.0, size=160, epochs=200, aux_seg=0.5, smoothing=0.1,
                                crop=(0.85, 1.0), blur_p=0.0, erase_p=0.0)),
    # Round 3 (--seeds 5): self-supervised pre-training (SimCLR, NT-Xent) on the train split's images first.
    ("ssl-200", dict(ssl_epochs=200)),
    ("ssl-600", dict(ssl_epochs=600)),
    ("ssl-200-light", dict(ssl_epochs=200, crop=(0.85, 1.0), blur_p=0.0, erase_p=0.0)),
    ("kitchen-sink-ssl", dict(width=1.0, size=160, epochs=200, aux_seg=0.5, smoothing=0.1, ssl_epochs=200)),
    # Round 4 (--seeds 5): robustness to another scanner's gain and contrast (the test split under SHIFTS).
    ("norm-image", dict(norm="image")),
    ("aug-intensity", dict(contrast=0.4, bright=0.15, gamma=0.4)),
    ("norm-image-aug-intensity", dict(norm="image", contrast=0.4, bright=0.15, gamma=0.4)),
]
# Intensity changes of another scanner or export, applied to the test images in [0, 1] (also measured with the
# product's evaluate on re-saved copies: docs/results.md).
SHIFTS = {
    "contrast0.7": lambda x: ((x - 0.5) * 0.7 + 0.5).clamp(0, 1),
    "contrast1.3": lambda x: ((x - 0.5) * 1.3 + 0.5).clamp(0, 1),
    "gamma0.7": lambda x: x.clamp(0, 1) ** 0.7,
    "gamma1.4": lambda x: x.clamp(0, 1) ** 1.4,
}
NU = 19  # uniforms drawn per augmented sample
CLASSES = ("benign", "malignant", "normal")
BLOCKS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}
COSINE_FLOOR = 0.01  # LearningRates.COSINE_FLOOR


def resolve_config(name, overrides, epochs_scale):
    cfg = dict(BASE)
    cfg.update(overrides)
    cfg["name"] = name
    cfg["epochs_full"] = cfg["epochs"]
    cfg["epochs"] = max(1, int(round(cfg["epochs"] * epochs_scale)))
    if cfg["ssl_epochs"]:
        cfg["ssl_epochs"] = max(1, int(round(cfg["ssl_epochs"] * epochs_scale)))
    return cfg


def cost(cfg, n_train=469):
    """A rough relative cost (ordering and deadline checks only): steps x a launch-bound per-step factor."""
    steps = cfg["epochs"] * math.ceil(n_train / cfg["batch"])
    arch = 1.8 if cfg["arch"] == "resnet34" else 1.0
    compute = cfg["width"] ** 2 * (cfg["size"] / 128) ** 2 * cfg["batch"] / 16
    ssl = cfg["ssl_epochs"] * (n_train // cfg["ssl_batch"]) * 2 * cfg["ssl_batch"] / 16  # two views per image
    return (steps + ssl) * arch * (0.7 + 0.3 * compute) * (1.15 if cfg["aux_seg"] else 1.0)


def lr_at(cfg, epoch):
    """LearningRates.at: linear warm-up, then cosine to COSINE_FLOOR of the base rate (epoch 0-based)."""
    base, epochs = cfg["lr"], cfg["epochs"]
    warm = min(cfg["warmup"], epochs - 1)
    if epoch < warm:
        return base * (epoch + 1) / (warm + 1)
    span = max(1, epochs - 1 - warm)
    t = min(1.0, (epoch - warm) / span)
    return base * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + math.cos(math.pi * t)))


# ----------------------------------------------------------------------------------------------------------------
# Metrics (numpy only).
def auc_binary(scores, positive):
    pos = int(positive.sum())
    neg = len(positive) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts
    ranks = (starts + (counts + 1) / 2.0)[inverse]  # average ranks, 1-based
    return float((ranks[positive].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def metrics(probs, y):
    probs = np.asarray(probs, np.float64)
    y = np.asarray(y)
    pred = probs.argmax(1)
    f1, recall = [], []
    for c in range(probs.shape[1]):
        tp = int(((pred == c) & (y == c)).sum())
        fp = int(((pred == c) & (y != c)).sum())
        fn = int(((pred != c) & (y == c)).sum())
        f1.append(2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0)
        recall.append(tp / (tp + fn) if tp + fn else float("nan"))
    aucs = [auc_binary(probs[:, c], y == c) for c in range(probs.shape[1])]
    loss = float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1.0)).mean())
    return dict(f1=float(np.mean(f1)), acc=float((pred == y).mean()), auc=float(np.nanmean(aucs)), loss=loss,
                mal_sens=float(recall[1]), f1_per_class=[round(v, 4) for v in f1])


# ----------------------------------------------------------------------------------------------------------------
# Torch parts (imported lazily so that --summarize-only needs numpy only).
def build_torch_parts():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ConvBN(nn.Module):
        """A grouped (G independent networks) conv without bias + batch norm."""

        def __init__(self, G, cin, cout, k, stride):
            super().__init__()
            self.conv = nn.Conv2d(G * cin, G * cout, k, stride, padding=k // 2, bias=False, groups=G)
            self.bn = nn.BatchNorm2d(G * cout)  # momentum 0.1 = DL4J decay 0.9, eps 1e-5

        def forward(self, x):
            return self.bn(self.conv(x))

    class Block(nn.Module):
        def __init__(self, G, cin, cout, stride):
            super().__init__()
            self.a = ConvBN(G, cin, cout, 3, stride)
            self.b = ConvBN(G, cout, cout, 3, 1)
            self.proj = ConvBN(G, cin, cout, 1, stride) if stride != 1 or cin != cout else None

        def forward(self, x):
            y = self.b(F.relu(self.a(x)))
            return F.relu(y + (self.proj(x) if self.proj is not None else x))

    class Net(nn.Module):
        """G ResNet-18/34s side by side (channel groups); forward takes (B, G, H, W), returns (B, G, 3)."""

        def __init__(self, G, arch, width, aux_seg, classes=3, seg_dim=32):
            super().__init__()
            self.G, self.classes = G, classes
            widths = [max(4, int(math.floor(b * width + 0.5))) for b in (64, 128, 256, 512)]
            self.stem = ConvBN(G, 1, widths[0], 7, 2)
            self.pool = nn.MaxPool2d(3, 2, 1)
            stages, cin = [], widths[0]
            for s, n in enumerate(BLOCKS[arch]):
                blocks = []
                for b in range(n):
                    blocks.append(Block(G, cin, widths[s], 2 if s > 0 and b == 0 else 1))
                    cin = widths[s]
                stages.append(nn.Sequential(*blocks))
            self.stages = nn.ModuleList(stages)
            self.feat_dim = cin
            self.fc = nn.Conv2d(G * cin, G * classes, 1, groups=G)
            self.aux = aux_seg
            if aux_seg:
                # FPN-like: 1x1 laterals from stages 2-4, summed at stage 2's resolution (1/8), 3x3 conv, 1x1 to a
                # mask logit. Training only.
                self.lat = nn.ModuleList(nn.Conv2d(G * widths[s], G * seg_dim, 1, groups=G) for s in (1, 2, 3))
                self.seg_conv = nn.Conv2d(G * seg_dim, G * seg_dim, 3, padding=1, groups=G)
                self.seg_out = nn.Conv2d(G * seg_dim, G, 1, groups=G)

        def trunk(self, x):
            x = self.pool(F.relu(self.stem(x)))
            feats = []
            for stage in self.stages:
                x = stage(x)
                feats.append(x)
            return feats

        def forward(self, x, seg=False):
            feats = self.trunk(x)
            x = feats[-1]
            logits = self.fc(x.mean((2, 3), keepdim=True)).flatten(1).view(x.shape[0], self.G, self.classes)
            if not (seg and self.aux):
                return logits, None
            size = feats[1].shape[-2:]
            y = self.lat[0](feats[1])
            for lat, f in zip(self.lat[1:], feats[2:]):
                y = y + F.interpolate(lat(f), size=size, mode="bilinear", align_corners=False)
            y = self.seg_out(F.relu(self.seg_conv(F.relu(y))))
            return logits, y  # (B, G, H/8, W/8)

    def init_net(net, seeds):
        """Per-seed init from per-seed CPU generators, so that group g equals an ungrouped run of seed g."""
        gens = [torch.Generator().manual_seed(1_000_003 * s + 17) for s in seeds]
        G = len(seeds)
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, nn.Conv2d):
                    w = m.weight  # (G*cout, cin_per_group, k, k)
                    cout, fan_in = w.shape[0] // G, w.shape[1] * w.shape[2] * w.shape[3]
                    if m is net.fc:  # DL4J XAVIER: N(0, 2/(fan_in+fan_out))
                        std = math.sqrt(2.0 / (fan_in + cout))
                    else:  # DL4J RELU: N(0, 2/fan_in)
                        std = math.sqrt(2.0 / fan_in)
                    for g in range(G):
                        w[g * cout:(g + 1) * cout].copy_(torch.randn(w[g * cout:(g + 1) * cout].shape,
                                                                     generator=gens[g]) * std)
                    if m.bias is not None:
                        m.bias.zero_()

    class AdaBelief(torch.optim.Optimizer):
        """AdaBelief (Zhuang et al. 2020) as DL4J applies it, with decoupled weight decay (p -= lr*wd*p)."""

        def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-14, weight_decay=0.0):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, step=0))

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                ps = [p for p in group["params"] if p.grad is not None]
                if not ps:
                    continue
                grads = [p.grad for p in ps]
                for p in ps:
                    if not self.state[p]:
                        self.state[p]["m"] = torch.zeros_like(p)
                        self.state[p]["s"] = torch.zeros_like(p)
                ms = [self.state[p]["m"] for p in ps]
                ss = [self.state[p]["s"] for p in ps]
                group["step"] += 1
                t, lr, wd, eps = group["step"], group["lr"], group["weight_decay"], group["eps"]
                b1, b2 = group["betas"]
                bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
                if hasattr(torch, "_foreach_addcdiv_"):
                    if wd:
                        torch._foreach_mul_(ps, 1 - lr * wd)
                    torch._foreach_mul_(ms, b1)
                    torch._foreach_add_(ms, grads, alpha=1 - b1)
                    diff = torch._foreach_sub(grads, ms)
                    torch._foreach_mul_(ss, b2)
                    torch._foreach_addcmul_(ss, diff, diff, value=1 - b2)
                    torch._foreach_add_(ss, eps)
                    denom = torch._foreach_sqrt(ss)
                    torch._foreach_div_(denom, math.sqrt(bc2))
                    torch._foreach_add_(denom, eps)
                    torch._foreach_addcdiv_(ps, ms, denom, value=-lr / bc1)
                else:
                    for p, g, m, s in zip(ps, grads, ms, ss):
                        if wd:
                            p.mul_(1 - lr * wd)
                        m.mul_(b1).add_(g, alpha=1 - b1)
                        d = g - m
                        s.mul_(b2).addcmul_(d, d, value=1 - b2).add_(eps)
                        p.addcdiv_(m, (s / bc2).sqrt_().add_(eps), value=-lr / bc1)

    def aug_params(u, cfg, S):
        """Per-sample augmentation parameters from uniforms u (N, NU), computed once per epoch for all steps."""
        N = u.shape[0]
        smin, smax = cfg["crop"]
        area = smin + u[:, 0] * (smax - smin)
        lr0, lr1 = math.log(cfg["ratio"][0]), math.log(cfg["ratio"][1])
        ratio = torch.exp(lr0 + u[:, 1] * (lr1 - lr0))
        cw = torch.sqrt(area * ratio).clamp(max=1.0)
        ch = torch.sqrt(area / ratio).clamp(max=1.0)
        cx = cw / 2 + u[:, 2] * (1 - cw) + (2 * u[:, 4] - 1) * cfg["translate"]
        cy = ch / 2 + u[:, 3] * (1 - ch) + (2 * u[:, 5] - 1) * cfg["translate"]
        ang = (2 * u[:, 6] - 1) * math.radians(cfg["rot"])
        sx = cw * (1 - 2 * (u[:, 7] < cfg["hflip"]).to(u.dtype))
        sy = ch * (1 - 2 * (u[:, 8] < cfg["vflip"]).to(u.dtype))
        cos, sin = torch.cos(ang), torch.sin(ang)
        # output offsets (normalised) are scaled by the crop, rotated, and centred on the crop's centre
        theta = torch.stack([torch.stack([cos * sx, -sin * sy, 2 * cx - 1], 1),
                             torch.stack([sin * sx, cos * sy, 2 * cy - 1], 1)], 1)
        P = dict(theta=theta,
                 contrast=(1 - cfg["contrast"] + u[:, 9] * 2 * cfg["contrast"]).view(N, 1, 1, 1),
                 bright=((2 * u[:, 10] - 1) * cfg["bright"]).view(N, 1, 1, 1))
        if cfg["gamma"] > 0:
            lg = math.log(1 + cfg["gamma"])
            P["gamma"] = torch.exp((2 * u[:, 18] - 1) * lg).view(N, 1, 1, 1)
        if cfg["blur_p"] > 0 and cfg["blur_sigma"] > 0:
            R = max(1, math.ceil(3 * cfg["blur_sigma"]))
            sigma = (0.1 + u[:, 12] * max(0.0, cfg["blur_sigma"] - 0.1)).view(N, 1)
            taps = torch.arange(-R, R + 1, device=u.device, dtype=u.dtype).view(1, -1)
            k = torch.exp(-taps ** 2 / (2 * sigma ** 2))
            P["blur_k"] = k / k.sum(1, keepdim=True)
            P["blur_on"] = (u[:, 11] < cfg["blur_p"]).view(N, 1, 1, 1)
        if cfg["erase_p"] > 0 and cfg["erase_area"] > 0:
            a = S * S * (0.02 + u[:, 14] * (max(0.02, cfg["erase_area"]) - 0.02))
            r = torch.exp(math.log(0.3) + u[:, 15] * (math.log(3.3) - math.log(0.3)))
            ew = torch.round(torch.sqrt(a * r)).clamp(1, S)
            eh = torch.round(torch.sqrt(a / r)).clamp(1, S)
            x0 = torch.floor(u[:, 16] * (S - ew + 1))
            y0 = torch.floor(u[:, 17] * (S - eh + 1))
            ar = torch.arange(S, device=u.device, dtype=u.dtype).view(1, S)
            on = (u[:, 13] < cfg["erase_p"]).view(N, 1)
            # separable rectangle: rows (N, S) x columns (N, S), already off where erasing is not drawn
            P["erase_cols"] = ((ar >= x0.view(N, 1)) & (ar < (x0 + ew).view(N, 1)) & on).to(u.dtype)
            P["erase_rows"] = ((ar >= y0.view(N, 1)) & (ar < (y0 + eh).view(N, 1))).to(u.dtype)
        return P

    def augment(x, m, P):
        """x, m: (N, 1, S, S) float [0,1] image and mask; P: aug_params rows for these N samples. Batched on the
        device: one affine resampling (black outside), contrast/brightness, blur, erasing; the mask gets the
        geometry only."""
        N, _, S, _ = x.shape
        xm = torch.cat([x, m], 1)
        grid = F.affine_grid(P["theta"], [N, 2, S, S], align_corners=False)
        xm = F.grid_sample(xm, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        x, m = xm[:, :1], xm[:, 1:]
        mean = x.mean((2, 3), keepdim=True)
        x = ((x - mean) * P["contrast"] + mean + P["bright"]).clamp(0, 1)
        if "gamma" in P:
            x = x.clamp_min(1e-6) ** P["gamma"]
        if "blur_k" in P:
            k = P["blur_k"]
            R = (k.shape[1] - 1) // 2
            y = F.pad(x.reshape(1, N, S, S), (R, R, 0, 0), mode="replicate")
            y = F.conv2d(y, k.view(N, 1, 1, -1), groups=N)
            y = F.pad(y, (0, 0, R, R), mode="replicate")
            y = F.conv2d(y, k.view(N, 1, -1, 1), groups=N).view(N, 1, S, S)
            x = torch.where(P["blur_on"], y, x)
        if "erase_cols" in P:
            rect = P["erase_rows"].view(N, 1, S, 1) * P["erase_cols"].view(N, 1, 1, S)
            x = x + rect * (x.mean((2, 3), keepdim=True) - x)
        return x, m

    return torch, nn, F, Net, init_net, AdaBelief, aug_params, augment


# ----------------------------------------------------------------------------------------------------------------
# Self-supervised pre-training: SimCLR (Chen et al. 2020) with the NT-Xent loss, per seed group, on the train
# split's images only (labels unused), so the test split stays unseen. The projection head is thrown away after.
def ssl_pretrain(torch, nn, F, AdaBelief, aug_params, augment, net, cfg, seeds, img, msk, tr, norm, fmt, autocast,
                 dev, report):
    G, S, B = len(seeds), img.shape[-1], cfg["ssl_batch"]
    n_tr = len(tr)
    steps = n_tr // B  # full batches only: every image needs in-batch negatives
    C, D = net.feat_dim, 64
    torch.manual_seed(seeds[0])
    head = nn.Sequential(nn.Conv2d(G * C, G * 256, 1, groups=G), nn.ReLU(),
                         nn.Conv2d(G * 256, G * D, 1, groups=G)).to(dev)
    params = list(net.parameters()) + list(head.parameters())
    opt = AdaBelief([dict(params=[p for p in params if p.ndim == 4], weight_decay=cfg["wd"]),
                     dict(params=[p for p in params if p.ndim != 4], weight_decay=0.0)], lr=cfg["ssl_lr"])
    aug_cfg = dict(cfg)
    aug_cfg.update(cfg["ssl_aug"])
    sched = dict(lr=cfg["ssl_lr"], epochs=cfg["ssl_epochs"], warmup=10)
    gens = [torch.Generator().manual_seed(15485863 * s + 5) for s in seeds]
    tr_dev = tr.to(dev)
    pos = torch.cat([torch.arange(B, 2 * B), torch.arange(0, B)]).to(dev).repeat(G)  # each view's partner
    eye = torch.eye(2 * B, dtype=torch.bool, device=dev)
    net.train()
    t0 = time.time()
    for epoch in range(cfg["ssl_epochs"]):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(sched, epoch)
        perms = torch.stack([torch.randperm(n_tr, generator=g) for g in gens]).to(dev)
        uni = torch.stack([torch.rand(2 * steps * B, NU, generator=g) for g in gens]).to(dev)  # (G, 2*steps*B, NU)
        P = aug_params(uni.view(-1, NU), aug_cfg, S)
        P = {k: v.view(G, 2, steps * B, *v.shape[1:]) for k, v in P.items()}
        total = torch.zeros((), device=dev)
        for step in range(steps):
            idx = tr_dev[perms[:, step * B:(step + 1) * B]]  # (G, B)
            x = img[idx].float().div_(255).view(G * B, 1, S, S)
            m = msk[idx].float().view(G * B, 1, S, S)
            views = []
            for v in range(2):
                pv = {k: t[:, v, step * B:(step + 1) * B].reshape(G * B, *t.shape[3:]) for k, t in P.items()}
                xv, _ = augment(x, m, pv)
                views.append(norm(xv).view(G, B, S, S))
            xx = torch.cat(views, 1).transpose(0, 1).contiguous(memory_format=fmt)  # (2B, G, S, S)
            with autocast():
                f = net.trunk(xx)[-1].mean((2, 3), keepdim=True)
                z = head(f)
            z = F.normalize(z.float().view(2 * B, G, D).transpose(0, 1), dim=-1)  # (G, 2B, D)
            sim = (z @ z.transpose(1, 2)) / cfg["ssl_temp"]
            sim = sim.masked_fill(eye, float("-inf"))
            loss = F.cross_entropy(sim.reshape(G * 2 * B, 2 * B), pos) * G  # the sum of the groups' mean losses
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach() / G
        every = max(1, cfg["ssl_epochs"] // 5)
        if (epoch + 1) % every == 0:
            report(f"ssl ep {epoch + 1}/{cfg['ssl_epochs']} NT-Xent {float(total) / steps:.3f} "
                   f"({(time.time() - t0) / (epoch + 1):.2f} s/epoch)")


# ----------------------------------------------------------------------------------------------------------------
# One job: a configuration for a list of seeds (one grouped network).
def run_job(job, data, report):
    torch, nn, F, Net, init_net, AdaBelief, aug_params, augment = data["parts"]
    cfg, seeds, dev = job["cfg"], job["seeds"], data["device"]
    cuda = dev.type == "cuda"
    G = len(seeds)
    t0 = time.time()
    img, msk = data["images"](cfg["size"])
    labels = data["label"]
    tr, va, te = data["train"], data["val"], data["test"]
    S = img.shape[-1]
    n_tr = len(tr)

    xtr = img[tr].float().div_(255)
    mean, std = float(xtr.mean()), float(xtr.std())
    counts = torch.bincount(labels[tr], minlength=3).float()
    class_w = (n_tr / (3 * counts)).to(dev)

    def norm(x):
        if cfg["norm"] == "image":
            mu = x.mean((-2, -1), keepdim=True)
            return (x - mu) / x.std((-2, -1), keepdim=True).clamp_min(1e-3)
        return (x - mean) / std

    fmt = torch.channels_last if cuda else torch.contiguous_format

    def autocast():
        if cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        import contextlib
        return contextlib.nullcontext()

    # evaluation batch: validation, test, mirrored test; replicated over the G groups
    xte = img[te].float().div_(255)
    ev = torch.cat([img[va].float().div_(255), xte, xte.flip(-1)]
                   + [v for f in SHIFTS.values() for v in (f(xte), f(xte).flip(-1))])
    ev = norm(ev).unsqueeze(1).expand(-1, G, -1, -1).contiguous(memory_format=fmt)
    n_va, n_te = len(va), len(te)
    y_va, y_te = labels[va].cpu().numpy(), labels[te].cpu().numpy()

    net = Net(G, cfg["arch"], cfg["width"], cfg["aux_seg"] > 0)
    init_net(net, seeds)
    net = net.to(dev).to(memory_format=fmt)
    decay = [p for n_, p in net.named_parameters() if p.ndim == 4]
    no_decay = [p for n_, p in net.named_parameters() if p.ndim != 4]
    opt = AdaBelief([dict(params=decay, weight_decay=cfg["wd"]), dict(params=no_decay, weight_decay=0.0)],
                    lr=cfg["lr"])
    gens = [torch.Generator().manual_seed(7919 * s + 1) for s in seeds]
    if cfg["ssl_epochs"] > 0:
        ssl_pretrain(torch, nn, F, AdaBelief, aug_params, augment, net, cfg, seeds, img, msk, tr, norm, fmt,
                     autocast, dev, lambda line: report(f"{job['label']} {line}"))
    rngs = [np.random.default_rng(104729 * s + 3) for s in seeds]
    B = cfg["batch"]
    steps = math.ceil(n_tr / B)
    if n_tr - (steps - 1) * B < 2:  # a batch of one breaks batch norm
        steps -= 1
    tr_dev = tr.to(dev)
    onehot = torch.eye(3, device=dev)
    eps = cfg["smoothing"]

    best = [dict(score=-1.0) for _ in seeds]
    hist = [dict(val_f1=[], test_f1=[], test_f1_tta=[], train_loss=[]) for _ in seeds]
    t_epoch0 = time.time()
    epoch_times = []
    for epoch in range(cfg["epochs"]):
        te0 = time.time()
        lr = lr_at(cfg, epoch)
        for grp in opt.param_groups:
            grp["lr"] = lr
        net.train()
        perms = torch.stack([torch.randperm(n_tr, generator=g) for g in gens]).to(dev)  # (G, n_tr)
        uni = torch.stack([torch.rand(steps * B, NU, generator=g) for g in gens]).to(dev)  # (G, steps*B, NU)
        P = aug_params(uni.view(G * steps * B, NU), cfg, S)  # rows: seed-major, then position in the epoch
        P = {k: v.view(G, steps * B, *v.shape[1:]) for k, v in P.items()}
        loss_sum = torch.zeros(G, device=dev)
        for step in range(steps):
            idx = tr_dev[perms[:, step * B:(step + 1) * B]]  # (G, b)
            b = idx.shape[1]
            x = img[idx].float().div_(255).view(G * b, 1, S, S)
            m = msk[idx].float().view(G * b, 1, S, S)
            x, m = augment(x, m, {k: v[:, step * B:step * B + b].reshape(G * b, *v.shape[2:]) for k, v in P.items()})
            x = norm(x).view(G, b, S, S)
            m = m.view(G, b, S, S)
            t = onehot[labels[idx]]  # (G, b, 3)
            if cfg["mixup"] > 0:
                lam = torch.tensor([float(r.beta(cfg["mixup"], cfg["mixup"])) for r in rngs], device=dev)
                pm = torch.stack([torch.randperm(b, generator=g) for g in gens]).to(dev)
                ar = torch.arange(G, device=dev).view(G, 1)
                lx = lam.view(G, 1, 1, 1)
                x = lx * x + (1 - lx) * x[ar, pm]
                m = lx * m + (1 - lx) * m[ar, pm]
                t = lam.view(G, 1, 1) * t + (1 - lam.view(G, 1, 1)) * t[ar, pm]
            if eps > 0:
                t = t * (1 - eps) + eps / 3
            x = x.transpose(0, 1).contiguous(memory_format=fmt)  # (b, G, S, S)
            with autocast():
                logits, seg = net(x, seg=cfg["aux_seg"] > 0)
            logp = F.log_softmax(logits.float(), -1)  # (b, G, 3)
            per_group = -(t.transpose(0, 1) * class_w * logp).sum(-1).mean(0)  # (G,)
            loss = per_group.sum()
            if seg is not None:
                seg = seg.float()
                target = F.adaptive_avg_pool2d(m, seg.shape[-2:]).transpose(0, 1)  # (b, G, h, w)
                bce = F.binary_cross_entropy_with_logits(seg, target, reduction="none").mean((0, 2, 3))
                p = torch.sigmoid(seg)
                inter = (p * target).sum((0, 2, 3))
                dice = 1 - (2 * inter + 1) / (p.sum((0, 2, 3)) + target.sum((0, 2, 3)) + 1)
                loss = loss + cfg["aux_seg"] * (bce + dice).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += per_group.detach()
        # evaluation: one batch
        net.eval()
        with torch.no_grad(), autocast():
            logits, _ = net(ev)
        probs = torch.softmax(logits.float(), -1).cpu().numpy()  # (n, G, 3)
        train_loss = (loss_sum / steps).cpu().numpy()
        for g in range(G):
            pv = probs[:n_va, g]
            pt = probs[n_va:n_va + n_te, g]
            ptt = (pt + probs[n_va + n_te:n_va + 2 * n_te, g]) / 2
            vf1 = metrics(pv, y_va)["f1"]
            tm, ttm = metrics(pt, y_te), metrics(ptt, y_te)
            h = hist[g]
            h["val_f1"].append(round(vf1, 4))
            h["test_f1"].append(round(tm["f1"], 4))
            h["test_f1_tta"].append(round(ttm["f1"], 4))
            h["train_loss"].append(round(float(train_loss[g]), 4))
            if vf1 >= best[g]["score"]:  # the latest epoch with the best validation macro-F1
                shifted = {}
                for k, name in enumerate(SHIFTS):
                    at = n_va + 2 * n_te * (k + 1)
                    shifted[name] = metrics((probs[at:at + n_te, g] + probs[at + n_te:at + 2 * n_te, g]) / 2, y_te)
                best[g] = dict(score=vf1, epoch=epoch + 1, test=tm, test_tta=ttm, probs=pt, probs_tta=ptt,
                               val=metrics(pv, y_va), shifted=shifted)
        epoch_times.append(time.time() - te0)
        every = max(1, cfg["epochs"] // 5)
        if (epoch + 1) % every == 0 and epoch + 1 < cfg["epochs"]:
            report(f"{job['label']} ep {epoch + 1}/{cfg['epochs']} val F1 "
                   + ",".join(f"{h['val_f1'][-1]:.3f}" for h in hist)
                   + f" test F1 " + ",".join(f"{h['test_f1'][-1]:.3f}" for h in hist)
                   + f" ({(time.time() - t_epoch0) / (epoch + 1):.2f} s/epoch)")
    seconds = time.time() - t0
    out = []
    for g, seed in enumerate(seeds):
        bst = best[g]
        out.append(dict(
            status="ok", config=cfg["name"], seed=seed, group=G, epochs=cfg["epochs"],
            best_epoch=bst["epoch"], val_f1=round(bst["score"], 4), val=bst["val"],
            test=bst["test"], test_tta=bst["test_tta"], shifted_tta=bst["shifted"],
            last_test_f1=hist[g]["test_f1"][-1], last_test_f1_tta=hist[g]["test_f1_tta"][-1],
            seconds=round(seconds, 1), sec_per_epoch=round(float(np.mean(epoch_times)), 3),
            first_epoch_s=round(epoch_times[0], 2),
            params=int(sum(p.numel() for p in net.parameters()) // G), norm=[round(mean, 5), round(std, 5)],
            probs_test=np.round(bst["probs"], 5).tolist(), probs_test_tta=np.round(bst["probs_tta"], 5).tolist(),
            y_test=y_te.tolist(), history=hist[g], cfg={k: v for k, v in cfg.items() if k != "name"},
            device=data["device_name"], torch=torch.__version__))
    return out


# ----------------------------------------------------------------------------------------------------------------
# Worker processes.
def load_data(pack_path, device_pref, threads):
    parts = build_torch_parts()
    torch = parts[0]
    torch.set_num_threads(threads)
    if device_pref == "auto":
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        dev = torch.device(device_pref)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    z = np.load(pack_path, allow_pickle=False)
    split = torch.from_numpy(z["split"].astype(np.int64))
    cache = {}

    def images(size):
        if size not in cache:
            if f"img{size}" in z.files:
                im = torch.from_numpy(z[f"img{size}"]).to(dev)
                mk = torch.from_numpy(z[f"mask{size}"]).to(dev)
            else:  # another size: area-resize the 160 pack on the device
                import torch.nn.functional as F
                src = torch.from_numpy(z["img160"]).to(dev).float().unsqueeze(1)
                im = F.interpolate(src, size=(size, size), mode="area").round().clamp(0, 255).to(torch.uint8)[:, 0]
                srcm = torch.from_numpy(z["mask160"]).to(dev).float().unsqueeze(1)
                mk = (F.interpolate(srcm, size=(size, size), mode="area") >= 0.5).to(torch.uint8)[:, 0]
            cache[size] = (im, mk)
        return cache[size]

    return dict(parts=parts, device=dev, device_name=name, images=images,
                label=torch.from_numpy(z["label"].astype(np.int64)).to(dev),
                train=torch.nonzero(split == 0).flatten(), val=torch.nonzero(split == 1).flatten(),
                test=torch.nonzero(split == 2).flatten())


def worker_main(wid, pack_path, device_pref, threads, task_q, result_q):
    try:
        data = load_data(pack_path, device_pref, threads)
    except Exception:
        result_q.put(("dead", wid, traceback.format_exc()))
        return
    result_q.put(("ready", wid, data["device_name"]))
    while True:
        job = task_q.get()
        if job is None:
            break
        result_q.put(("start", wid, job["id"], time.time()))
        try:
            res = run_job(job, data, lambda line: result_q.put(("progress", wid, job["id"], line)))
            result_q.put(("done", wid, job["id"], res))
        except Exception:
            result_q.put(("error", wid, job["id"], traceback.format_exc()))
        finally:
            if data["device"].type == "cuda":
                data["parts"][0].cuda.empty_cache()


# ----------------------------------------------------------------------------------------------------------------
# Summary.
def fmt_ms(values, digits=3):
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    if not v:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{np.mean(v):.{digits}f} ± {np.std(v, ddof=1):.{digits}f}"


def write_summary(out_dir, order=None, note=""):
    path = os.path.join(out_dir, "results.jsonl")
    recs = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        recs.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    present = []
    for r in recs:
        if r["config"] not in present:
            present.append(r["config"])
    names = [n for n in (order or []) if n in present] + [n for n in present if n not in (order or [])]
    base_ok = [r for r in recs if r["config"] == "baseline" and r.get("status") == "ok"]
    base_f1 = float(np.mean([r["test_tta"]["f1"] for r in base_ok])) if base_ok else None
    lines = ["# Recipe sweep (PyTorch proxy of the DL4J recipe)", ""]
    if note:
        lines += [note, ""]
    ok_any = [r for r in recs if r.get("status") == "ok"]
    if ok_any:
        lines += [f"Device: {ok_any[0]['device']}, torch {ok_any[0]['torch']}. Test split n={len(ok_any[0]['y_test'])}."
                  " Epoch selected by validation macro-F1 (latest best); test metrics of that epoch."
                  " TTA = mean of the image's and its mirror's softmax. Ensemble = mean softmax over the seeds.", ""]
    head = ("| config | seeds ok | test F1 | test F1 TTA | Δ F1 TTA vs baseline | acc TTA | AUC TTA | mal. sens. TTA | loss TTA | best epoch "
            "| last-epoch F1 TTA | val F1 | s/job | ens F1 | ens F1 TTA | ens acc TTA | ens AUC TTA | ens mal. sens. TTA |")
    lines += ["## All configurations (mean ± sd over seeds)", "", head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    details = []
    for name in names:
        rs = [r for r in recs if r["config"] == name]
        ok = sorted([r for r in rs if r.get("status") == "ok"], key=lambda r: r["seed"])
        other = [r for r in rs if r.get("status") != "ok"]
        if not ok:
            st = ", ".join(sorted({r.get("status", "?") for r in other})) or "not run"
            lines.append(f"| {name} | 0 ({st}) |" + " – |" * 16)
            continue
        y = np.array(ok[0]["y_test"])
        ens = metrics(np.mean([r["probs_test"] for r in ok], 0), y)
        ens_t = metrics(np.mean([r["probs_test_tta"] for r in ok], 0), y)
        g = lambda key, sub: [r[key][sub] for r in ok]
        delta = "–" if base_f1 is None else f"{np.mean(g('test_tta', 'f1')) - base_f1:+.3f}"
        st = f"{len(ok)}" + (f" (+{len(other)} {','.join(sorted({r.get('status', '?') for r in other}))})" if other else "")
        lines.append(
            f"| {name} | {st} | {fmt_ms(g('test', 'f1'))} | {fmt_ms(g('test_tta', 'f1'))} "
            f"| {delta} "
            f"| {fmt_ms(g('test_tta', 'acc'))} "
            f"| {fmt_ms(g('test_tta', 'auc'))} | {fmt_ms(g('test_tta', 'mal_sens'))} | {fmt_ms(g('test_tta', 'loss'))} "
            f"| {fmt_ms([r['best_epoch'] for r in ok], 0)}/{ok[0]['epochs']} | {fmt_ms([r['last_test_f1_tta'] for r in ok])} "
            f"| {fmt_ms([r['val_f1'] for r in ok])} | {fmt_ms([r['seconds'] for r in ok], 0)} "
            f"| {ens['f1']:.3f} | {ens_t['f1']:.3f} | {ens_t['acc']:.3f} | {ens_t['auc']:.3f} | {ens_t['mal_sens']:.3f} |")
        d = [f"### {name}", "", f"cfg: `{json.dumps(ok[0]['cfg'])}`, params {ok[0]['params']:,}, "
             f"{ok[0]['sec_per_epoch']} s/epoch (group of {ok[0]['group']})", "",
             "| seed | best epoch | val F1 | test F1 | test acc | test AUC | mal. sens. | test loss | F1 TTA | acc TTA "
             "| AUC TTA | mal. sens. TTA | loss TTA | per-class F1 TTA (b/m/n) | last-epoch F1 TTA | s |",
             "|" + "|".join(["---"] * 16) + "|"]
        for r in ok:
            t, tt = r["test"], r["test_tta"]
            d.append(f"| {r['seed']} | {r['best_epoch']} | {r['val_f1']:.3f} | {t['f1']:.3f} | {t['acc']:.3f} "
                     f"| {t['auc']:.3f} | {t['mal_sens']:.3f} | {t['loss']:.3f} | {tt['f1']:.3f} | {tt['acc']:.3f} "
                     f"| {tt['auc']:.3f} | {tt['mal_sens']:.3f} | {tt['loss']:.3f} | {'/'.join(f'{v:.2f}' for v in tt['f1_per_class'])} "
                     f"| {r['last_test_f1_tta']:.3f} | {r['seconds']:.0f} |")
        d.append(f"| ensemble | | | {ens['f1']:.3f} | {ens['acc']:.3f} | {ens['auc']:.3f} | {ens['mal_sens']:.3f} "
                 f"| {ens['loss']:.3f} | {ens_t['f1']:.3f} | {ens_t['acc']:.3f} | {ens_t['auc']:.3f} "
                 f"| {ens_t['mal_sens']:.3f} | {ens_t['loss']:.3f} | {'/'.join(f'{v:.2f}' for v in ens_t['f1_per_class'])} | | |")
        for r in other:
            d.append(f"\n{r.get('status')} seed {r.get('seed')}: {str(r.get('error', ''))[-300:]}")
        details += d + [""]
    if base_f1 is not None:
        lines += ["", f"Baseline test F1 (TTA) mean: {base_f1:.3f}. Target: macro-F1 >= 0.85."]
    with_shifts = [n for n in names if any(r.get("shifted_tta") for r in recs if r["config"] == n)]
    if with_shifts:
        lines += ["", "## The test split under intensity shifts (macro-F1 with TTA, mean ± sd over seeds)", "",
                  "| config | unshifted | " + " | ".join(SHIFTS) + " | worst |",
                  "|" + "|".join(["---"] * (len(SHIFTS) + 3)) + "|"]
        for n in with_shifts:
            ok = [r for r in recs if r["config"] == n and r.get("shifted_tta")]
            worst = [min(r["shifted_tta"][k]["f1"] for k in SHIFTS) for r in ok]
            lines.append(f"| {n} | {fmt_ms([r['test_tta']['f1'] for r in ok])} | "
                         + " | ".join(fmt_ms([r["shifted_tta"][k]["f1"] for r in ok]) for k in SHIFTS)
                         + f" | {fmt_ms(worst)} |")
    lines += ["", "## Per configuration", ""] + details
    with open(os.path.join(out_dir, "summary.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description="BUSI recipe sweep (see the module docstring)")
    ap.add_argument("--pack", default=None, help="pack.npz (default .sweep/pack.npz, then bench/sweep/pack.npz)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default="", help="comma-separated config names")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=0, help="0 = auto (CUDA: min(jobs, cores-2); CPU: 1)")
    ap.add_argument("--epochs-scale", type=float, default=1.0)
    ap.add_argument("--time-budget", type=float, default=420.0, help="seconds after which no job is launched")
    ap.add_argument("--hard-deadline", type=float, default=465.0, help="seconds after which running jobs are killed")
    ap.add_argument("--no-group-seeds", action="store_true", help="one job per (config, seed)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--summarize-only", action="store_true")
    ap.add_argument("--list", action="store_true", help="print the configurations and exit")
    a = ap.parse_args()
    t_start = time.time()
    os.makedirs(a.out, exist_ok=True)
    order = [n for n, _ in CONFIGS]
    if a.summarize_only:
        write_summary(a.out, order, note="(summary rewritten from results.jsonl)")
        print(f"summary: {os.path.join(a.out, 'summary.md')}", flush=True)
        return

    names = [n for n in a.only.split(",") if n] or order
    unknown = [n for n in names if n not in order]
    if unknown:
        sys.exit(f"unknown config(s) {unknown}; known: {order}")
    seeds = list(range(1, a.seeds + 1))
    jobs = []
    for name, over in CONFIGS:
        if name not in names:
            continue
        cfg = resolve_config(name, over, a.epochs_scale)
        groups = [[s] for s in seeds] if a.no_group_seeds else [seeds]
        for ss in groups:
            jobs.append(dict(id=len(jobs), cfg=cfg, seeds=ss, cost=cost(cfg) * (1 + 0.25 * (len(ss) - 1)),
                             label=f"{name}[seeds {','.join(map(str, ss))}]"))
    if a.list:
        for j in jobs:
            print(f"{j['label']:<36} cost {j['cost']:9.0f}  {json.dumps(j['cfg'])}")
        return
    pack = a.pack or next((p for p in (".sweep/pack.npz", "bench/sweep/pack.npz") if os.path.exists(p)), None)
    if not pack or not os.path.exists(pack):
        sys.exit("pack.npz not found (--pack)")

    import torch  # only to see the device and core count here
    cuda = torch.cuda.is_available() and a.device in ("auto", "cuda")
    cores = os.cpu_count() or 1
    workers = a.workers or (min(len(jobs), max(1, cores - 2)) if cuda else 1)
    workers = max(1, min(workers, len(jobs)))
    threads = 1 if cuda else max(1, cores // workers)
    pending = sorted(jobs, key=lambda j: -j["cost"])  # longest first

    results_path = os.path.join(a.out, "results.jsonl")
    open(results_path, "w").close()

    def log(msg):
        print(f"[{time.time() - t_start:6.1f}s] {msg}", flush=True)

    def append(recs):
        with open(results_path, "a", encoding="utf-8") as f:
            for r in recs:
                f.write(json.dumps(r) + "\n")

    def stub(job, status, error=""):
        return [dict(status=status, config=job["cfg"]["name"], seed=s, error=error[-2000:]) for s in job["seeds"]]

    log(f"sweep: {len(jobs)} jobs ({len(names)} configs x {a.seeds} seeds, "
        f"{'one job per seed' if a.no_group_seeds else 'seeds grouped'}), {workers} workers, "
        f"{'cuda' if cuda else 'cpu'} ({threads} threads/worker), pack {pack}, budget {a.time_budget:.0f}s, "
        f"hard deadline {a.hard_deadline:.0f}s, torch {torch.__version__}")
    ctx = mp.get_context("spawn")
    task_q, result_q = ctx.Queue(), ctx.Queue()
    procs = {}

    def spawn(wid):
        p = ctx.Process(target=worker_main, args=(wid, pack, a.device, threads, task_q, result_q), daemon=True)
        p.start()
        procs[wid] = p

    for w in range(workers):
        spawn(w)
    by_id = {j["id"]: j for j in jobs}
    running = {}   # job id -> (worker, start time)
    queued = []    # job ids handed to the queue, not yet started
    finished = {}  # job id -> seconds
    rate = None    # observed seconds per unit of cost (max over finished jobs)

    def dispatch():
        nonlocal pending
        while pending and len(running) + len(queued) < workers:
            now = time.time() - t_start
            if now > a.time_budget:
                return
            job = pending[0]
            if rate is not None and now + job["cost"] * rate > a.hard_deadline - 5:
                pending = pending[1:]
                log(f"skip {job['label']}: would not finish before the hard deadline "
                    f"(est. {job['cost'] * rate:.0f}s)")
                append(stub(job, "not-run", "estimated past the hard deadline"))
                continue
            pending = pending[1:]
            queued.append(job["id"])
            task_q.put(job)

    dispatch()
    killed = False
    while pending or running or queued:
        if time.time() - t_start > a.hard_deadline:
            killed = True
            break
        if time.time() - t_start > a.time_budget and pending:
            for job in pending:
                append(stub(job, "not-run", "time budget spent before launch"))
                log(f"not run (budget): {job['label']}")
            pending = []
            if not running and not queued:
                break
        try:
            msg = result_q.get(timeout=1.0)
        except queue_mod.Empty:
            for wid, p in list(procs.items()):
                if not p.is_alive():
                    lost = [jid for jid, (w, _) in running.items() if w == wid]
                    for jid in lost:
                        running.pop(jid)
                        append(stub(by_id[jid], "error", f"worker {wid} died (exit code {p.exitcode})"))
                        log(f"ERROR {by_id[jid]['label']}: worker {wid} died (exit code {p.exitcode})")
                    procs.pop(wid)
                    if pending or queued:
                        spawn(wid)
            if not procs:
                log("all workers died")
                break
            dispatch()
            continue
        kind, wid = msg[0], msg[1]
        if kind == "ready":
            log(f"worker {wid} ready on {msg[2]}")
        elif kind == "dead":
            log(f"worker {wid} could not start:\n{msg[2]}")
        elif kind == "start":
            jid = msg[2]
            if jid in queued:
                queued.remove(jid)
            running[jid] = (wid, time.time())
            log(f"start {by_id[jid]['label']} on worker {wid} (epochs {by_id[jid]['cfg']['epochs']})")
        elif kind == "progress":
            log(msg[3])
        elif kind == "done":
            jid, recs = msg[2], msg[3]
            _, t0 = running.pop(jid, (wid, time.time()))
            secs = time.time() - t0
            finished[jid] = secs
            r_job = secs / by_id[jid]["cost"]
            rate = r_job if rate is None else max(rate, r_job)
            append(recs)
            for r in recs:
                t, tt = r["test"], r["test_tta"]
                log(f"done {r['config']} seed {r['seed']}: test F1 {t['f1']:.3f} TTA {tt['f1']:.3f} | acc "
                    f"{tt['acc']:.3f} AUC {tt['auc']:.3f} mal.sens {tt['mal_sens']:.3f} loss {tt['loss']:.3f} | best "
                    f"epoch {r['best_epoch']}/{r['epochs']} (val F1 {r['val_f1']:.3f}), last-epoch F1 TTA "
                    f"{r['last_test_f1_tta']:.3f} | {r['seconds']:.1f}s, {r['sec_per_epoch']:.3f} s/epoch "
                    f"(first {r['first_epoch_s']:.1f}s)")
            dispatch()
        elif kind == "error":
            jid = msg[2]
            running.pop(jid, None)
            append(stub(by_id[jid], "error", msg[3]))
            log(f"ERROR {by_id[jid]['label']}:\n{msg[3]}")
            dispatch()

    if killed:
        for jid, (wid, t0) in running.items():
            append(stub(by_id[jid], "killed", f"running {time.time() - t0:.0f}s at the hard deadline"))
            log(f"killed at the hard deadline: {by_id[jid]['label']}")
        for jid in queued:
            append(stub(by_id[jid], "not-run", "queued at the hard deadline"))
        for job in pending:
            append(stub(job, "not-run", "pending at the hard deadline"))
        for p in procs.values():
            p.terminate()
    else:
        for _ in procs:
            task_q.put(None)
    for p in procs.values():
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
    note = f"Wall time {time.time() - t_start:.0f}s{' (stopped at the hard deadline)' if killed else ''}."
    write_summary(a.out, order, note=note)
    log(f"summary: {os.path.join(a.out, 'summary.md')} — {note}")
    task_q.cancel_join_thread()
    result_q.cancel_join_thread()
    sys.stdout.flush()
    if killed:
        os._exit(0)


if __name__ == "__main__":
    main()

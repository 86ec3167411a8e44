"""A ResNet checkpoint with reference logits, to check that a Java mapping of torchvision's ResNet computes what
PyTorch computes.

The network has exactly torchvision's module names, order and structure (conv1, bn1, relu, maxpool, layer1..4 of
BasicBlock or Bottleneck, avgpool, fc): NarrowResNet inherits torchvision's ResNet (its _make_layer and forward)
and uses torchvision's own blocks, and only replaces the stage widths 64, 128, 256, 512 by width, 2w, 4w, 8w.
--torchvision takes torchvision's resnet18/34/50 itself (width 64). Every BatchNorm gets random affine parameters
and running statistics, so a mapping that drops or swaps one changes the logits; the model is in eval mode.

Writes to OUTDIR:
  state_dict.pt  torch.save(model.state_dict())
  inputs.f32     N images [N, C, S, S], raw little-endian float32, row-major
  logits.f32     the model's output [N, classes], the same layout, computed in float64 and rounded to float32
  meta.json      {"arch", "width", "inChannels", "inputSize", "classes", "n", "seed", "torch", "torchvision"}
A developer tool: torch makes the fixtures, busi-spark never runs Python.
Usage: /usr/bin/python3 scripts/torch/make_resnet_fixture.py OUTDIR [--arch resnet18] [--width 4]
           [--in-channels 1] [--input-size 48] [--classes 3] [--seed 0] [--torchvision]"""
import argparse
import json
import pathlib

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

ARCHS = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet34": (BasicBlock, [3, 4, 6, 3]),
         "resnet50": (Bottleneck, [3, 4, 6, 3])}
N = 4


class NarrowResNet(ResNet):
    """torchvision's ResNet.__init__ with the stage widths as a parameter (torchvision fixes them at 64..512)."""

    def __init__(self, block, layers, width, num_classes):
        nn.Module.__init__(self)  # ResNet.__init__ would build the full-width network
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # torchvision's blocks take this as "no width multiplier"
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def build(args):
    if args.torchvision:
        model = getattr(torchvision.models, args.arch)(num_classes=args.classes)
    else:
        block, layers = ARCHS[args.arch]
        model = NarrowResNet(block, layers, args.width, args.classes)
    if args.in_channels != 3:
        # Assigning an existing attribute keeps conv1's place in the state_dict's order.
        model.conv1 = nn.Conv2d(args.in_channels, model.conv1.out_channels, kernel_size=7, stride=2, padding=3,
                                bias=False)
        nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def write_f32(path, tensor):
    path.write_bytes(tensor.detach().numpy().astype("<f4", copy=False).tobytes(order="C"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", type=pathlib.Path)
    parser.add_argument("--arch", choices=sorted(ARCHS), default="resnet18")
    parser.add_argument("--width", type=int, default=4)
    parser.add_argument("--in-channels", type=int, default=1)
    parser.add_argument("--input-size", type=int, default=48)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torchvision", action="store_true", help="torchvision's own model (requires --width 64)")
    args = parser.parse_args()
    if args.torchvision and args.width != 64:
        parser.error("--torchvision builds torchvision's own model, whose width is 64: pass --width 64")

    torch.manual_seed(args.seed)
    model = build(args)
    inputs = torch.randn(N, args.in_channels, args.input_size, args.input_size)
    with torch.no_grad():
        logits = model.double()(inputs.double()).float()
    model.float()

    out = args.outdir
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "state_dict.pt")
    write_f32(out / "inputs.f32", inputs)
    write_f32(out / "logits.f32", logits)
    meta = {"arch": args.arch, "width": args.width, "inChannels": args.in_channels, "inputSize": args.input_size,
            "classes": args.classes, "n": N, "seed": args.seed, "torch": torch.__version__,
            "torchvision": torchvision.__version__}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    params = sum(t.numel() for t in model.state_dict().values())
    print(f"{out}: {args.arch} width {args.width}, {params:,} values; logits {logits.flatten().tolist()[:6]} ...")


if __name__ == "__main__":
    main()

"""For bench/torchvision-import.sh (a reference only; PyTorch is never a dependency of busi-spark).

Saves torchvision's own ARCH (random initialisation, random batch-norm statistics, eval mode) as OUT/state_dict.pt
and scores N gray images two ways, in float64:
  logits_rgb.f32   the images fed as torchvision's pretrained weights expect them: three identical channels,
                   each normalised by its own ImageNet mean and std;
  inputs_rgb.f32   those inputs, for the exact-import check.
gray.f32 holds the images ([N, 1, S, S] in [0, 1], smooth blobs like an ultrasound's speckle-free structure).
Usage: /usr/bin/python3 bench/torchvision_import.py OUT [ARCH] [SIZE] [N]
"""
import json
import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "scripts" / "torch"))
import make_resnet_fixture as fixture  # noqa: E402

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def main():
    out = pathlib.Path(sys.argv[1])
    arch = sys.argv[2] if len(sys.argv) > 2 else "resnet18"
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 224
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    torch.manual_seed(0)
    args = type("Args", (), {"torchvision": True, "arch": arch, "classes": 1000, "in_channels": 3, "width": 64})
    model = fixture.build(args)
    gray = F.interpolate(torch.rand(n, 1, size // 8, size // 8), size=(size, size), mode="bilinear",
                         align_corners=False)
    rgb = (gray.expand(-1, 3, -1, -1) - MEAN) / STD
    with torch.no_grad():
        logits = model.double()(rgb.double()).float()
    model.float()
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "state_dict.pt")
    fixture.write_f32(out / "gray.f32", gray)
    fixture.write_f32(out / "inputs_rgb.f32", rgb.contiguous())
    fixture.write_f32(out / "logits_rgb.f32", logits)
    (out / "meta.json").write_text(json.dumps({"arch": arch, "size": size, "n": n, "classes": 1000,
                                               "torch": torch.__version__}) + "\n")


if __name__ == "__main__":
    main()

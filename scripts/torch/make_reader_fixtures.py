"""Small torch.save checkpoints for TorchCheckpointTest, each NAME.pt with NAME.json holding what the reader must
return: {key: {"dtype", "shape", "values"}} in the state_dict's order, values flattened row-major (floats exactly
as torch holds them, integers and bools as integers).
A developer tool: torch makes the fixtures, busi-spark never runs Python.
Usage: /usr/bin/python3 scripts/torch/make_reader_fixtures.py OUTDIR   (OUTDIR: src/test/resources/torch/reader)"""
import argparse
import json
import math
import pathlib
from collections import OrderedDict

import torch
from torch import nn


def expected(state):
    out = {}
    for key, t in state.items():
        t = t.detach()
        if t.dtype.is_floating_point:
            values = t.double().flatten().tolist()
        else:
            values = t.long().flatten().tolist()
        out[key] = {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape), "values": values}
    return out


def conv_bn():
    model = nn.Sequential(OrderedDict(conv=nn.Conv2d(2, 3, 3), bn=nn.BatchNorm2d(3)))
    with torch.no_grad():
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
        model.bn.running_mean.uniform_(-0.5, 0.5)
        model.bn.running_var.uniform_(0.5, 2.0)
        model.bn.num_batches_tracked.fill_(7)
    return model.eval()


def views():
    # Views keep their storage, offset and strides through torch.save; views of one tensor share one storage.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8 - 1
    cube = torch.randn(2, 3, 4)
    state = {}  # a plain dict, whose order the reader keeps too
    state["base"] = base
    state["transposed"] = base.t()
    state["sliced"] = base[:, 1:3]
    state["row"] = base[2]
    state["column"] = base[:, 4]
    state["stepped"] = base[1:, ::2]
    state["permuted"] = cube.permute(2, 0, 1)
    state["broadcast"] = torch.tensor([1.5, -2.0, 3.25]).expand(4, 3)
    state["scalar"] = torch.tensor(0.125)
    state["empty"] = torch.empty(0, 3)
    return state


def dtypes():
    specials = [0.0, -0.0, 1.0, -2.5, math.inf, -math.inf, math.nan]
    state = OrderedDict()
    state["float32"] = torch.tensor(specials + [1e-40, 3.4e38, 0.1], dtype=torch.float32)
    # float16: subnormals (the smallest is 2^-24), the smallest normal, the largest finite value, rounded values.
    state["float16"] = torch.tensor(specials + [2 ** -24, 3 * 2 ** -20, 2 ** -14, 6.1e-5, 65504.0, 0.1, 1 / 3],
                                    dtype=torch.float16).reshape(2, 7)
    state["bfloat16"] = torch.tensor(specials + [1e-40, 3.0e38, 0.1, 1 / 3, 257.0], dtype=torch.bfloat16)
    state["float64"] = torch.tensor([[0.1, 1 / 3, 1e300], [-1e-300, math.pi, -0.0]], dtype=torch.float64)
    state["int64"] = torch.tensor([0, -1, 2 ** 40 + 1, -(2 ** 52), 123456789], dtype=torch.int64)
    state["int32"] = torch.tensor([[0, -1], [2 ** 31 - 1, -(2 ** 31)]], dtype=torch.int32)
    state["int16"] = torch.tensor([0, -1, 32767, -32768], dtype=torch.int16)
    state["int8"] = torch.tensor([0, -1, 127, -128], dtype=torch.int8)
    state["uint8"] = torch.arange(0, 256, 51, dtype=torch.uint8)
    state["bool"] = torch.tensor([[True, False, True], [False, False, True]])
    return state


def write(out, name, obj, state=None, **kwargs):
    torch.save(obj, out / f"{name}.pt", **kwargs)
    if state is not None:
        (out / f"{name}.json").write_text(json.dumps(expected(state), indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", type=pathlib.Path)
    out = parser.parse_args().outdir
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    model = conv_bn()
    state = model.state_dict()  # an OrderedDict with a _metadata attribute (module versions)
    write(out, "conv_bn", state, state)
    state = views()
    write(out, "views", state, state)
    state = dtypes()
    write(out, "dtypes", state, state)

    # A training checkpoint after one step; keep_vars=True pickles nn.Parameters (torch._utils._rebuild_parameter).
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(1, 2, 4, 4)).sum().backward()
    optimizer.step()
    state = model.state_dict()
    write(out, "nested_state_dict",
          {"epoch": 3, "state_dict": model.state_dict(keep_vars=True), "optimizer": optimizer.state_dict()}, state)
    # torchvision's reference scripts save {"model", "optimizer", ..., "args": argparse.Namespace}.
    write(out, "nested_model", {"model": state, "epoch": 5, "args": argparse.Namespace(lr=0.1, arch="x")}, state)

    # For the error tests.
    write(out, "legacy", state, _use_new_zipfile_serialization=False)
    write(out, "module", nn.Conv2d(1, 2, 3))
    write(out, "not_tensor", OrderedDict(weight=torch.ones(2), note="a string"))


if __name__ == "__main__":
    main()

"""PyTorch side of bench/train-speed.sh: torchvision's resnet18/resnet50 with a 1-channel stem and 3 classes,
Adam, random images, timed like bench/Dl4jSpeed.java (the mean of 3 passes over the same batches after 3 warm-up
passes).
A reference measurement only: PyTorch is never a dependency of busi-spark.
Usage: /usr/bin/python3 bench/torch_speed.py MODE ARCH SIZE BATCH BATCHES THREADS   (MODE: fit | infer)"""
import sys
import time

import torch
import torchvision

mode, arch, size, batch, batches, threads = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, arch)(num_classes=3)
model.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
data = [(torch.rand(batch, 1, size, size), (torch.arange(batch) + i) % 3) for i in range(batches)]
optimizer = torch.optim.Adam(model.parameters(), 1e-3)
loss_fn = torch.nn.CrossEntropyLoss()


def fit_pass():
    model.train()
    for x, y in data:
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()


def infer_pass():
    model.eval()
    with torch.no_grad():
        for x, _ in data:
            model(x)


WARM_UP, TIMED = 3, 3
run = {"fit": fit_pass, "infer": infer_pass}[mode]
for _ in range(WARM_UP):
    run()
start = time.perf_counter()
for _ in range(TIMED):
    run()
seconds = (time.perf_counter() - start) / TIMED
print("torch %s %s %dx%d batch %d: %.2f images/s" % (mode, arch, size, size, batch, batches * batch / seconds))

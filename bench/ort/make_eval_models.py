# Writes the FP32 models of the INT8 speed targets (docs/int8_runtime.md) into DIR (default
# ./models): TinyCNN2D (the trained workload's architecture, random weights), resnet18,
# mobilenet_v2 and squeezenet1_1 from Debian's python3-torchvision (random weights, 224x224),
# all exported with torch.onnx.export at opset 13 with a dynamic batch, plus calibration inputs
# DIR/<name>.calib.npy (8 samples). Weights are random (seed 0): only the timing matters.
#   /usr/bin/python3 bench/ort/make_eval_models.py /tmp/models
#   edgeint8 quantize /tmp/models/resnet18.onnx --calib-data /tmp/models/resnet18.calib.npy \
#     --method minmax --weights per-channel -o /tmp/models/resnet18.int8.onnx
import os, sys
import numpy as np, torch, torchvision

out = sys.argv[1] if len(sys.argv) > 1 else "models"
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


class TinyCNN2D(torch.nn.Module):  # src/ei8/train/trainer.cpp
    def __init__(self):
        super().__init__()
        c = lambda i, o: torch.nn.Conv2d(i, o, 3, padding=1)
        self.c1, self.b1 = c(1, 32), torch.nn.BatchNorm2d(32)
        self.c2, self.b2 = c(32, 64), torch.nn.BatchNorm2d(64)
        self.c3, self.b3 = c(64, 128), torch.nn.BatchNorm2d(128)
        self.fc = torch.nn.Linear(128 * 4 * 4, 10)

    def forward(self, x):
        # Conv -> BN -> Relu -> MaxPool, the order src/ei8/train/export.cpp writes.
        for c, b in ((self.c1, self.b1), (self.c2, self.b2), (self.c3, self.b3)):
            x = torch.nn.functional.max_pool2d(torch.relu(b(c(x))), 2)
        return self.fc(torch.flatten(x, 1))


models = {
    "tiny2d": (TinyCNN2D(), (1, 32, 32)),
    "resnet18": (torchvision.models.resnet18(), (3, 224, 224)),
    "mobilenet_v2": (torchvision.models.mobilenet_v2(), (3, 224, 224)),
    "squeezenet1_1": (torchvision.models.squeezenet1_1(), (3, 224, 224)),
}
for name, (m, shape) in models.items():
    m.eval()
    x = torch.randn(1, *shape)
    torch.onnx.export(m, x, f"{out}/{name}.onnx", opset_version=13, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    calib = np.random.default_rng(1).standard_normal((8, *shape)).astype(np.float32)
    np.save(f"{out}/{name}.calib.npy", calib)
    print(name, "->", f"{out}/{name}.onnx")

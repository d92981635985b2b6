#!/usr/bin/env python3
"""Regenerates the safetensors fixtures of NNTests with PyTorch and the reference `safetensors`
writer (an implementation independent of Backdrop's). Run from this folder:

    python3 make_fixture.py        # needs torch and safetensors; the Swift tests never do

Files written:
  small_resnet_w2.safetensors     state_dict of a torch SmallResNet(width=2) twin after two
                                  training-mode forward passes (BN running stats, num_batches_tracked = 2)
  small_resnet_w2_io.safetensors  a fixed input, the eval-mode and train-mode outputs of that model,
                                  and bn1's running statistics after one more training forward
  dtypes.safetensors              small tensors in every dtype the Swift reader accepts
"""
import torch
import torch.nn as nn
from safetensors.torch import save_file


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(h + (self.shortcut(x) if self.shortcut is not None else x))


class SmallResNet(nn.Module):
    def __init__(self, width, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = BasicBlock(width, width, 1)
        self.layer2 = BasicBlock(width, 2 * width, 2)
        self.layer3 = BasicBlock(2 * width, 4 * width, 2)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return self.layer3(self.layer2(self.layer1(h))).mean(dim=(2, 3))


def main():
    torch.manual_seed(0)
    model = SmallResNet(2)
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, 3, 8, 8))
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(state, "small_resnet_w2.safetensors", metadata={"format": "pt"})

    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        model.eval()
        eval_out = model(x)
        model.train()
        train_out = model(x)  # also updates the running statistics once more
    io = {
        "input": x,
        "eval_output": eval_out,
        "train_output": train_out,
        "after_train.bn1.running_mean": model.bn1.running_mean.clone(),
        "after_train.bn1.running_var": model.bn1.running_var.clone(),
        "after_train.bn1.num_batches_tracked": model.bn1.num_batches_tracked.clone(),
    }
    save_file({k: v.contiguous() for k, v in io.items()}, "small_resnet_w2_io.safetensors")

    dtypes = {
        "f64": torch.tensor([0.5, -1.25, 1024.0, 0.1], dtype=torch.float64),
        "f32_matrix": torch.tensor([[1.0, 2.0, 3.0], [-4.0, 5.5, 1e-3]], dtype=torch.float32),
        "f32_scalar": torch.tensor(7.25, dtype=torch.float32),
        "f32_empty": torch.zeros(0, 3, dtype=torch.float32),
        "f16": torch.tensor([1.0, -2.0, 0.5, 65504.0, 2.0**-14, 2.0**-24, float("inf"), -0.0], dtype=torch.float16),
        "bf16": torch.tensor([1.0, -2.5, 0.15625, 2.0**100], dtype=torch.bfloat16),
        "i64": torch.tensor([0, -1, 2**40], dtype=torch.int64),
        "i32": torch.tensor([0, -1, 123456, -16777216], dtype=torch.int32),
        "i16": torch.tensor([-32768, 300], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
    }
    save_file(dtypes, "dtypes.safetensors", metadata={"note": "dtype fixture", "format": "pt"})


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Generates tests/optim/optim_reference.safetensors: torch.optim.SGD trajectories and
torch.optim.lr_scheduler learning rates that tests/optim/test_sgd.cpp and test_schedule.cpp
check lib/optim against.

Run from anywhere:  /usr/bin/python3 tests/optim/make_optim_reference.py
Needs torch (1.13 was used) and numpy; the safetensors file is written by hand (no safetensors
package), as in tests/layers/make_torch_reference.py.

SGD (everything float32, as the engine computes):
  sgd.p0 [3,4]        the initial parameter
  sgd.grads [5,3,4]   the gradient fed at each of the 5 steps
  sgd.lrs [5]         the learning rate of each step (set in the param group before the step)
  For each case <c> (metadata "sgd_cases" lists them; metadata "sgd.<c>" holds
  "momentum=.. dampening=.. nesterov=0|1 weight_decay=.."):
  sgd.<c>.params [5,3,4]   the parameter after each step
  sgd.<c>.momentum [3,4]   the momentum buffer after the last step (only when momentum > 0)

Schedules (float64 in torch, stored as float32; metadata "sched.<s>" holds the arguments):
  sched.constant [T]  torch: no scheduler, lr stays base_lr
  sched.step [E]      torch StepLR(step_size=step_epochs, gamma) stepped once per epoch: the lr
                      of epoch e (0-based). Our schedule is per optimizer step with
                      lr = base * gamma^floor(step / steps_per_epoch / step_epochs), so every
                      step of epoch e must use this value.
  sched.cosine [T]    torch CosineAnnealingLR(T_max = epochs * steps_per_epoch, eta_min) stepped
                      every optimizer step: the lr used by step s (0-based), s < T.
  Warm-up is not a torch scheduler here: ours is linear, base * (step + 1) / warmup_steps for
  step < warmup_steps (warmup_steps = warmup_epochs * steps_per_epoch), then the schedule (cosine
  runs over the remaining steps). test_schedule.cpp checks it against that formula directly.
"""
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "optim_reference.safetensors")

tensors = {}
meta = {}


def f32(t):
    return np.ascontiguousarray(t.detach().to(torch.float32).cpu().numpy())


# ---- SGD -----------------------------------------------------------------------------------
gen = torch.Generator().manual_seed(20240611)
p0 = torch.rand(3, 4, generator=gen, dtype=torch.float32) * 2 - 1
grads = torch.rand(5, 3, 4, generator=gen, dtype=torch.float32) * 2 - 1
lrs = torch.tensor([0.1, 0.05, 0.2, 0.02, 0.08], dtype=torch.float32)
tensors["sgd.p0"] = f32(p0)
tensors["sgd.grads"] = f32(grads)
tensors["sgd.lrs"] = f32(lrs)

SGD_CASES = [
    ("plain", dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0)),
    ("momentum", dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0)),
    ("dampening", dict(momentum=0.9, dampening=0.1, nesterov=False, weight_decay=0.0)),
    ("nesterov", dict(momentum=0.9, dampening=0.0, nesterov=True, weight_decay=0.0)),
    ("weight_decay", dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=1e-2)),
    ("weight_decay_plain", dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=1e-2)),
]
meta["sgd_cases"] = ",".join(name for name, _ in SGD_CASES)
for name, o in SGD_CASES:
    p = torch.nn.Parameter(p0.clone())
    # lr here is a placeholder: each step's lr is set in the param group below.
    opt = torch.optim.SGD([p], lr=float(lrs[0]), **o)
    after = []
    for s in range(grads.shape[0]):
        p.grad = grads[s].clone()
        # The stored float32 lr, as a double: the engine receives exactly this value.
        opt.param_groups[0]["lr"] = float(lrs[s].item())
        opt.step()
        after.append(p.detach().clone())
    tensors["sgd.%s.params" % name] = f32(torch.stack(after))
    if o["momentum"] > 0:
        tensors["sgd.%s.momentum" % name] = f32(opt.state[p]["momentum_buffer"])
    meta["sgd." + name] = "momentum=%r dampening=%r nesterov=%d weight_decay=%r" % (
        o["momentum"], o["dampening"], int(o["nesterov"]), o["weight_decay"])


# ---- schedules -----------------------------------------------------------------------------
BASE_LR, SPE, EPOCHS = 0.1, 7, 6
T = SPE * EPOCHS
meta["sched"] = "base_lr=%r steps_per_epoch=%d epochs=%d" % (BASE_LR, SPE, EPOCHS)


def dummy_opt():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR)


# constant: no scheduler at all.
opt = dummy_opt()
tensors["sched.constant"] = np.array([opt.param_groups[0]["lr"] for _ in range(T)], dtype=np.float32)
meta["sched.constant"] = "type=constant"

# step: StepLR stepped per epoch.
STEP_EPOCHS, GAMMA = 2, 0.5
opt = dummy_opt()
sch = torch.optim.lr_scheduler.StepLR(opt, step_size=STEP_EPOCHS, gamma=GAMMA)
per_epoch = []
for e in range(EPOCHS):
    per_epoch.append(opt.param_groups[0]["lr"])
    opt.step()
    sch.step()
tensors["sched.step"] = np.array(per_epoch, dtype=np.float32)
meta["sched.step"] = "type=step step_epochs=%d gamma=%r" % (STEP_EPOCHS, GAMMA)

# cosine: CosineAnnealingLR over all steps, stepped per optimizer step.
for name, eta_min in (("cosine", 0.0), ("cosine_min", 0.01)):
    opt = dummy_opt()
    sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=eta_min)
    per_step = []
    for s in range(T):
        per_step.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    tensors["sched." + name] = np.array(per_step, dtype=np.float32)
    meta["sched." + name] = "type=cosine min_lr=%r" % eta_min


def write_safetensors(path, named, metadata):
    header = {}
    offset = 0
    blobs = []
    for name, arr in named.items():
        assert arr.dtype == np.float32
        data = arr.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


write_safetensors(OUT, tensors, meta)
print("wrote %s (%d tensors)" % (OUT, len(tensors)))

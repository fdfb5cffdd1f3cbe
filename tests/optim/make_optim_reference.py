#!/usr/bin/python3
"""Generates tests/optim/optim_reference.safetensors: torch.optim.SGD, RMSprop, Adam and AdamW
trajectories, torch.nn.utils.clip_grad_norm_ results and torch.optim.lr_scheduler learning rates
that tests/optim/test_sgd.cpp, test_optimizers.cpp and test_schedule.cpp check lib/optim against.

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

RMSprop / Adam / AdamW (float32; metadata "optim_cases" lists the cases, "optim.<c>" holds
"type=rmsprop|adam|adamw <torch kwarg>=<value> ..." with betas split into beta1/beta2 and bools as
0/1, "optim.<c>.states" the state kinds stored):
  optim.grads [8,3,4]      the gradient of each of the 8 steps (some steps scaled down)
  optim.lrs [8]            each step's learning rate; the initial parameter is sgd.p0
  optim.<c>.params [8,3,4] the parameter after each step
  optim.<c>.<kind> [3,4]   torch's state after the last step under our name (square_avg,
                           grad_avg, momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq)

Gradient clipping: clip.grad0 [3,4], clip.grad1 [5], clip.grad2 [2,3,2] the gradients; for
each case <c> in "clip_cases" (metadata "<c>": "max_norm=.."): <c>.grad<i> the clipped
gradients and <c>.total_norm [1] the norm clip_grad_norm_ returned.

Schedules (float64 in torch, stored as float32; metadata "sched.<s>" holds the arguments):
  sched.constant [T]  torch: no scheduler, lr stays base_lr
  sched.step [E]      torch StepLR(step_size=step_epochs, gamma) stepped once per epoch: the lr
                      of epoch e (0-based). Our schedule is per optimizer step with
                      lr = base * gamma^floor(step / steps_per_epoch / step_epochs), so every
                      step of epoch e must use this value.
  sched.cosine [T]    torch CosineAnnealingLR(T_max = epochs * steps_per_epoch, eta_min) stepped
                      every optimizer step: the lr used by step s (0-based), s < T.
  sched.multistep [E], sched.exponential [E]
                      torch MultiStepLR(milestones, gamma) / ExponentialLR(gamma) stepped once per
                      epoch: the lr of epoch e, used by every step of that epoch.
  sched.onecycle, sched.onecycle_linear, sched.onecycle_three_phase [T]
                      torch OneCycleLR(max_lr = base_lr, total_steps = T, cycle_momentum=False,
                      ...) stepped every optimizer step: the lr used by step s.
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


# ---- RMSprop, Adam, AdamW ------------------------------------------------------------------
# Drawn after the SGD tensors, so those stay as they were. The gradients shrink at some steps so
# that the second-moment averages fall and amsgrad's running maximum matters.
OPT_STEPS = 8
scale = torch.tensor([1.0, 1.0, 0.2, 1.0, 0.1, 0.5, 0.05, 0.02], dtype=torch.float32).view(-1, 1, 1)
ograds = (torch.rand(OPT_STEPS, 3, 4, generator=gen, dtype=torch.float32) * 2 - 1) * scale
olrs = torch.tensor([0.01, 0.02, 0.005, 0.01, 0.03, 0.01, 0.002, 0.015], dtype=torch.float32)
tensors["optim.grads"] = f32(ograds)
tensors["optim.lrs"] = f32(olrs)

# name, torch class, kwargs, recipe-style description parsed by test_optimizers.cpp,
# state keys (torch name -> our state kind)
OPT_CASES = [
    ("rmsprop", torch.optim.RMSprop, dict(alpha=0.99, eps=1e-8), {"square_avg": "square_avg"}),
    ("rmsprop_momentum", torch.optim.RMSprop, dict(alpha=0.99, eps=1e-8, momentum=0.9),
     {"square_avg": "square_avg", "momentum_buffer": "momentum_buffer"}),
    ("rmsprop_centered", torch.optim.RMSprop, dict(alpha=0.9, eps=1e-6, centered=True),
     {"square_avg": "square_avg", "grad_avg": "grad_avg"}),
    ("rmsprop_centered_momentum_wd", torch.optim.RMSprop,
     dict(alpha=0.95, eps=1e-8, centered=True, momentum=0.5, weight_decay=1e-2),
     {"square_avg": "square_avg", "grad_avg": "grad_avg", "momentum_buffer": "momentum_buffer"}),
    # Inception (Szegedy et al. 2016): decay 0.9, momentum 0.9, epsilon 1.0.
    ("rmsprop_inception", torch.optim.RMSprop, dict(alpha=0.9, eps=1.0, momentum=0.9),
     {"square_avg": "square_avg", "momentum_buffer": "momentum_buffer"}),
    ("adam", torch.optim.Adam, dict(betas=(0.9, 0.999), eps=1e-8), {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}),
    ("adam_weight_decay", torch.optim.Adam, dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
     {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}),
    ("adam_betas", torch.optim.Adam, dict(betas=(0.8, 0.99), eps=1e-6), {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}),
    ("adam_amsgrad", torch.optim.Adam, dict(betas=(0.9, 0.99), eps=1e-8, amsgrad=True),
     {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq", "max_exp_avg_sq": "max_exp_avg_sq"}),
    ("adamw", torch.optim.AdamW, dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
     {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}),
    ("adamw_strong_decay", torch.optim.AdamW, dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.5),
     {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq"}),
    ("adamw_amsgrad", torch.optim.AdamW, dict(betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2, amsgrad=True),
     {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq", "max_exp_avg_sq": "max_exp_avg_sq"}),
]
meta["optim_cases"] = ",".join(c[0] for c in OPT_CASES)
for name, cls, kw, states in OPT_CASES:
    p = torch.nn.Parameter(p0.clone())
    opt = cls([p], lr=float(olrs[0]), **kw)
    after = []
    for s_ in range(OPT_STEPS):
        p.grad = ograds[s_].clone()
        opt.param_groups[0]["lr"] = float(olrs[s_].item())
        opt.step()
        after.append(p.detach().clone())
    tensors["optim.%s.params" % name] = f32(torch.stack(after))
    for tname, ours in states.items():
        tensors["optim.%s.%s" % (name, ours)] = f32(opt.state[p][tname])
    d = {"type": {torch.optim.RMSprop: "rmsprop", torch.optim.Adam: "adam", torch.optim.AdamW: "adamw"}[cls]}
    for k, v in kw.items():
        if k == "betas":
            d["beta1"], d["beta2"] = v
        elif isinstance(v, bool):
            d[k] = int(v)
        else:
            d[k] = v
    meta["optim." + name] = " ".join("%s=%s" % kv for kv in d.items())
    meta["optim.%s.states" % name] = ",".join(states.values())


# ---- gradient clipping ---------------------------------------------------------------------
# torch.nn.utils.clip_grad_norm_ over three gradients of different shapes.
cg = [torch.rand(3, 4, generator=gen) * 2 - 1, torch.rand(5, generator=gen) * 2 - 1,
      torch.rand(2, 3, 2, generator=gen) * 4 - 2]
for i, g in enumerate(cg):
    tensors["clip.grad%d" % i] = f32(g)
total = float(torch.norm(torch.stack([torch.norm(g) for g in cg])))
CLIP_CASES = [("clip_small", 0.5), ("clip_large", 100.0)]
meta["clip_cases"] = ",".join(c for c, _ in CLIP_CASES)
for name, max_norm in CLIP_CASES:
    ps = [torch.nn.Parameter(torch.zeros_like(g)) for g in cg]
    for p, g in zip(ps, cg):
        p.grad = g.clone()
    tn = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    for i, p in enumerate(ps):
        tensors["%s.grad%d" % (name, i)] = f32(p.grad)
    tensors[name + ".total_norm"] = np.array([float(tn)], dtype=np.float32)
    meta[name] = "max_norm=%r" % max_norm


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


# multistep / exponential: stepped once per epoch, like StepLR above.
for name, make, desc in (
        ("multistep", lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 3, 5], gamma=0.5),
         "type=multistep milestones=2,3,5 gamma=0.5"),
        ("exponential", lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
         "type=exponential gamma=0.8")):
    opt = dummy_opt()
    sch = make(opt)
    per_epoch = []
    for e in range(EPOCHS):
        per_epoch.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    tensors["sched." + name] = np.array(per_epoch, dtype=np.float32)
    meta["sched." + name] = desc

# onecycle: OneCycleLR(max_lr = base lr, total_steps = all steps) stepped per step, momentum not
# cycled.
for name, kw in (("onecycle", dict(pct_start=0.3, div_factor=25.0, final_div_factor=1e4, anneal_strategy="cos")),
                 ("onecycle_linear", dict(pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
                                          anneal_strategy="linear")),
                 ("onecycle_three_phase", dict(pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                                               anneal_strategy="cos", three_phase=True))):
    opt = dummy_opt()
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=BASE_LR, total_steps=T, cycle_momentum=False, **kw)
    per_step = []
    for s_ in range(T):
        per_step.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    tensors["sched." + name] = np.array(per_step, dtype=np.float32)
    meta["sched." + name] = "type=onecycle " + " ".join(
        "%s=%s" % (k, int(v) if isinstance(v, bool) else v) for k, v in kw.items())


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

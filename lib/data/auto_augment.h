#pragma once
// torchvision's AutoAugment (ImageNet, CIFAR-10 and SVHN policies), RandAugment and
// TrivialAugmentWide on 8-bit images: the same op sets, magnitude bins and signs as
// torchvision.transforms.autoaugment 0.14, applied with its PIL path (augment_ops.h). The random
// choices come from the caller's Rng (seeded per sample by the loader), not from torch's stream;
// given the same choices the pixels are torchvision's.
#include <cstdint>
#include <vector>

#include "config/recipe.h"
#include "core/rng.h"
#include "data/image.h"

namespace cnn {

// The ops, in the order of torchvision's _augmentation_space dicts (Invert last: AutoAugment only).
enum class AugmentOp {
  identity, shear_x, shear_y, translate_x, translate_y, rotate, brightness, color, contrast, sharpness,
  posterize, solarize, autocontrast, equalize, invert
};
constexpr int kRandAugmentOps = 14;  // RandAugment and TrivialAugmentWide draw from identity..equalize

const char* augment_op_name(AugmentOp op);  // torchvision's name ("ShearX", ...)

// One op with its final (signed) magnitude, as _apply_op receives it.
struct AugmentStep {
  AugmentOp op = AugmentOp::identity;
  double magnitude = 0;
};

// The magnitude of `bin` of `op` (unsigned) in each augmentation space: torchvision's float32
// torch.linspace values (bit for bit as torch 1.13's CPU kernel computes them), posterize's bits.
// `height`, `width`: of the image (translations scale with it in RandAugment / AutoAugment).
double randaugment_magnitude(AugmentOp op, int64_t bin, int64_t num_bins, int64_t height, int64_t width);
double trivialaugment_magnitude(AugmentOp op, int64_t bin, int64_t num_bins);
bool augment_op_signed(AugmentOp op);

// One AutoAugment sub-policy: two (op, probability, magnitude bin; -1 none) entries.
struct PolicyEntry {
  AugmentOp op;
  double p;
  int bin;
};
const std::vector<std::pair<PolicyEntry, PolicyEntry>>& autoaugment_policy(AutoAugmentPolicy policy);

// The steps for given choices, as torchvision's forward computes them:
// RandAugment: op index in [0, 14), sign bit (1: negative) per op.
AugmentStep randaugment_step(const TransformSpec& t, int op_index, bool negative, int64_t height, int64_t width);
// TrivialAugmentWide: op index, magnitude bin, sign bit.
AugmentStep trivialaugment_step(const TransformSpec& t, int op_index, int64_t bin, bool negative);
// AutoAugment: sub-policy id, the two uniform draws (an op runs when draw <= its p), two sign bits.
struct AutoAugmentSteps {
  int count = 0;  // the ops whose draw passed, in order
  AugmentStep step[2];
  const AugmentStep* begin() const { return step; }
  const AugmentStep* end() const { return step + count; }
};
AutoAugmentSteps autoaugment_steps(AutoAugmentPolicy policy, int id, const double u[2], const bool negative[2],
                                   int64_t height, int64_t width);

// Draws the choices of t (randaugment | trivialaugment | autoaugment) from rng into `steps` (cleared; its capacity is
// reused, so a worker's steady state allocates nothing).
void choose_augment_steps(const TransformSpec& t, int64_t height, int64_t width, Rng& rng,
                          std::vector<AugmentStep>& steps);

// _apply_op(img, op, magnitude, NEAREST, fill=None) on img in place; `tmp` is scratch.
void apply_augment_step(const AugmentStep& s, Image& img, Image& tmp);

}  // namespace cnn

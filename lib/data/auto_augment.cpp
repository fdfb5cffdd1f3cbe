#include "data/auto_augment.h"

#include <cmath>
#include <numbers>

#include "data/augment_ops.h"
#include "data/image_ops.h"
#include "data/transforms.h"

namespace cnn {

namespace {

using Op = AugmentOp;

// torch.linspace(start, end, n)[i] in float32 as torch 1.13's CPU kernel (AVX2 dispatch) computes
// it: blocks of 8 from a fused-multiply-add base (start + step * i below halfway, end - step *
// (n - 1 - i) above) plus lane * step, the last n % 16 values one by one with the same fused
// base. Not the exactly rounded value: torch's own bins differ from it by up to a few ulps.
float torch_linspace(float start, float end, int64_t n, int64_t i) {
  const float step = (end - start) / float(n - 1);
  const int64_t half = n / 2;
  auto base = [&](int64_t k) {
    return k < half ? std::fma(step, float(k), start) : std::fma(-step, float(n - k - 1), end);
  };
  constexpr int64_t kLanes = 8;
  const int64_t vector_end = n >= 2 * kLanes ? (n / (2 * kLanes)) * (2 * kLanes) : 0;
  if (i >= vector_end) return base(i);
  const int64_t block = i - i % kLanes;
  const float lane_step = float(i - block) * step;  // rounded before the sum, as the lanes are
  return base(block) + lane_step;
}

// torchvision: 8 - (arange(n) / ((n - 1) / d)).round().int() (float32 division, half to even).
int posterize_bits(int64_t bin, int64_t n, double d) {
  const float q = float(bin) / float(double(n - 1) / d);
  return 8 - int(std::nearbyint(q));
}

// torchvision's _apply_op for the affine ops: shears about (0, 0) by atan(magnitude) (in degrees,
// via Python's math.degrees), translations by int(magnitude) about the centre.
constexpr double kRadToDeg = 180.0 / std::numbers::pi;

}  // namespace

const char* augment_op_name(AugmentOp op) {
  static const char* const names[] = {"Identity",  "ShearX",   "ShearY",     "TranslateX", "TranslateY",
                                      "Rotate",    "Brightness", "Color",    "Contrast",   "Sharpness",
                                      "Posterize", "Solarize", "AutoContrast", "Equalize", "Invert"};
  return names[int(op)];
}

bool augment_op_signed(AugmentOp op) {
  switch (op) {
    case Op::shear_x: case Op::shear_y: case Op::translate_x: case Op::translate_y: case Op::rotate:
    case Op::brightness: case Op::color: case Op::contrast: case Op::sharpness:
      return true;
    default:
      return false;
  }
}

double randaugment_magnitude(AugmentOp op, int64_t bin, int64_t n, int64_t height, int64_t width) {
  switch (op) {
    case Op::shear_x: case Op::shear_y: return torch_linspace(0.0f, 0.3f, n, bin);
    case Op::translate_x: return torch_linspace(0.0f, float(150.0 / 331.0 * double(width)), n, bin);
    case Op::translate_y: return torch_linspace(0.0f, float(150.0 / 331.0 * double(height)), n, bin);
    case Op::rotate: return torch_linspace(0.0f, 30.0f, n, bin);
    case Op::brightness: case Op::color: case Op::contrast: case Op::sharpness:
      return torch_linspace(0.0f, 0.9f, n, bin);
    case Op::posterize: return posterize_bits(bin, n, 4.0);
    case Op::solarize: return torch_linspace(255.0f, 0.0f, n, bin);
    default: return 0.0;
  }
}

double trivialaugment_magnitude(AugmentOp op, int64_t bin, int64_t n) {
  switch (op) {
    case Op::shear_x: case Op::shear_y: return torch_linspace(0.0f, 0.99f, n, bin);
    case Op::translate_x: case Op::translate_y: return torch_linspace(0.0f, 32.0f, n, bin);
    case Op::rotate: return torch_linspace(0.0f, 135.0f, n, bin);
    case Op::brightness: case Op::color: case Op::contrast: case Op::sharpness:
      return torch_linspace(0.0f, 0.99f, n, bin);
    case Op::posterize: return posterize_bits(bin, n, 6.0);
    case Op::solarize: return torch_linspace(255.0f, 0.0f, n, bin);
    default: return 0.0;
  }
}

AugmentStep randaugment_step(const TransformSpec& t, int op_index, bool negative, int64_t height, int64_t width) {
  const Op op = Op(op_index);
  double m = randaugment_magnitude(op, t.magnitude, t.num_magnitude_bins, height, width);
  if (augment_op_signed(op) && negative) m = -m;
  return {op, m};
}

AugmentStep trivialaugment_step(const TransformSpec& t, int op_index, int64_t bin, bool negative) {
  const Op op = Op(op_index);
  double m = trivialaugment_magnitude(op, bin, t.num_magnitude_bins);
  if (augment_op_signed(op) && negative) m = -m;
  return {op, m};
}

AutoAugmentSteps autoaugment_steps(AutoAugmentPolicy policy, int id, const double u[2], const bool negative[2],
                                   int64_t height, int64_t width) {
  const auto& sub = autoaugment_policy(policy)[size_t(id)];
  AutoAugmentSteps steps;
  const PolicyEntry* entries[2] = {&sub.first, &sub.second};
  for (int k = 0; k < 2; ++k) {
    const PolicyEntry& e = *entries[k];
    if (!(u[k] <= e.p)) continue;
    // AutoAugment's space is RandAugment's with 10 bins (plus Invert).
    double m = e.bin >= 0 ? randaugment_magnitude(e.op, e.bin, 10, height, width) : 0.0;
    if (augment_op_signed(e.op) && negative[k]) m = -m;
    steps.step[steps.count++] = {e.op, m};
  }
  return steps;
}

void choose_augment_steps(const TransformSpec& t, int64_t height, int64_t width, Rng& rng,
                          std::vector<AugmentStep>& steps) {
  steps.clear();
  if (t.type == "randaugment") {
    for (int64_t k = 0; k < t.num_ops; ++k) {
      const int op = int(rng.below(kRandAugmentOps));
      steps.push_back(randaugment_step(t, op, rng.below(2) == 1, height, width));
    }
  } else if (t.type == "trivialaugment") {
    const int op = int(rng.below(kRandAugmentOps));
    const int64_t bin = int64_t(rng.below(uint64_t(t.num_magnitude_bins)));
    steps.push_back(trivialaugment_step(t, op, bin, rng.below(2) == 1));
  } else if (t.type == "autoaugment") {
    const int id = int(rng.below(autoaugment_policy(t.policy).size()));
    const double u[2] = {uniform01(rng), uniform01(rng)};
    const bool negative[2] = {rng.below(2) == 1, rng.below(2) == 1};
    for (const AugmentStep& s : autoaugment_steps(t.policy, id, u, negative, height, width)) steps.push_back(s);
  }
}

void apply_augment_step(const AugmentStep& s, Image& img, Image& tmp) {
  const double m = s.magnitude;
  switch (s.op) {
    case Op::identity: return;
    case Op::shear_x:
    case Op::shear_y: {
      const double deg = std::atan(m) * kRadToDeg;
      affine_shear_translate(img, s.op == Op::shear_x ? deg : 0.0, s.op == Op::shear_y ? deg : 0.0, 0, 0, false, tmp);
      std::swap(img, tmp);
      return;
    }
    case Op::translate_x:
    case Op::translate_y: {
      const int64_t d = int64_t(m);  // Python int(): toward zero
      affine_shear_translate(img, 0.0, 0.0, s.op == Op::translate_x ? d : 0, s.op == Op::translate_y ? d : 0, true,
                             tmp);
      std::swap(img, tmp);
      return;
    }
    case Op::rotate:
      rotate_nearest(img, m, tmp);
      std::swap(img, tmp);
      return;
    case Op::brightness: adjust_brightness(img, float(1.0 + m)); return;
    case Op::color: adjust_saturation(img, float(1.0 + m)); return;
    case Op::contrast: adjust_contrast(img, float(1.0 + m)); return;
    case Op::sharpness: adjust_sharpness(img, float(1.0 + m), tmp); return;
    case Op::posterize: posterize(img, int(m)); return;
    case Op::solarize: solarize(img, m); return;
    case Op::autocontrast: autocontrast(img); return;
    case Op::equalize: equalize(img); return;
    case Op::invert: invert(img); return;
  }
}

}  // namespace cnn

#pragma once
// Per-plane sums for BatchNorm, with kStatLanes independent partial sums combined in a fixed
// order: a single float accumulator is a serial dependency chain that the compiler may not
// vectorize (it cannot reorder float additions), which made BatchNorm ~13% of a ResNet-20 step.
// Results are deterministic and differ from a serial sum only by rounding.
#include <cstdint>

namespace cnn {

constexpr int kStatLanes = 16;

// sum of x[0..n) (kStatLanes partial sums: a conv's bias gradient was a serial chain, 5% of a
// LeNet-5 step).
float plane_sum(const float* x, int64_t n);
// sum of x[0..n), and sum of (x - sum/n)^2 (centred on the plane's own mean).
void plane_sum_and_centered_squares(const float* x, int64_t n, float& sum, float& centered_squares);
// sum of dy and sum of dy * (x - mean).
void plane_grad_sums(const float* x, const float* dy, int64_t n, float mean, float& sum_dy, float& sum_dy_xc);
// BatchNorm's output before a fused ReLU: forward computes it and backward recomputes it for the
// ReLU's mask with this one expression, so the mask is the forward's output > 0 bit for bit and
// backward need not read that output (a third of its memory traffic). Shared code is compiled
// for the x86-64 baseline, which has no FMA to contract it into differently.
inline float bn_affine(float x, float scale, float shift) { return x * scale + shift; }
// dy through the fused ReLU: dy where the forward's output (bn_affine of x) was > 0, else 0. dy is
// read unconditionally: the select vectorizes, a conditional load does not.
inline float bn_relu_grad(float dy, float x, float scale, float shift) {
  return bn_affine(x, scale, shift) > 0.f ? dy : 0.f;
}
// BatchNorm's output through a fused ReLU (a NaN becomes 0).
inline float bn_relu(float x, float scale, float shift) {
  const float v = bn_affine(x, scale, shift);
  return v > 0.f ? v : 0.f;
}
// One channel of a training BatchNorm: its output is bn_affine(x, scale, shift); its input
// gradient k * (dy - mdy - (x - mean) * invstd * mdx), dy through the fused ReLU's mask when it
// has one (k = gamma * invstd, mdy = mean(dy), mdx = mean(dy * xhat)).
struct BnChannel {
  float scale = 1, shift = 0;
  float k = 0, mdy = 0, mean = 0, invstd = 0, mdx = 0;
};
inline float bn_input_grad(float dy, float x, const BnChannel& c) {
  return c.k * (dy - c.mdy - (x - c.mean) * c.invstd * c.mdx);
}
// A training BatchNorm's elementwise pass handed to the convolution next to it, applied to values
// as that convolution packs them (Net: packed BatchNorms). normalize: the values are the
// BatchNorm's input, the result its output (bn_affine, then bn_relu's clamp when relu). input_grad:
// the values are its output gradient, `x` (indexed as the values) its input, the result its input
// gradient (bn_input_grad, dy masked as bn_relu_grad when relu).
struct BnPackMap {
  const BnChannel* channels = nullptr;  // per channel
  bool relu = false;
  bool input_grad = false;
  const float* x = nullptr;  // input_grad
};
// One value of channel c through the map (x: map.x's value there, input_grad). For code compiled
// for the baseline only, as bn_affine; the ISA kernels have a vector twin (blocked_conv_simd.h).
inline float bn_map_value(const BnPackMap& map, int64_t c, float v, float x) {
  const BnChannel& k = map.channels[c];
  if (!map.input_grad) return map.relu ? bn_relu(v, k.scale, k.shift) : bn_affine(v, k.scale, k.shift);
  return bn_input_grad(map.relu ? bn_relu_grad(v, x, k.scale, k.shift) : v, x, k);
}

// The same with dy masked by a following ReLU: dy[i] counts only where bn_affine(x[i], scale,
// shift) > 0 (bit-identical to plane_grad_sums on relu_backward's output).
void plane_grad_sums_relu(const float* x, const float* dy, int64_t n, float mean, float scale, float shift,
                          float& sum_dy, float& sum_dy_xc);

// A packed BatchNorm's backward sums (BnPlaneSums) of planes [p0, p1) of its output gradient dy
// and input x (C channels of HW values per image), as its own backward computes them:
// plane_grad_sums, or plane_grad_sums_relu through the map's ReLU (map.channels: the forward's,
// with its mean), into sums[2p] and sums[2p + 1], by the active ISA's kernel (BlockedConvKernel::
// grad_sums: the same bits).
void bn_plane_grad_sums(const BnPackMap& map, const float* x, const float* dy, int64_t C, int64_t HW, int64_t p0,
                        int64_t p1, float* sums);

// Per channel of y (N x C x HW): sum and sum of squares in double (each plane with
// kStatLanes partial sums, planes added in image order), overwriting sum[c] and sum_sq[c].
void channel_sums(const float* y, int64_t N, int64_t C, int64_t HW, double* sum, double* sum_sq);
// sum[m] and sum_sq[m] = the arrays written by the direct convolution (ConvEpilogue::slot_sums:
// `slots` arrays of 2 * M) added in slot order.
void reduce_slot_sums(const double* partials, int slots, int64_t M, double* sum, double* sum_sq);

}  // namespace cnn

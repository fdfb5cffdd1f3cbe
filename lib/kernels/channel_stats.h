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
// The same with dy masked by a following ReLU: dy[i] counts only where bn_affine(x[i], scale,
// shift) > 0 (bit-identical to plane_grad_sums on relu_backward's output).
void plane_grad_sums_relu(const float* x, const float* dy, int64_t n, float mean, float scale, float shift,
                          float& sum_dy, float& sum_dy_xc);

// Per channel of y (N x C x HW): sum and sum of squares in double (each plane with
// kStatLanes partial sums, planes added in image order), overwriting sum[c] and sum_sq[c].
void channel_sums(const float* y, int64_t N, int64_t C, int64_t HW, double* sum, double* sum_sq);
// sum[m] and sum_sq[m] = the per-thread arrays written by the direct convolution (ConvEpilogue::
// thread_sums: threads arrays of 2 * M) added in thread order.
void reduce_thread_sums(const double* partials, int threads, int64_t M, double* sum, double* sum_sq);

}  // namespace cnn

#pragma once
// Plumbing shared by Conv2d and ConvTranspose2d: how many small images share one GEMM, laying
// images side by side and back, per-channel bias add and gradient, and the weight gradient
// accumulated over images in parallel (thread 0 into the gradient, the others into partials).
#include <cstdint>
#include <functional>

#include "core/tensor.h"

namespace cnn {

// Images per GEMM: small images are laid side by side so the GEMM has enough columns to run
// near peak (up to 2048), the K x (images * P) column matrix held to 16 MiB (conv_common.cpp).
int64_t images_per_gemm(int64_t P, int64_t K, int64_t available);

// rows x (nb * P) <- nb images of rows x P each, image i starting at src + i * image_stride.
void gather_side_by_side(const float* src, int64_t image_stride, int64_t rows, int64_t P, int64_t nb, float* dst);
// The inverse: image i of `src` (rows x nb*P) to dst + i * image_stride.
void scatter_side_by_side(const float* src, int64_t rows, int64_t P, int64_t nb, float* dst, int64_t image_stride);
// The same, adding src to what dst holds.
void scatter_add_side_by_side(const float* src, int64_t rows, int64_t P, int64_t nb, float* dst, int64_t image_stride);

// y[n, c, :] += bias[c] for nb images of C x P starting at y (image stride C * P).
void add_channel_bias(float* y, const float* bias, int64_t nb, int64_t C, int64_t P);
// db[c] += sum over images and pixels of dy[n, c, :] (dy: N x C x P), parallel over channels.
void accumulate_channel_bias_grad(const Tensor& dy, int64_t C, int64_t P, float* db);

// Runs body(begin, end, tid, dw) over the N images in parallel and leaves the sum of every
// thread's contributions in *weight_grad (accumulated, never overwritten). A null weight_grad (no
// weight gradient wanted) runs body with dw = nullptr.
void accumulate_weight_grad_over_images(
    int64_t N, Tensor* weight_grad,
    const std::function<void(int64_t begin, int64_t end, int tid, float* dw)>& body);

}  // namespace cnn

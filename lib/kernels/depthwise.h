#pragma once
// Direct depthwise convolution (groups == input channels), the MobileNet layer: one k x k filter
// per (input channel, multiplier) pair, so there is no GEMM worth running. Output channel
// c*m + j (j < m, the channel multiplier) reads input channel c, as PyTorch's
// Conv2d(C, C*m, k, groups=C); weights are (C*m) x 1 x KH x KW.
//
// The plane kernels work on one input plane. g describes the plane's geometry (g.C is ignored);
// strides, padding (PH_end/PW_end too), dilation and any kernel size are supported. Rows are
// copied into a zero-padded buffer split by column phase (column c goes to phase c % SW at
// c / SW), so every kernel tap reads a contiguous run for any stride, and the inner loops are
// register-blocked SIMD over output columns.
#include <cstddef>
#include <cstdint>

#include "kernels/activation.h"
#include "kernels/im2col.h"

namespace cnn {

// Scratch floats the plane kernels need for geometry g and multiplier m (any of the three).
size_t depthwise_workspace_floats(const ConvGeom& g, int m);

// y (m planes of OH x OW) = x (one H x W plane) correlated with w (m filters of KH x KW), plus
// bias[j] when bias is non-null. Overwrites y.
void depthwise_forward_plane(const float* x, const float* w, const float* bias, const ConvGeom& g, int m,
                             float* y, float* ws);
// dx (H x W) = the gradient of the input plane for output gradients dy (m planes). Overwrites dx.
void depthwise_backward_data_plane(const float* dy, const float* w, const ConvGeom& g, int m, float* dx,
                                   float* ws);
// dw (m x KH x KW) += the weight gradient for input plane x and output gradients dy (m planes).
void depthwise_backward_weight_plane(const float* x, const float* dy, const ConvGeom& g, int m, float* dw,
                                     float* ws);

// The copy-free AVX-512 path for 3x3 / dilation 1 / stride 1 or 2 / symmetric padding <= 2 is on
// by default where compiled in; tests switch it off to run the general path on those shapes.
void depthwise_set_simd3x3(bool on);

// Whole batches, split over the thread pool by (image, channel) planes. x: N x C x H x W,
// y/dy: N x (C*m) x OH x OW, w/dw: (C*m) x KH x KW. Backward accumulates into dw and overwrites
// dx unless dx is null; a null dw skips the weight gradient. Bias gradients are left to the caller.
// e (a fused inference pass) is applied to each image's output planes right after they are written.
void depthwise_forward(const float* x, const float* w, const float* bias, const ConvGeom& g, int64_t N, int C,
                       int m, float* y, const OutputEpilogue& e = {});
void depthwise_backward(const float* x, const float* dy, const float* w, const ConvGeom& g, int64_t N, int C,
                        int m, float* dx, float* dw);

}  // namespace cnn

#pragma once
// Local response normalization across channels, PyTorch's nn.LocalResponseNorm:
//   s_c = k + alpha / size * sum_{j = c - size/2}^{c + (size-1)/2} x_j^2   (channels outside [0, C) are 0)
//   y_c = x_c * s_c^-beta
// The window is centred with size/2 channels before and (size-1)/2 after (asymmetric for even
// sizes, as torch pads). The kernels work on one image (C planes of HW pixels, NCHW), on the
// pixel range [p0, p1), so callers can split both images and pixels across threads.
#include <cstdint>

namespace cnn {

struct LrnParams {
  int size = 5;
  float alpha = 1e-4f, beta = 0.75f, k = 1.f;
};

// Largest pixel range the kernels take at once (p1 - p0 <= kLrnBlock).
constexpr int64_t kLrnBlock = 128;

// Writes y and pw = s^-beta (saved for backward) for pixels [p0, p1) of every channel.
void lrn_forward(const float* x, int64_t C, int64_t HW, int64_t p0, int64_t p1, const LrnParams& p, float* y,
                 float* pw);

// Overwrites dx for pixels [p0, p1):
//   dx_j = dy_j * pw_j - 2 alpha beta / size * x_j * sum_{c : j in window(c)} dy_c * y_c / s_c.
// tmp holds C * (p1 - p0) floats.
void lrn_backward(const float* x, const float* y, const float* pw, const float* dy, int64_t C, int64_t HW, int64_t p0,
                  int64_t p1, const LrnParams& p, float* dx, float* tmp);

}  // namespace cnn

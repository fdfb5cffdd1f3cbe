#pragma once
// Elementwise activations over n floats. Backward functions take the forward output y (or input
// x where the derivative needs it) and overwrite dx.
#include <cstdint>

namespace cnn {

// y += residual (if non-null), then y clamped to [lo, hi] (if clamp): the epilogue of a fused
// inference pass for the layers whose kernels do not apply it themselves.
void add_and_clamp(float* y, const float* residual, int64_t n, bool clamp, float lo, float hi);
struct OutputEpilogue {  // add_and_clamp's arguments, for kernels that apply it to each part they write
  const float* residual = nullptr;
  bool clamp = false;
  float lo = 0, hi = 0;
  bool empty() const { return !residual && !clamp; }
};
void relu_forward(const float* x, float* y, int64_t n);
void relu_backward(const float* y, const float* dy, float* dx, int64_t n);
void leaky_relu_forward(const float* x, float* y, int64_t n, float slope);
void leaky_relu_backward(const float* x, const float* dy, float* dx, int64_t n, float slope);
void tanh_forward(const float* x, float* y, int64_t n);
void tanh_backward(const float* y, const float* dy, float* dx, int64_t n);
void sigmoid_forward(const float* x, float* y, int64_t n);
void sigmoid_backward(const float* y, const float* dy, float* dx, int64_t n);

}  // namespace cnn

// The naive twin of the row-convolution kernels: the definition in row_conv.h, loop for loop.
#include "kernels/row_conv.h"

#include <vector>

namespace cnn {
namespace {

float packed_weight(const float* w, int C, int T, int m, int c, int t) {
  return w[((int64_t(m / kRowConvMB) * C + c) * T + t) * kRowConvMB + m % kRowConvMB];
}

// Whether the output at position q skips tap t (ColumnSkips).
bool skips(const ColumnSkips& s, int t, int64_t q) {
  if (s.width == 0 || t < s.left) return false;
  return q % s.width == (t < s.right ? 0 : s.width - 1);
}

float dot(const RowConvArgs& a, int m, int64_t q) {
  float s = 0;
  for (int c = 0; c < a.C; ++c)
    for (int t = 0; t < a.T; ++t)
      if (!skips(a.skips, t, q)) s += packed_weight(a.w, a.C, a.T, m, c, t) * a.x[c * a.x_stride + q + a.off[t]];
  return s;
}

void forward(const RowConvArgs& a, int64_t q0, int64_t q1) {
  if (!a.outputs) {
    for (int m = 0; m < a.M; ++m)
      for (int64_t q = q0; q < q1; ++q) a.y[m * a.y_stride + q] = dot(a, m, q);
    return;
  }
  std::vector<float> acc;
  for_each_output_run(*a.outputs, q0, q1 - q0, [&](int begin, int len, int64_t dst) {
    acc.resize(size_t(len));
    for (int m = 0; m < a.M; ++m) {
      const int64_t at = dst + m * a.outputs->channel_stride;
      for (int i = 0; i < len; ++i) acc[size_t(i)] = (a.accumulate ? a.out[at + i] : 0.f) + dot(a, m, q0 + begin + i);
      finish_channel_run(a, m, acc.data(), len, at);
    }
  });
}

// lanes == 1: dyb and dw are the plain M x Q and M x C x T arrays.
void wgrad(const RowConvArgs& a, int64_t q0, int64_t q1, float* dw) {
  for (int m = 0; m < a.M; ++m)
    for (int c = 0; c < a.C; ++c)
      for (int t = 0; t < a.T; ++t) {
        float s = 0;
        for (int64_t q = q0; q < q1; ++q) s += a.dyb[m * a.dyb_positions + q] * a.x[c * a.x_stride + q + a.off[t]];
        dw[(int64_t(m) * a.C + c) * a.T + t] += s;
      }
}

void wgrad_rows(const RowConvArgs& a, int64_t q0, int64_t q1, float* dw) {
  RowConvArgs plain = a;
  plain.dyb = a.dy, plain.dyb_positions = a.y_stride;
  wgrad(plain, q0, q1, dw);
}

}  // namespace

const RowConvKernel kRowConvReference{"reference", Isa::generic, 1, forward, wgrad, wgrad_rows};

}  // namespace cnn

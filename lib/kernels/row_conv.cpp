#include "kernels/row_conv.h"

#include <array>
#include <cstring>

namespace cnn {

int64_t packed_row_conv_weights(int M, int C, int T) {
  return int64_t((M + kRowConvMB - 1) / kRowConvMB) * C * T * kRowConvMB;
}

void pack_row_conv_weights(const float* w, int M, int C, int T, bool transpose, float* dst) {
  std::memset(dst, 0, sizeof(float) * size_t(packed_row_conv_weights(M, C, T)));
  for (int m = 0; m < M; ++m)
    for (int c = 0; c < C; ++c)
      for (int t = 0; t < T; ++t) {
        const int64_t src = transpose ? (int64_t(c) * M + m) * T : (int64_t(m) * C + c) * T;
        dst[((int64_t(m / kRowConvMB) * C + c) * T + t) * kRowConvMB + m % kRowConvMB] = w[src + t];
      }
}

std::span<const RowConvKernel> row_conv_kernels() {
  static const std::array<RowConvKernel, 3> all{kRowConvAvx512, kRowConvAvx2, kRowConvReference};
  return all;
}

const RowConvKernel& select_row_conv_kernel() {
  for (const RowConvKernel& k : row_conv_kernels())
    if (isa_enabled(k.isa)) return k;
  return kRowConvReference;
}

}  // namespace cnn

#include "kernels/row_conv.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace cnn {

int64_t packed_row_conv_weights(int M, int C, int T) {
  return int64_t((M + kRowConvMB - 1) / kRowConvMB) * C * T * kRowConvMB;
}

namespace {

// taps == nullptr: all T taps in order (no list to build on the hot path).
void pack(const float* w, int M, int C, int T, const int* taps, int TP, bool transpose, float* dst) {
  std::memset(dst, 0, sizeof(float) * size_t(packed_row_conv_weights(M, C, TP)));
  for (int m = 0; m < M; ++m)
    for (int c = 0; c < C; ++c)
      for (int t = 0; t < TP; ++t) {
        const int64_t src = transpose ? (int64_t(c) * M + m) * T : (int64_t(m) * C + c) * T;
        dst[((int64_t(m / kRowConvMB) * C + c) * TP + t) * kRowConvMB + m % kRowConvMB] = w[src + (taps ? taps[t] : t)];
      }
}

}  // namespace

void pack_row_conv_weights(const float* w, int M, int C, int T, std::span<const int> taps, bool transpose, float* dst) {
  pack(w, M, C, T, taps.data(), static_cast<int>(taps.size()), transpose, dst);
}

void pack_row_conv_weights(const float* w, int M, int C, int T, bool transpose, float* dst) {
  pack(w, M, C, T, nullptr, T, transpose, dst);
}

void add_blocked(const float* dwb, int64_t M, int64_t inner, int lanes, float* dw) {
  for (int64_t m0 = 0; m0 < M; m0 += lanes) {  // reads each block in order
    const int64_t n = std::min<int64_t>(lanes, M - m0);
    const float* src = dwb + m0 * inner;
    float* dst = dw + m0 * inner;
    for (int64_t j = 0; j < inner; ++j)
      for (int64_t l = 0; l < n; ++l) dst[l * inner + j] += src[j * lanes + l];
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

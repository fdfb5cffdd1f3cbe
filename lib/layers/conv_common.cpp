#include "layers/conv_common.h"

#include <algorithm>
#include <cstring>

#include "core/parallel.h"
#include "kernels/channel_stats.h"
#include "core/workspace.h"

namespace cnn {

// OpenBLAS's SGEMM (one thread, Zen 3) at M = 512, K = 4608: 46 GFLOP/s with 48 columns, 64 with
// 256, 80-83 from 512 on. A column matrix of 1 MiB (the limit before session 10) gave ResNet-18-
// CIFAR's 4x4 layers 48 columns; SGEMM packs its operands in blocks anyway, so the matrix need
// not fit in cache: with 16 MiB those layers' training ran 27% faster (`cnn bench --layers`).
int64_t images_per_gemm(int64_t P, int64_t K, int64_t available) {
  constexpr int64_t kMaxColumns = 2048, kMaxColumnFloats = int64_t(1) << 22;
  const int64_t target = std::max<int64_t>(P, std::min<int64_t>(kMaxColumns, kMaxColumnFloats / std::max<int64_t>(K, 1)));
  return std::clamp<int64_t>(target / P, 1, available);
}

void gather_side_by_side(const float* src, int64_t image_stride, int64_t rows, int64_t P, int64_t nb, float* dst) {
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(dst + r * nb * P + i * P, src + i * image_stride + r * P, sizeof(float) * size_t(P));
}

void scatter_side_by_side(const float* src, int64_t rows, int64_t P, int64_t nb, float* dst, int64_t image_stride) {
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(dst + i * image_stride + r * P, src + r * nb * P + i * P, sizeof(float) * size_t(P));
}

void scatter_add_side_by_side(const float* src, int64_t rows, int64_t P, int64_t nb, float* dst, int64_t image_stride) {
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t r = 0; r < rows; ++r) {
      float* d = dst + i * image_stride + r * P;
      const float* s = src + r * nb * P + i * P;
      for (int64_t j = 0; j < P; ++j) d[j] += s[j];
    }
}

void add_channel_bias(float* y, const float* bias, int64_t nb, int64_t C, int64_t P) {
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t c = 0; c < C; ++c) {
      float* yc = y + (i * C + c) * P;
      const float bc = bias[c];
      for (int64_t j = 0; j < P; ++j) yc[j] += bc;
    }
}

void accumulate_channel_bias_grad(const Tensor& dy, int64_t C, int64_t P, float* db) {
  const int64_t N = dy.dim(0), img = C * P;
  parallel_for_balanced(C, [&](int64_t b, int64_t e, int) {
    for (int64_t c = b; c < e; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) {
        s += plane_sum(dy.data() + n * img + c * P, P);
      }
      db[c] += static_cast<float>(s);
    }
  });
}

void accumulate_weight_grad_over_images(
    int64_t N, Tensor* weight_grad,
    const std::function<void(int64_t begin, int64_t end, int tid, float* dw)>& body) {
  if (!weight_grad) {
    parallel_for(N, [&](int64_t b, int64_t e, int tid) { body(b, e, tid, nullptr); });
    return;
  }
  const int64_t wsize = weight_grad->numel();
  const int chunks = static_cast<int>(std::min<int64_t>(N, num_threads()));
  // Workspace slot 1 holds each helper thread's partial.
  parallel_for(N, [&](int64_t b, int64_t e, int tid) {
    float* dw = tid == 0 ? weight_grad->data() : scratch(tid, 1, size_t(wsize));
    if (tid != 0) std::memset(dw, 0, sizeof(float) * size_t(wsize));
    body(b, e, tid, dw);
  });
  float* g = weight_grad->data();
  for (int t = 1; t < chunks; ++t) {
    const float* part = scratch(t, 1, size_t(wsize));
    for (int64_t i = 0; i < wsize; ++i) g[i] += part[i];
  }
}

}  // namespace cnn

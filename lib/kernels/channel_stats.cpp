#include "kernels/channel_stats.h"

#include "core/isa.h"
#include "core/parallel.h"
#include "kernels/blocked_conv.h"

namespace cnn {
namespace {

// Adds lane sums in a fixed tree order.
float combine(const float (&acc)[kStatLanes]) {
  float s = 0;
  for (int l = 0; l < kStatLanes; ++l) s += acc[l];
  return s;
}

}  // namespace

float plane_sum(const float* x, int64_t n) {
  float acc[kStatLanes] = {};
  int64_t i = 0;
  for (; i + kStatLanes <= n; i += kStatLanes)
    for (int l = 0; l < kStatLanes; ++l) acc[l] += x[i + l];
  for (int l = 0; i + l < n; ++l) acc[l] += x[i + l];
  return combine(acc);
}

void plane_sum_and_centered_squares(const float* x, int64_t n, float& sum, float& centered_squares) {
  float acc[kStatLanes] = {};
  int64_t i = 0;
  for (; i + kStatLanes <= n; i += kStatLanes)
    for (int l = 0; l < kStatLanes; ++l) acc[l] += x[i + l];
  for (int l = 0; i + l < n; ++l) acc[l] += x[i + l];
  sum = combine(acc);
  const float m = sum / float(n);
  float sq[kStatLanes] = {};
  i = 0;
  for (; i + kStatLanes <= n; i += kStatLanes)
    for (int l = 0; l < kStatLanes; ++l) sq[l] += (x[i + l] - m) * (x[i + l] - m);
  for (int l = 0; i + l < n; ++l) sq[l] += (x[i + l] - m) * (x[i + l] - m);
  centered_squares = combine(sq);
}

void plane_grad_sums(const float* x, const float* dy, int64_t n, float mean, float& sum_dy, float& sum_dy_xc) {
  float a[kStatLanes] = {}, b[kStatLanes] = {};
  int64_t i = 0;
  for (; i + kStatLanes <= n; i += kStatLanes)
    for (int l = 0; l < kStatLanes; ++l) {
      a[l] += dy[i + l];
      b[l] += dy[i + l] * (x[i + l] - mean);
    }
  for (int l = 0; i + l < n; ++l) {
    a[l] += dy[i + l];
    b[l] += dy[i + l] * (x[i + l] - mean);
  }
  sum_dy = combine(a);
  sum_dy_xc = combine(b);
}

void plane_grad_sums_relu(const float* x, const float* dy, int64_t n, float mean, float scale, float shift,
                          float& sum_dy, float& sum_dy_xc) {
  float a[kStatLanes] = {}, b[kStatLanes] = {};
  int64_t i = 0;
  for (; i + kStatLanes <= n; i += kStatLanes)
    for (int l = 0; l < kStatLanes; ++l) {
      const float d = bn_relu_grad(dy[i + l], x[i + l], scale, shift);
      a[l] += d;
      b[l] += d * (x[i + l] - mean);
    }
  for (int l = 0; i + l < n; ++l) {
    const float d = bn_relu_grad(dy[i + l], x[i + l], scale, shift);
    a[l] += d;
    b[l] += d * (x[i + l] - mean);
  }
  sum_dy = combine(a);
  sum_dy_xc = combine(b);
}

void bn_plane_grad_sums(const BnPackMap& map, const float* x, const float* dy, int64_t C, int64_t HW, int64_t p0,
                        int64_t p1, float* sums) {
  const auto sums_of = blocked_conv_kernel(active_isa(), 0).grad_sums;
  for (int64_t p = p0; p < p1; ++p) {
    const BnChannel& k = map.channels[p % C];
    sums_of(x + p * HW, dy + p * HW, HW, k.mean, map.relu ? &k : nullptr, sums[2 * p], sums[2 * p + 1]);
  }
}

void channel_sums(const float* y, int64_t N, int64_t C, int64_t HW, double* sum, double* sum_sq) {
  parallel_for(C, [&](int64_t c0, int64_t c1, int) {
    for (int64_t c = c0; c < c1; ++c) {
      double s = 0, ss = 0;
      for (int64_t n = 0; n < N; ++n) {
        const float* p = y + (n * C + c) * HW;
        double a[kStatLanes] = {}, b[kStatLanes] = {};
        int64_t i = 0;
        for (; i + kStatLanes <= HW; i += kStatLanes)
          for (int l = 0; l < kStatLanes; ++l) {
            const double v = p[i + l];
            a[l] += v;
            b[l] += v * v;
          }
        for (int l = 0; i + l < HW; ++l) {
          const double v = p[i + l];
          a[l] += v;
          b[l] += v * v;
        }
        for (int l = 0; l < kStatLanes; ++l) s += a[l], ss += b[l];
      }
      sum[c] = s;
      sum_sq[c] = ss;
    }
  });
}

void reduce_slot_sums(const double* partials, int slots, int64_t M, double* sum, double* sum_sq) {
  for (int64_t m = 0; m < M; ++m) sum[m] = sum_sq[m] = 0;
  for (int t = 0; t < slots; ++t)
    for (int64_t m = 0; m < M; ++m) {
      sum[m] += partials[(int64_t(t) * M + m) * 2];
      sum_sq[m] += partials[(int64_t(t) * M + m) * 2 + 1];
    }
}

}  // namespace cnn

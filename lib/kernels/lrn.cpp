#include "kernels/lrn.h"

#include <algorithm>
#include <cmath>
#include <immintrin.h>  // SSE: part of the x86-64 baseline

namespace cnn {
namespace {

// acc[0, L) = sum over channels [lo, hi] of x_j^2 at pixels [p0, p0 + L).
inline void sum_squares(const float* x, int64_t HW, int64_t p0, int64_t L, int64_t lo, int64_t hi, float* acc) {
  for (int64_t i = 0; i < L; ++i) acc[i] = 0.f;
  for (int64_t j = lo; j <= hi; ++j) {
    const float* __restrict xj = x + j * HW + p0;
    for (int64_t i = 0; i < L; ++i) acc[i] += xj[i] * xj[i];
  }
}

}  // namespace

void lrn_forward(const float* x, int64_t C, int64_t HW, int64_t p0, int64_t p1, const LrnParams& p, float* y,
                 float* pw) {
  const int64_t L = p1 - p0, before = p.size / 2, after = (p.size - 1) / 2;
  const float a = p.alpha / float(p.size), k = p.k, nb = -p.beta;
  const bool b075 = p.beta == 0.75f;
  float acc[kLrnBlock];
  for (int64_t c = 0; c < C; ++c) {
    sum_squares(x, HW, p0, L, std::max<int64_t>(0, c - before), std::min(C - 1, c + after), acc);
    const float* __restrict xc = x + c * HW + p0;
    float* __restrict yc = y + c * HW + p0;
    float* __restrict pc = pw + c * HW + p0;
    if (b075) {  // AlexNet's beta: s^-0.75 = 1 / (sqrt(s) * sqrt(sqrt(s)))
      int64_t i = 0;
      // std::sqrt does not vectorize (errno); s >= k > 0, so the instruction gives the same result.
      const __m128 vk = _mm_set1_ps(k), va = _mm_set1_ps(a), one = _mm_set1_ps(1.f);
      for (; i + 4 <= L; i += 4) {
        const __m128 sv = _mm_add_ps(vk, _mm_mul_ps(va, _mm_loadu_ps(acc + i)));
        const __m128 r = _mm_sqrt_ps(sv);
        _mm_storeu_ps(pc + i, _mm_div_ps(one, _mm_mul_ps(r, _mm_sqrt_ps(r))));
      }
      for (; i < L; ++i) {
        const float s = k + a * acc[i], r = std::sqrt(s);
        pc[i] = 1.f / (r * std::sqrt(r));
      }
    } else {
      for (int64_t i = 0; i < L; ++i) pc[i] = std::pow(k + a * acc[i], nb);
    }
    for (int64_t i = 0; i < L; ++i) yc[i] = xc[i] * pc[i];
  }
}

void lrn_backward(const float* x, const float* y, const float* pw, const float* dy, int64_t C, int64_t HW, int64_t p0,
                  int64_t p1, const LrnParams& p, float* dx, float* tmp) {
  const int64_t L = p1 - p0, before = p.size / 2, after = (p.size - 1) / 2;
  const float a = p.alpha / float(p.size), k = p.k, coef = 2.f * p.alpha * p.beta / float(p.size);
  float acc[kLrnBlock];
  // tmp_c = dy_c * y_c / s_c (s recomputed: cheaper to store pw only).
  for (int64_t c = 0; c < C; ++c) {
    sum_squares(x, HW, p0, L, std::max<int64_t>(0, c - before), std::min(C - 1, c + after), acc);
    const float* __restrict yc = y + c * HW + p0;
    const float* __restrict dc = dy + c * HW + p0;
    float* __restrict tc = tmp + c * L;
    for (int64_t i = 0; i < L; ++i) tc[i] = dc[i] * yc[i] / (k + a * acc[i]);
  }
  // Input channel j feeds outputs c in [j - after, j + before].
  for (int64_t j = 0; j < C; ++j) {
    const int64_t lo = std::max<int64_t>(0, j - after), hi = std::min(C - 1, j + before);
    for (int64_t i = 0; i < L; ++i) acc[i] = 0.f;
    for (int64_t c = lo; c <= hi; ++c) {
      const float* __restrict tc = tmp + c * L;
      for (int64_t i = 0; i < L; ++i) acc[i] += tc[i];
    }
    const float* __restrict xj = x + j * HW + p0;
    const float* __restrict dj = dy + j * HW + p0;
    const float* __restrict pj = pw + j * HW + p0;
    float* __restrict oj = dx + j * HW + p0;
    for (int64_t i = 0; i < L; ++i) oj[i] = dj[i] * pj[i] - coef * xj[i] * acc[i];
  }
}

}  // namespace cnn

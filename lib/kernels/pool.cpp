#include "kernels/pool.h"

#include "core/isa.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace cnn {

int pool_output_size(int in, int k, int s, int p, bool ceil_mode) {
  int span = in + 2 * p - k;
  if ((ceil_mode ? span + s - 1 : span) < 0) return 0;  // floor division, as PyTorch: no output
  int out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

void PoolGeom::finish() {
  OH = pool_output_size(H, KH, SH, PH, ceil_mode);
  OW = pool_output_size(W, KW, SW, PW, ceil_mode);
}

// The common 2x2 stride-2 unpadded window, written so the compiler vectorizes it: the first
// maximum of each row pair, then the second row wins only when strictly greater, which is
// PyTorch's row-major first-maximum order. Windows holding a NaN are redone by the general loop.
static bool maxpool2x2_forward(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  bool any_nan = false;
  const bool avx2 = isa_enabled(Isa::avx2);
  for (int oh = 0; oh < g.OH; ++oh) {
    const float* __restrict r0 = x + int64_t(2 * oh) * g.W;
    const float* __restrict r1 = r0 + g.W;
    float* __restrict yo = y + int64_t(oh) * g.OW;
    int32_t* __restrict ao = argmax + int64_t(oh) * g.OW;
    const int32_t base = 2 * oh * g.W;
    int nan_count = 0;
    int ow = 0;
    if (avx2) ow = maxpool2x2_row_avx2(r0, r1, g.W, g.OW, base, yo, ao, nan_count);
    for (; ow < g.OW; ++ow) {
      const float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
      nan_count += (a != a) + (b != b) + (c != c) + (d != d);
      const bool right0 = b > a, right1 = d > c;
      const float top = right0 ? b : a, bottom = right1 ? d : c;
      const int32_t itop = base + 2 * ow + (right0 ? 1 : 0), ibottom = base + g.W + 2 * ow + (right1 ? 1 : 0);
      const bool down = bottom > top;
      yo[ow] = down ? bottom : top;
      ao[ow] = down ? ibottom : itop;
    }
    any_nan |= nan_count != 0;
  }
  return !any_nan;
}

void maxpool2d_forward(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  if (g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && 2 * g.OH <= g.H &&
      2 * g.OW <= g.W) {
    if (maxpool2x2_forward(x, g, y, argmax)) return;
  }
  for (int oh = 0; oh < g.OH; ++oh) {
    const int h0 = std::max(oh * g.SH - g.PH, 0), h1 = std::min(oh * g.SH - g.PH + g.KH, g.H);
    for (int ow = 0; ow < g.OW; ++ow) {
      const int w0 = std::max(ow * g.SW - g.PW, 0), w1 = std::min(ow * g.SW - g.PW + g.KW, g.W);
      float best = -std::numeric_limits<float>::infinity();
      int32_t at = h0 * g.W + w0;
      for (int h = h0; h < h1; ++h) {
        const float* row = x + int64_t(h) * g.W;
        for (int w = w0; w < w1; ++w) {
          const float v = row[w];
          if (v > best || std::isnan(v)) {
            best = v;
            at = h * g.W + w;
            if (std::isnan(v)) goto done;
          }
        }
      }
    done:
      y[oh * g.OW + ow] = best;
      argmax[oh * g.OW + ow] = at;
    }
  }
}

void maxpool2d_backward(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx) {
  std::memset(dx, 0, sizeof(float) * g.H * g.W);
  const int n = g.OH * g.OW;
  for (int i = 0; i < n; ++i) dx[argmax[i]] += dy[i];
}

void maxunpool2d_forward(const float* x, const int32_t* argmax, const PoolGeom& g, float* y) {
  std::memset(y, 0, sizeof(float) * g.H * g.W);
  const int n = g.OH * g.OW;
  for (int i = 0; i < n; ++i) y[argmax[i]] = x[i];
}

void maxunpool2d_backward(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx) {
  const int n = g.OH * g.OW;
  for (int i = 0; i < n; ++i) dx[i] = dy[argmax[i]];
}

// The window of output (oh, ow) clipped to the input, and PyTorch's divisor.
static inline void avg_window(const PoolGeom& g, int oh, int ow, int& h0, int& h1, int& w0, int& w1,
                              float& inv) {
  h0 = oh * g.SH - g.PH;
  w0 = ow * g.SW - g.PW;
  h1 = std::min(h0 + g.KH, g.H + g.PH);
  w1 = std::min(w0 + g.KW, g.W + g.PW);
  const int pool_size = (h1 - h0) * (w1 - w0);
  h0 = std::max(h0, 0);
  w0 = std::max(w0, 0);
  h1 = std::min(h1, g.H);
  w1 = std::min(w1, g.W);
  const int div = g.count_include_pad ? pool_size : (h1 - h0) * (w1 - w0);
  inv = div > 0 ? 1.0f / static_cast<float>(div) : 0.f;
}

void avgpool2d_forward(const float* x, const PoolGeom& g, float* y) {
  for (int oh = 0; oh < g.OH; ++oh) {
    for (int ow = 0; ow < g.OW; ++ow) {
      int h0, h1, w0, w1;
      float inv;
      avg_window(g, oh, ow, h0, h1, w0, w1, inv);
      float s = 0.f;
      for (int h = h0; h < h1; ++h)
        for (int w = w0; w < w1; ++w) s += x[h * g.W + w];
      y[oh * g.OW + ow] = s * inv;
    }
  }
}

void avgpool2d_backward(const float* dy, const PoolGeom& g, float* dx) {
  std::memset(dx, 0, sizeof(float) * g.H * g.W);
  for (int oh = 0; oh < g.OH; ++oh) {
    for (int ow = 0; ow < g.OW; ++ow) {
      int h0, h1, w0, w1;
      float inv;
      avg_window(g, oh, ow, h0, h1, w0, w1, inv);
      const float d = dy[oh * g.OW + ow] * inv;
      for (int h = h0; h < h1; ++h)
        for (int w = w0; w < w1; ++w) dx[h * g.W + w] += d;
    }
  }
}

}  // namespace cnn

#include "kernels/pool.h"

#include "core/isa.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace cnn {

// The per-ISA vector kernels (pool_impl.h via pool_{avx512,avx2,generic}.cpp).
#define CNN_POOL_DECLARE(ns)                                                          \
  namespace ns {                                                                      \
  bool maxpool2d_forward(const float* x, const PoolGeom& g, float* y, int32_t* argmax); \
  bool maxpool2d_backward(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g, float* dx); \
  void avgpool2d_forward(const float* x, const PoolGeom& g, float* y);                \
  void avgpool2d_backward(const float* dy, const PoolGeom& g, float* dx);             \
  }
CNN_POOL_DECLARE(avx512)
CNN_POOL_DECLARE(avx2)
CNN_POOL_DECLARE(generic)
#undef CNN_POOL_DECLARE

#define CNN_POOL_DISPATCH(call)             \
  switch (active_isa()) {                   \
    case Isa::avx512: return avx512::call;  \
    case Isa::avx2: return avx2::call;      \
    case Isa::generic: break;               \
  }                                         \
  return generic::call

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

static bool maxpool2d_vector(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  CNN_POOL_DISPATCH(maxpool2d_forward(x, g, y, argmax));
}

void maxpool2d_forward(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
  if (!maxpool2d_vector(x, g, y, argmax)) maxpool2d_forward_naive(x, g, y, argmax);
}

void maxpool2d_forward_naive(const float* x, const PoolGeom& g, float* y, int32_t* argmax) {
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
      if (argmax) argmax[oh * g.OW + ow] = at;
    }
  }
}

static bool maxpool2d_backward_vector(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g,
                                      float* dx) {
  CNN_POOL_DISPATCH(maxpool2d_backward(dy, y, argmax, g, dx));
}

void maxpool2d_backward(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx) {
  if (!maxpool2d_backward_vector(dy, nullptr, argmax, g, dx)) maxpool2d_backward_naive(dy, argmax, g, dx);
}

void maxpool2d_backward_relu(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g, float* dx) {
  if (!maxpool2d_backward_vector(dy, y, argmax, g, dx)) maxpool2d_backward_relu_naive(dy, y, argmax, g, dx);
}

void maxpool2d_backward_naive(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx) {
  std::memset(dx, 0, sizeof(float) * g.H * g.W);
  const int n = g.OH * g.OW;
  for (int i = 0; i < n; ++i) dx[argmax[i]] += dy[i];
}

void maxpool2d_backward_relu_naive(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g,
                                   float* dx) {
  std::memset(dx, 0, sizeof(float) * g.H * g.W);
  const int n = g.OH * g.OW;
  // Without a branch (y > 0 is a coin toss): an output whose maximum was <= 0 adds +0 to its
  // argmax's cell, whose input was <= 0 too, so that cell only ever gets +0s: it stays +0.
  for (int i = 0; i < n; ++i) {
    const float d = dy[i];
    dx[argmax[i]] += y[i] > 0.f ? d : 0.f;
  }
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

void avgpool2d_forward(const float* x, const PoolGeom& g, float* y) { CNN_POOL_DISPATCH(avgpool2d_forward(x, g, y)); }

void avgpool2d_backward(const float* dy, const PoolGeom& g, float* dx) {
  CNN_POOL_DISPATCH(avgpool2d_backward(dy, g, dx));
}

void avgpool2d_forward_naive(const float* x, const PoolGeom& g, float* y) {
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

void avgpool2d_backward_naive(const float* dy, const PoolGeom& g, float* dx) {
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

#undef CNN_POOL_DISPATCH

}  // namespace cnn

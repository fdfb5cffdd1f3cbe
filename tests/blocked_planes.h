#pragma once
// What the blocked-layout kernel tests share: a convolution's definition from plain NCHW
// tensors, and reading outputs stored either NCHW or into another convolution's padded plane.
#include <cstdint>
#include <vector>

#include "kernels/blocked_conv.h"

namespace cnn::test {

// Every entry of the blocked-kernel table for `isa` (at least the two- and one-block tiles), so a
// kernel added to the table is tested by every blocked test.
inline std::vector<const BlockedConvKernel*> blocked_kernels_of(Isa isa) {
  std::vector<const BlockedConvKernel*> out;
  for (const BlockedConvKernel& k : blocked_conv_kernels())
    if (k.isa == isa) out.push_back(&k);
  return out;
}

// The convolution's output (n, m, oh, ow) of x (N x g.C x H x W) and w (M x g.C x KH x KW), in double.
inline double conv_definition(const ConvGeom& g, const std::vector<float>& x, const std::vector<float>& w, int n,
                              int m, int oh, int ow) {
  double s = 0;
  for (int c = 0; c < g.C; ++c)
    for (int kh = 0; kh < g.KH; ++kh)
      for (int kw = 0; kw < g.KW; ++kw) {
        const int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
        if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
        s += double(x[((size_t(n) * g.C + c) * g.H + ih) * g.W + iw]) * w[((size_t(m) * g.C + c) * g.KH + kh) * g.KW + kw];
      }
  return s;
}

// Outputs of N images of `channels` channels and `pixels` pixels stored NCHW, or into `into`'s
// padded plane (pix: its interior pixels) when into is set.
struct StoredOutputs {
  const std::vector<float>& y;
  const BlockedConvPlan* into;
  const std::vector<int64_t>& pix;
  int channels;
  int64_t pixels;
  float at(int n, int c, int64_t i) const {
    if (!into) return y[size_t((int64_t(n) * channels + c) * pixels + i)];
    const int L = into->L;
    return y[size_t(n * into->x_image + (c / L) * into->x_block + pix[size_t(i)] + c % L)];
  }
};

// The floats of N padded planes of `into` (pad 1 around OH x OW interiors) outside the interior
// that are not zero.
inline int64_t nonzero_border(const BlockedConvPlan& into, const std::vector<float>& y, int N, int OH, int OW) {
  int64_t nonzero = 0;
  for (int n = 0; n < N; ++n)
    for (int64_t f = 0; f < into.x_image; ++f) {
      const int64_t at = f % into.x_block / into.L, row = at / into.WP, col = at % into.WP;
      if (row < 1 || row > OH || col < 1 || col > OW) nonzero += y[size_t(n * into.x_image + f)] != 0.f;
    }
  return nonzero;
}

}  // namespace cnn::test

#include "kernels/im2col.h"

#include <algorithm>
#include <cstring>

namespace cnn {

void ConvGeom::finish() {
  if (PH_end < 0) PH_end = PH;
  if (PW_end < 0) PW_end = PW;
  OH = (H + PH + PH_end - DH * (KH - 1) - 1) / SH + 1;
  OW = (W + PW + PW_end - DW * (KW - 1) - 1) / SW + 1;
  // Floor division (as PyTorch): a kernel larger than the padded input gives no output, not 1.
  if (H + PH + PH_end - DH * (KH - 1) - 1 < 0) OH = 0;
  if (W + PW + PW_end - DW * (KW - 1) - 1 < 0) OW = 0;
}

bool ConvGeom::is_pointwise() const {
  return KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0 && PH_end == 0 && PW_end == 0;
}

// For one kernel offset, the range of output columns whose input column is inside the image.
static inline void valid_range(int out, int in, int stride, int offset, int& lo, int& hi) {
  // input = o*stride + offset must be in [0, in)
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = in - offset <= 0 ? 0 : (in - offset - 1) / stride + 1;
  if (hi > out) hi = out;
  if (lo > hi) lo = hi;
}

// Stride 1 with the output as wide as the input ("same" padding, as every 3x3/pad-1 conv): the
// valid rows of one (c, ki, kj) plane are a single shifted copy of the image's rows, so one
// memcpy per plane replaces one per row (ResNet's 8- to 32-float rows made the call overhead a
// large part of im2col); only the left/right border columns then need zeros.
static void im2col_same_width(const float* x, const ConvGeom& g, float* col, int64_t ld) {
  const int OH = g.OH, OW = g.OW, W = g.W;
  for (int c = 0; c < g.C; ++c) {
    const float* xc = x + int64_t(c) * g.H * W;
    for (int ki = 0; ki < g.KH; ++ki) {
      const int ih0 = ki * g.DH - g.PH;  // input row of output row 0
      const int oh_lo = std::min(OH, ih0 >= 0 ? 0 : -ih0);
      const int oh_hi = std::max(oh_lo, std::min(OH, g.H - ih0));
      for (int kj = 0; kj < g.KW; ++kj) {
        float* out = col + ((int64_t(c) * g.KH + ki) * g.KW + kj) * ld;
        const int off_w = kj * g.DW - g.PW;
        int ow_lo, ow_hi;
        valid_range(OW, W, 1, off_w, ow_lo, ow_hi);
        if (oh_lo > 0) std::memset(out, 0, sizeof(float) * size_t(oh_lo) * OW);
        if (oh_hi < OH) std::memset(out + int64_t(oh_hi) * OW, 0, sizeof(float) * size_t(OH - oh_hi) * OW);
        if (oh_hi == oh_lo) continue;
        // out[oh * OW + ow] = xc[(oh + ih0) * W + ow + off_w] over the block, flattened; the ends
        // that would read outside the plane are border columns, zeroed below with the others.
        float* dst = out + int64_t(oh_lo) * OW;
        const float* src = xc + int64_t(oh_lo + ih0) * W + off_w;
        const int64_t count = int64_t(oh_hi - oh_lo) * OW;
        const int64_t b = off_w < 0 ? -off_w : 0, e = count - (off_w > 0 ? off_w : 0);
        if (e > b) std::memcpy(dst + b, src + b, sizeof(float) * size_t(e - b));
        if (ow_lo > 0 || ow_hi < OW)
          for (int oh = oh_lo; oh < oh_hi; ++oh) {
            float* row = out + int64_t(oh) * OW;
            for (int ow = 0; ow < ow_lo; ++ow) row[ow] = 0.f;
            for (int ow = ow_hi; ow < OW; ++ow) row[ow] = 0.f;
          }
      }
    }
  }
}

void im2col(const float* x, const ConvGeom& g, float* col, int64_t ld) {
  const int OH = g.OH, OW = g.OW;
  if (ld <= 0) ld = int64_t(OH) * OW;
  if (g.SH == 1 && g.SW == 1 && OW == g.W) return im2col_same_width(x, g, col, ld);
  for (int c = 0; c < g.C; ++c) {
    const float* xc = x + int64_t(c) * g.H * g.W;
    for (int ki = 0; ki < g.KH; ++ki) {
      for (int kj = 0; kj < g.KW; ++kj) {
        float* out = col + ((int64_t(c) * g.KH + ki) * g.KW + kj) * ld;
        const int off_w = kj * g.DW - g.PW;
        int ow_lo, ow_hi;
        valid_range(OW, g.W, g.SW, off_w, ow_lo, ow_hi);
        for (int oh = 0; oh < OH; ++oh) {
          const int ih = oh * g.SH - g.PH + ki * g.DH;
          float* row = out + int64_t(oh) * OW;
          if (ih < 0 || ih >= g.H) {
            std::memset(row, 0, sizeof(float) * OW);
            continue;
          }
          const float* xrow = xc + int64_t(ih) * g.W;
          for (int ow = 0; ow < ow_lo; ++ow) row[ow] = 0.f;
          if (g.SW == 1) {
            const float* src = xrow + off_w;
            for (int ow = ow_lo; ow < ow_hi; ++ow) row[ow] = src[ow];  // short rows: no memcpy call
          } else {
            for (int ow = ow_lo; ow < ow_hi; ++ow) row[ow] = xrow[ow * g.SW + off_w];
          }
          for (int ow = ow_hi; ow < OW; ++ow) row[ow] = 0.f;
        }
      }
    }
  }
}

void col2im(const float* col, const ConvGeom& g, float* dx, int64_t ld) {
  const int OH = g.OH, OW = g.OW;
  if (ld <= 0) ld = int64_t(OH) * OW;
  for (int c = 0; c < g.C; ++c) {
    float* xc = dx + int64_t(c) * g.H * g.W;
    for (int ki = 0; ki < g.KH; ++ki) {
      for (int kj = 0; kj < g.KW; ++kj) {
        const float* in = col + ((int64_t(c) * g.KH + ki) * g.KW + kj) * ld;
        const int off_w = kj * g.DW - g.PW;
        int ow_lo, ow_hi;
        valid_range(OW, g.W, g.SW, off_w, ow_lo, ow_hi);
        for (int oh = 0; oh < OH; ++oh) {
          const int ih = oh * g.SH - g.PH + ki * g.DH;
          if (ih < 0 || ih >= g.H) continue;
          const float* row = in + int64_t(oh) * OW;
          float* xrow = xc + int64_t(ih) * g.W;
          if (g.SW == 1) {
            float* dst = xrow + off_w;
            for (int ow = ow_lo; ow < ow_hi; ++ow) dst[ow] += row[ow];
          } else {
            for (int ow = ow_lo; ow < ow_hi; ++ow) xrow[ow * g.SW + off_w] += row[ow];
          }
        }
      }
    }
  }
}

}  // namespace cnn

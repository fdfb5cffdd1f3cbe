#include "kernels/im2col.h"

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

void im2col(const float* x, const ConvGeom& g, float* col, int64_t ld) {
  const int OH = g.OH, OW = g.OW;
  if (ld <= 0) ld = int64_t(OH) * OW;
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
            std::memcpy(row + ow_lo, xrow + ow_lo + off_w, sizeof(float) * (ow_hi - ow_lo));
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

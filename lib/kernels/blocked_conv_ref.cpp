// The naive twin of the blocked-convolution kernels: the definition in blocked_conv.h, loop for
// loop, with 8 lanes and two blocks per group (the AVX2 kernel's layout).
#include "kernels/blocked_conv.h"
#include "kernels/blocked_depthwise.h"

#include <cmath>

namespace cnn {
namespace {

constexpr int kLanes = 8, kBlocks = 2, kGroup = kLanes * kBlocks;

// XL: the input's lanes per block (kLanes, or 1 for forward_planes).
template <int XL>
void forward(const BlockedConvArgs& a, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i)
    for (int m = 0; m < kGroup; ++m) {
      float s = 0;
      for (int cb = 0; cb < a.CB; ++cb)
        for (int t = 0; t < a.T; ++t)
          for (int l = 0; l < XL; ++l)
            s += a.w[((int64_t(cb) * a.T + t) * XL + l) * kGroup + m] *
                 a.x[cb * a.x_block + a.x_pix[i] + a.tap[t] + l];
      if (!a.y_pix) {
        a.y[(m / kLanes) * a.y_block + i * kLanes + m % kLanes] = s;
        continue;
      }
      if (m / kLanes >= a.y_blocks) continue;
      if (a.bias) s += a.bias[m];
      if (a.res && (a.res_lane == 1 || m < a.res_channels))
        s += a.res[(m / kLanes) * a.res_block + (a.res_pix ? a.res_pix[i] : i) + (m % kLanes) * a.res_lane];
      if (a.clamp) s = s > a.lo ? (s < a.hi ? s : a.hi) : a.lo;
      a.y[(m / kLanes) * a.y_block + a.y_pix[i] + m % kLanes] = s;
    }
}

void pack_pixels(const float* const* rows, int count, int64_t W, float* dst, const int64_t* pix) {
  for (int64_t w = 0; w < W; ++w)
    for (int l = 0; l < kLanes; ++l) dst[(pix ? pix[w] : w * kLanes) + l] = l < count ? rows[l][w] : 0.f;
}

void pack_mapped(const float* const* rows, const float* const* xrows, int count, int64_t W, float* dst,
                 const int64_t* pix, const BnPackMap& map, int c0) {
  for (int64_t w = 0; w < W; ++w)
    for (int l = 0; l < kLanes; ++l)
      dst[(pix ? pix[w] : w * kLanes) + l] =
          l < count ? bn_map_value(map, c0 + l, rows[l][w], map.input_grad ? xrows[l][w] : 0.f) : 0.f;
}

void grad_sums(const float* x, const float* dy, int64_t n, float mean, const BnChannel* relu, float& sum_dy,
               float& sum_dy_xc);

void unpack_finish(const float* src, int64_t W, int count, const BlockedEpilogue& e, float* const* rows) {
  BlockedEpilogue post = e;
  if (e.residual_px) post.bias = nullptr, post.residual_px = nullptr;
  for (int64_t w = 0; w < W; ++w)
    for (int l = 0; l < count; ++l)
      store_blocked_value(finish_blocked_value(blocked_pixel_value(src, w, l, kLanes, e), l, w, post), post, rows[l] + w);
  if (!e.grad) return;
  const BlockedGradSums& g = *e.grad;
  for (int l = 0; l < count; ++l)
    grad_sums(g.x[l], rows[l], W, g.channels[l].mean, g.relu ? &g.channels[l] : nullptr, g.out[2 * l], g.out[2 * l + 1]);
}

void wgrad(const BlockedWgradArgs& a, int64_t i0, int64_t i1, float* dwt) {
  for (int t = 0; t < a.T; ++t)
    for (int m = 0; m < a.M; ++m)
      for (int c = 0; c < a.CB * kLanes; ++c) {
        float s = 0;
        for (int64_t n = 0; n < a.images; ++n)
          for (int64_t i = i0; i < i1; ++i)
            s += a.dy[n * a.dy_image + (m / kLanes) * a.dy_block + a.dy_pix[i] + m % kLanes] *
                 a.x[n * a.x_image + (c / kLanes) * a.x_block + a.x_pix[i] + a.tap[t] + c % kLanes];
        dwt[(int64_t(t) * a.M + m) * a.CB * kLanes + c] += s;
      }
}

void gather_lanes(const float* base, const int64_t* pix, int64_t step, int64_t count, int64_t, const LaneRuns& r,
                  float* dst) {
  for (int64_t i = 0; i < count; ++i)
    for (int l = 0; l < kLanes; ++l) {
      float v = 0.f;
      for (int k = 0; k < r.n; ++k)
        if (l >= r.lane[k] && l < r.lane[k] + r.count[k]) v = base[pix[i * step] + r.from[k] + l];
      dst[i * kLanes + l] = v;
    }
}

void depthwise(const BlockedDepthwiseArgs& a, int64_t i0, int64_t i1) { blocked_depthwise_reference(a, kLanes, i0, i1); }
void maxpool(const BlockedDepthwiseArgs& a, int64_t i0, int64_t i1) { blocked_maxpool_reference(a, kLanes, i0, i1); }

void grad_sums(const float* x, const float* dy, int64_t n, float mean, const BnChannel* relu, float& sum_dy,
               float& sum_dy_xc) {
  if (relu) plane_grad_sums_relu(x, dy, n, mean, relu->scale, relu->shift, sum_dy, sum_dy_xc);
  else plane_grad_sums(x, dy, n, mean, sum_dy, sum_dy_xc);
}

// B^T d B and A^T m A lane by lane: d's rows, then its columns.
void winograd_input(const float* x, int64_t row, int64_t count, float* v, int64_t step) {
  for (int64_t j = 0; j < count; ++j)
    for (int l = 0; l < kLanes; ++l) {
      float d[4][4], e[4][4];
      for (int a = 0; a < 4; ++a)
        for (int b = 0; b < 4; ++b) d[a][b] = x[a * row + (2 * j + b) * kLanes + l];
      for (int b = 0; b < 4; ++b) {
        e[0][b] = d[0][b] - d[2][b], e[1][b] = d[1][b] + d[2][b];
        e[2][b] = d[2][b] - d[1][b], e[3][b] = d[1][b] - d[3][b];
      }
      for (int a = 0; a < 4; ++a) {
        const float* r = e[a];
        const float out[4] = {r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3]};
        for (int b = 0; b < 4; ++b) v[(4 * a + b) * step + j * kLanes + l] = out[b];
      }
    }
}

void winograd_output(const float* m, int64_t step, int64_t count, float* y, int64_t row) {
  for (int64_t j = 0; j < count; ++j)
    for (int l = 0; l < kLanes; ++l) {
      float e[2][4];
      for (int b = 0; b < 4; ++b) {
        const float* at = m + j * kLanes + l;
        const float m0 = at[b * step], m1 = at[(4 + b) * step], m2 = at[(8 + b) * step], m3 = at[(12 + b) * step];
        e[0][b] = m0 + m1 + m2, e[1][b] = m1 - m2 - m3;
      }
      for (int a = 0; a < 2; ++a) {
        y[a * row + 2 * j * kLanes + l] = e[a][0] + e[a][1] + e[a][2];
        y[a * row + (2 * j + 1) * kLanes + l] = e[a][1] - e[a][2] - e[a][3];
      }
    }
}

void winograd_grad(const float* dy, int64_t row, int64_t count, float* v, int64_t step) {
  for (int64_t j = 0; j < count; ++j)
    for (int l = 0; l < kLanes; ++l) {
      float e[4][2];
      for (int b = 0; b < 2; ++b) {
        const float g0 = dy[(2 * j + b) * kLanes + l], g1 = dy[row + (2 * j + b) * kLanes + l];
        e[0][b] = g0, e[1][b] = g0 + g1, e[2][b] = g0 - g1, e[3][b] = 0.f - g1;
      }
      for (int a = 0; a < 4; ++a) {
        const float out[4] = {e[a][0], e[a][0] + e[a][1], e[a][0] - e[a][1], 0.f - e[a][1]};
        for (int b = 0; b < 4; ++b) v[(4 * a + b) * step + j * kLanes + l] = out[b];
      }
    }
}

}  // namespace

void blocked_depthwise_reference(const BlockedDepthwiseArgs& a, int lanes, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i)
    for (int l = 0; l < lanes; ++l) {
      float s = a.bias ? a.bias[l] : 0.f;
      for (int t = 0; t < a.T; ++t) s += a.w[t * lanes + l] * a.x[a.x_pix[i] + a.tap[t] + l];
      if (a.clamp) s = s > a.lo ? (s < a.hi ? s : a.hi) : a.lo;
      a.y[(a.y_pix ? a.y_pix[i] : i * lanes) + l] = s;
    }
}

void blocked_maxpool_reference(const BlockedDepthwiseArgs& a, int lanes, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i)
    for (int l = 0; l < lanes; ++l) {
      float m = a.x[a.x_pix[i] + a.tap[0] + l];
      for (int t = 1; t < a.T; ++t) {
        const float v = a.x[a.x_pix[i] + a.tap[t] + l];
        if (v > m || std::isnan(v)) m = v;
      }
      a.y[(a.y_pix ? a.y_pix[i] : i * lanes) + l] = m;
    }
}

const BlockedConvKernel kBlockedConvReference{"reference", Isa::generic, kLanes, kBlocks, 1, forward<kLanes>, forward<1>,
                                              pack_pixels, pack_mapped, unpack_finish, wgrad, depthwise, maxpool,
                                              gather_lanes, grad_sums, winograd_input, winograd_output,
                                              winograd_grad};

}  // namespace cnn

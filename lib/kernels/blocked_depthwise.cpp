#include "kernels/blocked_depthwise.h"

#include <algorithm>
#include <limits>

#include "core/parallel.h"

namespace cnn {

int64_t blocked_depthwise_weight_floats(const BlockedConvPlan& p) { return int64_t(p.CB) * int64_t(p.tap.size()) * p.L; }

void pack_blocked_depthwise_weights(const BlockedConvPlan& p, const float* w, float* dst) {
  const int64_t T = static_cast<int64_t>(p.tap.size());
  std::fill_n(dst, blocked_depthwise_weight_floats(p), 0.f);
  for (int c = 0; c < p.C; ++c)
    for (int64_t t = 0; t < T; ++t) dst[((c / p.L) * T + t) * p.L + c % p.L] = w[c * T + t];
}

namespace {
// Input rows ahead of the windows fetched into the caches. Measured (session 18, Zen 5, MobileNet
// v1 inference at batch 32, `cnn bench --layers`, 3 alternating runs): the depthwise layers took
// 26-28 ms without, 23-25 ms 3 rows ahead, 22.7-25 ms 6 rows ahead (the planes come from memory).
constexpr int64_t kPrefetchRows = 6;
}  // namespace

int64_t blocked_depthwise_scratch_floats(const BlockedConvPlan& p) { return p.x_block + p.pixels * p.L; }

namespace {
// kernel (a member of p.kernel) on every (image, channel block) of N images, in parallel. One item
// each: its input plane and output stay in L2 between the pack, the kernel and the unpack.
void run_planes(const BlockedConvPlan& p, int64_t N, const float* wpacked, const BlockedDepthwiseIo& io,
                void (*kernel)(const BlockedDepthwiseArgs&, int64_t, int64_t)) {
  const BlockedConvKernel& k = *p.kernel;
  const BlockedConvPlan* into = io.target ? io.target->plane : nullptr;
  const int L = p.L, T = static_cast<int>(p.tap.size());
  const int64_t scratch = blocked_depthwise_scratch_floats(p), P = p.pixels;
  parallel_for_balanced(N * p.CB, [&](int64_t b, int64_t e, int tid) {
    float* own = io.scratch + tid * scratch;
    for (int64_t it = b; it < e; ++it) {
      const int64_t n = it / p.CB, cb = it % p.CB;
      BlockedDepthwiseArgs a;
      a.T = T, a.tap = p.tap.data(), a.x_pix = p.x_pix.data();
      a.w = wpacked ? wpacked + cb * T * L : nullptr;
      a.bias = io.bias ? io.bias + cb * L : nullptr;
      a.clamp = io.clamp, a.lo = io.lo, a.hi = io.hi;
      a.prefetch = kPrefetchRows * p.WP * L, a.prefetch_taps = p.g.SH > 1 || p.g.SW > 1;
      if (io.x_blocked) {
        a.x = io.x + n * p.x_image + cb * p.x_block;
      } else {
        pack_blocked_block(p, io.x, n, cb, own);
        a.x = own;
      }
      if (into) {
        a.y = io.y + n * into->x_image + cb * into->x_block;
        a.y_pix = io.target->pix;
        fill_blocked_border(*into, a.y);
      } else {
        a.y = own + p.x_block;
      }
      kernel(a, 0, P);
      if (into) continue;
      const int lanes = std::min(L, p.C - int(cb) * L);
      float* rows[kMaxBlockedLanes];
      for (int l = 0; l < lanes; ++l) rows[l] = io.y + (n * p.C + cb * L + l) * P;
      k.unpack_finish(a.y, P, lanes, {}, rows);
    }
  });
}
}  // namespace

void blocked_depthwise_run(const BlockedConvPlan& p, int64_t N, const float* wpacked, const BlockedDepthwiseIo& io) {
  run_planes(p, N, wpacked, io, p.kernel->depthwise);
}

BlockedConvPlan plan_blocked_maxpool(const PoolGeom& g, int C, const BlockedConvKernel& k) {
  ConvGeom d;
  d.C = C, d.H = g.H, d.W = g.W, d.KH = g.KH, d.KW = g.KW, d.SH = g.SH, d.SW = g.SW, d.PH = g.PH, d.PW = g.PW;
  // ceil mode: the last windows reach past the end padding
  d.PH_end = std::max(g.PH, (g.OH - 1) * g.SH + g.KH - g.H - g.PH);
  d.PW_end = std::max(g.PW, (g.OW - 1) * g.SW + g.KW - g.W - g.PW);
  d.finish();
  BlockedConvPlan p = plan_blocked_conv(d, C, k);
  p.border = -std::numeric_limits<float>::infinity();
  return p;
}

void blocked_maxpool_run(const BlockedConvPlan& p, int64_t N, const BlockedDepthwiseIo& io) {
  run_planes(p, N, nullptr, io, p.kernel->maxpool);
}

}  // namespace cnn

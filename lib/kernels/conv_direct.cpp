#include "kernels/conv_direct.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"

namespace cnn {
namespace {

// Runs fn(q0, q1) over [0, positions) split into kRowConvQAlign-aligned chunks, one per thread.
template <class Fn>
void over_positions(int64_t positions, Fn&& fn) {
  const int64_t tiles = positions / kRowConvQAlign;
  parallel_for(tiles, [&](int64_t b, int64_t e, int tid) { fn(b * kRowConvQAlign, e * kRowConvQAlign, tid); });
}

// The forward kernel over positions [0, positions), split across threads by position tiles, and
// also by blocks of output channels when there are fewer than two tiles per thread (small maps
// at small batches: a 7x7 map at batch 1 is one tile), so every thread gets work. Each output is
// computed by the same code either way: the same bits.
// With a.sums set, thread t's outputs are summed into a.sums + t * 2 * a.M.
void run_forward(const RowConvKernel& k, const RowConvArgs& a, int64_t positions) {
  const int64_t tiles = positions / kRowConvQAlign, mblocks = (a.M + kRowConvMB - 1) / kRowConvMB;
  const int threads = num_threads();
  if (tiles >= 2 * threads || mblocks < 2) {
    over_positions(positions, [&](int64_t q0, int64_t q1, int tid) {
      RowConvArgs s = a;
      if (a.sums) s.sums = a.sums + int64_t(tid) * 2 * a.M;
      k.forward(s, q0, q1);
    });
    return;
  }
  const int64_t parts = std::min<int64_t>(mblocks, (2 * threads + tiles - 1) / tiles);
  parallel_for(tiles * parts, [&](int64_t b, int64_t e, int tid) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t t = i / parts, part = i % parts;
      const int64_t mb0 = mblocks * part / parts, mb1 = mblocks * (part + 1) / parts;
      const int m0 = static_cast<int>(mb0 * kRowConvMB), m1 = std::min(a.M, static_cast<int>(mb1 * kRowConvMB));
      RowConvArgs s = a;
      s.M = m1 - m0;
      s.w = a.w + mb0 * int64_t(a.C) * a.T * kRowConvMB;
      if (a.outputs) {
        s.out = a.out + m0 * a.outputs->channel_stride;
        if (a.bias) s.bias = a.bias + m0;
        if (a.residual) s.residual = a.residual + m0 * a.outputs->channel_stride;
        if (a.sums) s.sums = a.sums + int64_t(tid) * 2 * a.M + 2 * m0;
      } else {
        s.y = a.y + m0 * a.y_stride;
      }
      k.forward(s, t * kRowConvQAlign, (t + 1) * kRowConvQAlign);
    }
  });
}

bool strided(const RowConvPlan& r) { return r.SH != 1 || r.SW != 1; }

// x -> rows: plain rows (stride 1) or phase planes (strided).
void pack_input(const DirectConvPlan& p, const float* x, float* xrows) {
  if (p.rows.SH == 1 && p.rows.SW == 1) pack_rows(x, p.N, p.C, p.g.H, p.g.W, p.rows.x, xrows);
  else pack_phase_rows(x, p.N, p.C, p.g, p.rows, xrows);
}

// Backward-data of a strided convolution: one row convolution per phase with that phase's taps,
// into the phase planes of dx; phases that no tap reads are left as they are (unpack_phase_rows
// writes zeros for them, pack_phase_rows never fills them).
void backward_data_strided(const DirectConvPlan& p, const float* dyrows, const float* w, float* dxrows, float* wpack) {
  const RowConvPlan& r = p.rows;
  for (size_t ph = 0; ph < r.phase_taps.size(); ++ph) {
    const std::vector<int>& taps = r.phase_taps[ph];
    float* out = dxrows + int64_t(ph) * r.phase_len;
    if (taps.empty()) continue;  // unpack_phase_rows writes its zeros
    int64_t offs[64];  // a phase holds at most ceil(KH/SH) * ceil(KW/SW) taps; plan_direct_conv checks
    for (size_t t = 0; t < taps.size(); ++t) offs[t] = r.bwd_off[size_t(taps[t])];
    pack_row_conv_weights(w, p.C, p.M, r.T, taps, true, wpack);
    RowConvArgs b;
    b.M = p.C, b.C = p.M, b.T = static_cast<int>(taps.size()), b.off = offs;
    b.x = dyrows + r.dy.front, b.x_stride = r.dy.length;
    b.w = wpack, b.y = out, b.y_stride = r.dx.length;
    run_forward(*p.kernel, b, r.dx.positions);
  }
}

}  // namespace

namespace {
// 4 MiB of rows: the packed rows of a group are still in cache when the kernel reads them.
// Measured (1 thread, ResNet-20 shapes, CPU time on a loaded machine): 1 Mi floats gave 0-15%
// more GFLOP/s than 16 Mi floats; 256 Ki floats no better.
constexpr int64_t kDefaultGroupBudget = int64_t(1) << 20;
int64_t group_budget = kDefaultGroupBudget;
}  // namespace

int64_t direct_conv_group(const ConvGeom& g, int M, int64_t N) {
  const int64_t per_image = (int64_t(g.H) + g.KH) * (int64_t(g.W) + g.KW) * (g.C + M);
  return std::clamp<int64_t>(group_budget / std::max<int64_t>(per_image, 1), 1, std::max<int64_t>(N, 1));
}

void set_direct_conv_group_budget(int64_t floats) { group_budget = floats > 0 ? floats : kDefaultGroupBudget; }

size_t DirectConvPlan::forward_floats() const { return size_t(C) * rows.x.length; }

size_t DirectConvPlan::packed_weight_floats() const { return size_t(packed_row_conv_weights(M, C, rows.T)); }

size_t DirectConvPlan::backward_floats(int threads) const {
  const int L = kernel->lanes;
  const int64_t CT = int64_t(C) * rows.T;
  const bool by_rows = wgrad_by_rows(*kernel, M);
  const size_t partials = size_t(std::max(threads, 1)) * (by_rows ? M * CT : blocked_floats(M, CT, L));
  const size_t dyb = by_rows ? 0 : blocked_floats(M, rows.y.positions, L);
  const size_t dx_rows = strided(rows) ? size_t(C) * rows.dx.length : 0;
  return size_t(C) * rows.x.length + size_t(M) * rows.dy.length + dx_rows +
         size_t(packed_row_conv_weights(C, M, rows.T)) + dyb + partials;
}

DirectConvPlan plan_direct_conv(const ConvGeom& g, int M, int64_t N, const RowConvKernel& kernel) {
  DirectConvPlan p;
  p.rows = plan_row_conv(g, N);
  p.M = M;
  p.C = g.C;
  p.N = N;
  p.g = g;
  p.kernel = &kernel;
  for (const auto& taps : p.rows.phase_taps)
    if (taps.size() > 64) p.rows.ok = false;  // backward_data_strided's offset list
  if (!p.rows.ok) return p;
  const RowLayout& y = p.rows.y;
  p.y_map = {N, g.OH, g.OW, y.pitch, y.plane, int64_t(M) * g.OH * g.OW, int64_t(g.OH) * g.OW};
  const RowLayout& dx = p.rows.dx;
  p.dx_map = {N, g.H, g.W, dx.pitch, dx.plane, int64_t(g.C) * g.H * g.W, int64_t(g.H) * g.W};
  return p;
}

void pack_direct_conv_weights(const DirectConvPlan& p, const float* w, float* dst) {
  pack_row_conv_weights(w, p.M, p.C, p.rows.T, false, dst);
}

void direct_conv_forward(const DirectConvPlan& p, const float* x, const float* wpacked, const ConvEpilogue& e,
                         float* y, float* xrows) {
  const RowConvPlan& r = p.rows;
  pack_input(p, x, xrows);
  RowConvArgs a;
  a.M = p.M, a.C = p.C, a.T = r.T, a.off = r.fwd_off.data();
  a.x = xrows + r.x.front, a.x_stride = r.x.length;
  a.w = wpacked, a.outputs = &p.y_map, a.out = y, a.bias = e.bias;
  a.residual = e.residual, a.clamp = e.clamp, a.lo = e.lo, a.hi = e.hi, a.sums = e.thread_sums;
  run_forward(*p.kernel, a, r.y.positions);
}

namespace {

// dw += the weight gradient: each thread sums its positions into its own partial (channel-
// blocked, or plain for wgrad_rows), then the partials are added to dw in thread order (same
// --threads, same bits). dy: plain rows (wgrad_rows) or channel-blocked positions.
void weight_gradient(const DirectConvPlan& p, const float* xrows, const float* dy, float* partials, float* dw) {
  const RowConvPlan& r = p.rows;
  const bool by_rows = wgrad_by_rows(*p.kernel, p.M);
  const int L = by_rows ? 1 : p.kernel->lanes;
  const int64_t CT = int64_t(p.C) * r.T, part = blocked_floats(p.M, CT, L);
  RowConvArgs a;
  a.M = p.M, a.C = p.C, a.T = r.T, a.off = r.fwd_off.data();
  a.x = xrows + r.x.front, a.x_stride = r.x.length;
  if (by_rows) a.dy = dy + r.dy.front, a.y_stride = r.dy.length;
  else a.dyb = dy, a.dyb_positions = r.y.positions;
  over_positions(r.y.positions, [&](int64_t q0, int64_t q1, int tid) {
    float* own = partials + size_t(tid) * part;
    std::memset(own, 0, sizeof(float) * size_t(part));
    (by_rows ? p.kernel->wgrad_rows : p.kernel->wgrad)(a, q0, q1, own);
  });
  const int64_t used = std::min<int64_t>(r.y.positions / kRowConvQAlign, num_threads());
  for (int64_t t = 0; t < used; ++t) add_blocked(partials + t * part, p.M, CT, L, dw);
}

}  // namespace

void direct_conv_backward(const DirectConvPlan& p, const float* x, const float* dy, const float* w, float* dx,
                          float* dw, float* workspace) {
  const RowConvPlan& r = p.rows;
  float* xrows = workspace;
  float* dyrows = xrows + size_t(p.C) * r.x.length;
  float* dxrows = dyrows + size_t(p.M) * r.dy.length;  // strided only
  float* wpack = dxrows + (strided(r) ? size_t(p.C) * r.dx.length : 0);
  float* dyb = wpack + packed_row_conv_weights(p.C, p.M, r.T);  // channel-blocked dy (wgrad)
  const bool by_rows = wgrad_by_rows(*p.kernel, p.M);
  float* partials = dyb + (by_rows ? 0 : blocked_floats(p.M, r.y.positions, p.kernel->lanes));
  if ((dw && by_rows) || dx) pack_rows(dy, p.N, p.M, p.g.OH, p.g.OW, r.dy, dyrows);
  if (dw) {  // null: a frozen layer, input gradient only
    pack_input(p, x, xrows);
    if (!by_rows) pack_blocked_rows(dy, p.N, p.M, p.g.OH, p.g.OW, r.y, p.kernel->lanes, dyb);
    weight_gradient(p, xrows, by_rows ? dyrows : dyb, partials, dw);
  }
  if (!dx) return;
  if (strided(r)) {
    backward_data_strided(p, dyrows, w, dxrows, wpack);
    unpack_phase_rows(dxrows, p.N, p.C, p.g, r, dx);
    return;
  }
  pack_row_conv_weights(w, p.C, p.M, r.T, true, wpack);
  RowConvArgs b;
  b.M = p.C, b.C = p.M, b.T = r.T, b.off = r.bwd_off.data();
  b.x = dyrows + r.dy.front, b.x_stride = r.dy.length;
  b.w = wpack, b.outputs = &p.dx_map, b.out = dx;
  run_forward(*p.kernel, b, r.dx.positions);
}

}  // namespace cnn

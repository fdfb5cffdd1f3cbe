// The row-convolution kernels (every entry of the table that this CPU can run) against the naive
// reference, and the direct convolution built on them against the convolution's definition,
// forward, input gradient and weight gradient, on the shapes the layers meet and odd ones.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "core/rng.h"
#include "kernels/conv_direct.h"
#include "kernels/row_conv.h"
#include "isa_levels.h"
#include "random_values.h"
#include "thread_guard.h"

using namespace cnn;
using cnn::test::random_vec;
using cnn::test::skip_unless_cpu_has;
using cnn::test::ThreadGuard;

namespace {

const RowConvKernel& kernel_named(std::string_view name) {
  for (const RowConvKernel& k : row_conv_kernels())
    if (k.name == name) return k;
  FAIL("no row-conv kernel named " << name);
  return kRowConvReference;
}

// Float rounding of a sum of n terms grows like sqrt(n): tolerances are set for sums of up to
// 900 terms and widened beyond.
float sum_tolerance(float tol, int64_t terms) { return tol * std::max(1.f, std::sqrt(float(terms)) / 30.f); }

void require_close(const std::vector<float>& got, const std::vector<float>& want, float tol, const char* what) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(what << " index " << i);
    REQUIRE(std::fabs(got[i] - want[i]) <= tol * (1 + std::fabs(want[i])));
  }
}

// One kernel against the reference on random rows with real tap offsets.
void check_kernel_against_reference(const RowConvKernel& k) {
  Rng rng(11);
  struct Case { int M, C, T; std::vector<int64_t> off; int64_t Q; ColumnSkips skips = {}; };
  const std::vector<Case> cases = {
      {6, 3, 9, {-10, -9, -8, -1, 0, 1, 8, 9, 10}, 128},
      {7, 5, 9, {-35, -34, -33, -1, 0, 1, 33, 34, 35}, 192},
      {13, 16, 1, {0}, 256},
      {1, 1, 3, {0, 2, 4}, 64},
      {16, 17, 4, {0, 1, 11, 12}, 320},
      {5, 2, 9, {-22, -20, -18, -2, 0, 2, 18, 20, 22}, 128},
      {7, 530, 9, {-10, -9, -8, -1, 0, 1, 8, 9, 10}, 128},  // channels in more than one block
      {40, 3, 9, {-10, -9, -8, -1, 0, 1, 8, 9, 10}, 640},   // three output-channel vectors, several chunks
      {33, 2, 1, {0}, 64},                                  // a last vector with one channel
      {13, 530, 1, {0}, 192},                               // 1x1 panels of two channel blocks
      {14, 9, 1, {37}, 320},                                // 1x1 reading at an offset (a stride-2 phase)
      // The narrow layout's taps (pitch 8, 4, 5, 20, 1): middle column, then left, then right.
      {6, 3, 9, {-8, 0, 8, -9, -1, 7, -7, 1, 9}, 128, {8, 3, 6}},
      {13, 4, 9, {-4, 0, 4, -5, -1, 3, -3, 1, 5}, 192, {4, 3, 6}},
      {5, 7, 9, {-5, 0, 5, -6, -1, 4, -4, 1, 6}, 128, {5, 3, 6}},
      {12, 2, 9, {-20, 0, 20, -21, -1, 19, -19, 1, 21}, 256, {20, 3, 6}},
      {7, 530, 9, {-20, 0, 20, -21, -1, 19, -19, 1, 21}, 128, {20, 3, 6}},  // and more than one channel block
      {3, 2, 3, {0, -1, 1}, 64, {1, 1, 2}},
  };
  for (const Case& c : cases) {
    INFO("M " << c.M << " C " << c.C << " T " << c.T << " Q " << c.Q << " skips width " << c.skips.width);
    int64_t margin = 0;
    for (int64_t o : c.off) margin = std::max<int64_t>(margin, std::abs(o));
    const int64_t xs = c.Q + 2 * margin + 16;
    std::vector<float> x = random_vec(size_t(c.C * xs), rng), w = random_vec(size_t(c.M * c.C * c.T), rng);
    std::vector<float> packed(size_t(packed_row_conv_weights(c.M, c.C, c.T)));
    pack_row_conv_weights(w.data(), c.M, c.C, c.T, false, packed.data());
    RowConvArgs a;
    a.M = c.M, a.C = c.C, a.T = c.T, a.off = c.off.data(), a.x = x.data() + margin, a.x_stride = xs;
    a.w = packed.data(), a.y_stride = c.Q, a.skips = c.skips;
    std::vector<float> y(size_t(c.M * c.Q), 7.f), yr(y.size(), 3.f);
    a.y = y.data();
    k.forward(a, 0, c.Q);
    a.y = yr.data();
    kRowConvReference.forward(a, 0, c.Q);
    require_close(y, yr, sum_tolerance(1e-5f, c.C * c.T), "forward");
    a.skips = {};  // wgrad has none

    // wgrad: the kernel on channel-blocked dy (its lanes), the reference on the plain rows.
    std::vector<float> dy = random_vec(size_t(c.M * c.Q), rng), dw(w.size(), 0.5f), dwr(w.size(), 0.5f);
    std::vector<float> dyb(size_t(blocked_floats(c.M, c.Q, k.lanes)), 0.f);
    for (int m = 0; m < c.M; ++m)
      for (int64_t q = 0; q < c.Q; ++q) dyb[size_t(((m / k.lanes) * c.Q + q) * k.lanes + m % k.lanes)] = dy[size_t(m * c.Q + q)];
    std::vector<float> dwb(size_t(blocked_floats(c.M, c.C * c.T, k.lanes)), 0.f);
    a.dyb = dyb.data(), a.dyb_positions = c.Q;
    k.wgrad(a, 0, c.Q, dwb.data());
    add_blocked(dwb.data(), c.M, c.C * c.T, k.lanes, dw.data());
    a.dyb = dy.data();
    kRowConvReference.wgrad(a, 0, c.Q, dwr.data());
    require_close(dw, dwr, 1e-4f, "wgrad");
    // wgrad_rows: both on the plain rows.
    std::fill(dw.begin(), dw.end(), 0.5f);
    a.dy = dy.data(), a.y_stride = c.Q;
    k.wgrad_rows(a, 0, c.Q, dw.data());
    require_close(dw, dwr, 1e-4f, "wgrad_rows");
    // A sub-range computes only its positions.
    std::fill(y.begin(), y.end(), 7.f);
    a.y = y.data();
    k.forward(a, kRowConvQAlign, c.Q);
    for (int m = 0; m < c.M; ++m) REQUIRE(y[size_t(m * c.Q)] == 7.f);
  }
}

ConvGeom geom(int C, int H, int W, int KH, int KW, int PH, int PW, int DH = 1, int DW = 1, int PH_end = -1,
              int PW_end = -1, int SH = 1, int SW = 1) {
  ConvGeom g;
  g.C = C, g.H = H, g.W = W, g.KH = KH, g.KW = KW, g.PH = PH, g.PW = PW, g.DH = DH, g.DW = DW, g.SH = SH, g.SW = SW;
  g.PH_end = PH_end, g.PW_end = PW_end;
  g.finish();
  return g;
}

struct Naive {
  std::vector<float> y, dx, dw;
};

// The definition, loop for loop: y = conv(x, w) + b; dx, dw for the output gradient dy.
Naive naive_conv(const ConvGeom& g, int M, int64_t N, const std::vector<float>& x, const std::vector<float>& w,
                 const std::vector<float>& b, const std::vector<float>& dy) {
  Naive r;
  r.y.assign(size_t(N * M * g.OH * g.OW), 0.f);
  r.dx.assign(size_t(N * g.C * g.H * g.W), 0.f);
  r.dw.assign(w.size(), 0.f);
  for (int64_t n = 0; n < N; ++n)
    for (int m = 0; m < M; ++m)
      for (int oh = 0; oh < g.OH; ++oh)
        for (int ow = 0; ow < g.OW; ++ow) {
          const size_t yi = size_t(((n * M + m) * g.OH + oh) * g.OW + ow);
          double s = b.empty() ? 0 : b[size_t(m)];
          for (int c = 0; c < g.C; ++c)
            for (int kh = 0; kh < g.KH; ++kh)
              for (int kw = 0; kw < g.KW; ++kw) {
                const int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                const size_t xi = size_t(((n * g.C + c) * g.H + ih) * g.W + iw);
                const size_t wi = size_t(((m * g.C + c) * g.KH + kh) * g.KW + kw);
                s += double(w[wi]) * x[xi];
                r.dx[xi] += w[wi] * dy[yi];
                r.dw[wi] += x[xi] * dy[yi];
              }
          r.y[yi] = float(s);
        }
  return r;
}

// The pipelined training passes over the whole batch (blocked plans): the group path's y and dx
// bit for bit (the same sums per output, whatever the chunks; with Winograd, whose forward the
// group path does not take, y within the forward's tolerance), the BatchNorm sums of y, the
// weight gradient, and dx added to what it holds.
void check_pipelined(const DirectConvPlan& p, int N, const std::vector<float>& x, const std::vector<float>& w,
                     const std::vector<float>& b, const std::vector<float>& dy, const std::vector<float>& y,
                     const std::vector<float>& dx, const std::vector<float>& dw_want, std::vector<float>& ws) {
  if (!p.forward_blocked()) return;
  const int M = p.M, slots = direct_conv_sum_slots();
  std::vector<float> wpacked(p.pipelined_weight_floats()), yp(y.size(), std::nanf(""));
  pack_pipelined_weights(p, w.data(), wpacked.data());
  std::vector<double> partials(size_t(slots) * 2 * size_t(M), 0.0), sum(static_cast<size_t>(M)), sq(static_cast<size_t>(M));
  ConvEpilogue e{b.data()};
  e.slot_sums = partials.data();
  direct_conv_forward_pipelined(p, N, x.data(), wpacked.data(), e, yp.data(), ws.data(), nullptr);
  if (p.wino.on()) require_close(yp, y, sum_tolerance(2e-5f, p.C * 9), "y, Winograd");
  else REQUIRE(yp == y);
  reduce_slot_sums(partials.data(), slots, M, sum.data(), sq.data());
  const int64_t P = int64_t(p.g.OH) * p.g.OW;
  for (int m = 0; m < M; ++m) {
    double s = 0, q = 0;
    for (int n = 0; n < N; ++n)
      for (int64_t i = 0; i < P; ++i) {
        const double v = yp[size_t((int64_t(n) * M + m) * P + i)];
        s += v, q += v * v;
      }
    INFO("sums of channel " << m);
    REQUIRE(std::fabs(sum[size_t(m)] - s) <= 1e-9 * (1 + std::fabs(s)));
    REQUIRE(std::fabs(sq[size_t(m)] - q) <= 1e-9 * (1 + q));
  }
  if (!p.packs_input_and_output_grad()) return;
  std::vector<float> dxp(dx.size(), std::nanf("")), dwp(w.size(), 1.f);
  direct_conv_backward_begin(p, w.data(), true, true, ws.data());
  direct_conv_backward_pipelined(p, N, x.data(), dy.data(), dxp.data(), true, ws.data(), false, nullptr, nullptr);
  direct_conv_backward_finish(p, dwp.data(), ws.data());
  REQUIRE(dxp == dx);
  for (auto& v : dwp) v -= 1.f;
  require_close(dwp, dw_want, 1e-4f, "dw, pipelined");
  Rng rng(11);
  auto added = random_vec(dx.size(), rng);
  std::vector<float> added_want = added;
  for (size_t i = 0; i < added.size(); ++i) added_want[i] += dx[i];
  direct_conv_backward_begin(p, w.data(), true, false, ws.data());
  direct_conv_backward_pipelined(p, N, x.data(), dy.data(), added.data(), false, ws.data(), true, nullptr, nullptr);
  REQUIRE(added == added_want);
}

// narrow: whether plans use the narrow layout where it fits (set_direct_conv_narrow). Returns how
// many passes were planned in the blocked layout.
int check_direct_conv(const RowConvKernel& k, bool narrow, bool blocked) {
  set_direct_conv_narrow(narrow);
  int blocked_plans = 0;
  struct Case { ConvGeom g; int M; int64_t N; };
  const std::vector<Case> cases = {
      {geom(3, 8, 8, 3, 3, 1, 1), 16, 2},          // 3x3 same, first-layer channels
      {geom(16, 7, 9, 3, 3, 1, 1), 17, 3},         // odd sizes, channels not a multiple of 16
      {geom(5, 6, 6, 3, 3, 0, 0), 6, 2},           // no padding
      {geom(4, 1, 1, 3, 3, 1, 1), 5, 3},           // 1x1 maps
      {geom(8, 5, 5, 1, 1, 0, 0), 7, 2},           // pointwise
      {geom(20, 6, 7, 1, 1, 0, 0), 30, 2},         // pointwise in two-block (12-row) tiles and a 6-row tail
      {geom(2, 9, 7, 3, 3, 2, 2, 2, 2), 3, 2},     // dilation 2
      {geom(3, 6, 10, 1, 3, 0, 1), 4, 1},          // 1x3
      {geom(2, 8, 8, 5, 5, 2, 2), 3, 2},           // 5x5 pad 2
      {geom(3, 7, 8, 3, 3, 0, 1, 1, 1, 2, 0), 4, 2}, // asymmetric padding
      {geom(64, 8, 8, 3, 3, 1, 1), 64, 3},         // ResNet stage 3 (Winograd in training)
      {geom(530, 5, 6, 3, 3, 1, 1), 13, 2},        // channels in more than one block
      {geom(16, 32, 32, 3, 3, 1, 1), 16, 2},       // ResNet stage 1
      {geom(16, 32, 32, 3, 3, 1, 1, 1, 1, -1, -1, 2, 2), 32, 2},  // ResNet downsampling 3x3 stride 2
      {geom(5, 9, 7, 3, 3, 1, 1, 1, 1, -1, -1, 2, 2), 6, 3},      // odd sizes, stride 2
      {geom(8, 8, 8, 1, 1, 0, 0, 1, 1, -1, -1, 2, 2), 7, 2},      // 1x1 stride 2 (phases without taps)
      {geom(3, 20, 20, 7, 7, 3, 3, 1, 1, -1, -1, 2, 2), 8, 2},    // ResNet-50 stem
      {geom(4, 9, 8, 3, 3, 0, 0, 1, 1, -1, -1, 2, 2), 5, 2},      // stride 2, no padding
      {geom(3, 8, 9, 3, 3, 1, 1, 1, 1, -1, -1, 2, 1), 4, 2},      // stride (2, 1)
      {geom(3, 11, 11, 3, 3, 2, 2, 2, 2, -1, -1, 2, 2), 4, 2},    // dilation 2, stride 2
      {geom(3, 10, 10, 3, 3, 1, 1, 1, 1, -1, -1, 3, 3), 4, 2},    // stride 3
      {geom(3, 1, 1, 3, 3, 1, 1, 1, 1, -1, -1, 2, 2), 4, 3},      // 1x1 map, stride 2
      {geom(2, 7, 8, 3, 3, 0, 1, 1, 1, 1, 0, 2, 2), 3, 2},        // asymmetric padding, stride 2
      {geom(24, 9, 9, 3, 3, 1, 1), 1, 2},          // one output channel (every kernel's wgrad_rows)
      {geom(8, 6, 6, 3, 3, 1, 1), 40, 2},          // output channels in three vectors
      {geom(32, 4, 4, 3, 3, 1, 1), 24, 3},         // 4x4 maps: several image rows per vector (narrow)
      {geom(6, 2, 3, 3, 3, 1, 1), 5, 4},           // 2x3 maps
      {geom(9, 3, 17, 3, 3, 1, 1), 12, 2},         // rows crossing vector boundaries
      {geom(5, 6, 6, 3, 3, 1, 1, 1, 1, 0, 1), 6, 2},  // no bottom padding: narrow too
      {geom(5, 6, 6, 3, 3, 1, 1, 2, 1, 2, -1), 6, 2}, // dilated rows, undilated columns: narrow too
      // From 8 output and 8 input channels the stride-1 input gradient runs in the blocked layout,
      // whose padding is the kernel's reach minus the forward's on each side:
      {geom(9, 7, 8, 3, 3, 0, 1, 1, 1, 2, 0), 9, 2},   // asymmetric padding
      {geom(9, 9, 7, 3, 3, 2, 2, 2, 2), 10, 2},        // dilation 2
      {geom(10, 6, 5, 5, 5, 1, 1), 12, 2},             // 5x5 padded less than its reach
      // Strided, from 8 output and 8 input channels: one blocked convolution per phase of dx.
      {geom(9, 9, 7, 3, 3, 1, 1, 1, 1, -1, -1, 2, 2), 9, 3},     // odd sizes
      {geom(8, 8, 8, 1, 1, 0, 0, 1, 1, -1, -1, 2, 2), 8, 2},     // 1x1: phases without taps
      {geom(10, 8, 9, 3, 3, 1, 1, 1, 1, -1, -1, 2, 1), 10, 2},   // stride (2, 1)
      {geom(8, 11, 11, 3, 3, 2, 2, 2, 2, -1, -1, 2, 2), 9, 2},   // dilation 2
      {geom(9, 10, 10, 3, 3, 1, 1, 1, 1, -1, -1, 3, 3), 8, 2},   // stride 3
      {geom(12, 7, 8, 3, 3, 0, 1, 1, 1, 1, 0, 2, 2), 9, 2},      // asymmetric padding
      {geom(8, 1, 1, 3, 3, 1, 1, 1, 1, -1, -1, 2, 2), 8, 3},     // 1x1 map
      {geom(17, 9, 8, 3, 3, 0, 0, 1, 1, -1, -1, 2, 2), 17, 2},   // no padding, channels past a block
      {geom(72, 10, 12, 3, 3, 1, 1), 80, 3},       // Winograd over partial blocks, chunks across images
  };
  Rng rng(5);
  for (const Case& c : cases) {
    const ConvGeom& g = c.g;
    INFO("C " << g.C << " H " << g.H << " W " << g.W << " k " << g.KH << "x" << g.KW << " pad " << g.PH << "," << g.PW
              << " M " << c.M << " N " << c.N);
    DirectConvPlan p = plan_direct_conv(g, c.M, c.N, k);
    REQUIRE(direct_conv_fits(p));
    blocked_plans += p.forward_blocked() + p.backward_data_blocked() + p.strided_dx_blocked();
    const bool dx_blocked = blocked && c.M >= 8 && g.C >= 8;  // fewer input channels: the row kernels
    if (g.SH > 1 || g.SW > 1) REQUIRE(p.strided_dx_blocked() == dx_blocked);
    else REQUIRE(p.backward_data_blocked() == dx_blocked);
    REQUIRE(p.rows.narrow == (narrow && narrow_fits(g)));
    const auto x = random_vec(size_t(c.N * g.C * g.H * g.W), rng);
    const auto w = random_vec(size_t(c.M * g.C * g.KH * g.KW), rng);
    const auto b = random_vec(size_t(c.M), rng);
    const auto dy = random_vec(size_t(c.N * c.M * g.OH * g.OW), rng);
    const Naive want = naive_conv(g, c.M, c.N, x, w, b, dy);
    std::vector<float> ws(std::max(p.pipelined_forward_floats(num_threads()), p.backward_floats(num_threads())), std::nanf(""));
    std::vector<float> y(want.y.size(), std::nanf("")), wpacked(p.packed_weight_floats());
    pack_direct_conv_weights(p, w.data(), wpacked.data());
    direct_conv_forward(p, x.data(), wpacked.data(), {b.data()}, y.data(), ws.data());
    require_close(y, want.y, sum_tolerance(2e-5f, g.C * g.KH * g.KW), "y");
    // The fused inference epilogue: + residual, then clamped (a ReLU6 here).
    const auto res = random_vec(want.y.size(), rng);
    std::vector<float> fused(want.y.size(), std::nanf("")), fused_want(want.y.size());
    for (size_t i = 0; i < fused_want.size(); ++i) fused_want[i] = std::clamp(want.y[i] + res[i], 0.f, 0.5f);
    direct_conv_forward(p, x.data(), wpacked.data(), {b.data(), res.data(), true, 0.f, 0.5f}, fused.data(), ws.data());
    require_close(fused, fused_want, sum_tolerance(2e-5f, g.C * g.KH * g.KW), "y + residual, clamped");
    std::vector<float> dx(want.dx.size(), std::nanf("")), dw(w.size(), 1.f);
    direct_conv_backward(p, x.data(), dy.data(), w.data(), dx.data(), dw.data(), ws.data());
    require_close(dx, want.dx, 2e-5f, "dx");
    // add_dx: dx += the input gradient (one another reader of x wrote first).
    auto dx_added = random_vec(want.dx.size(), rng);
    std::vector<float> dx_added_want = dx_added;
    for (size_t i = 0; i < dx_added_want.size(); ++i) dx_added_want[i] += want.dx[i];
    direct_conv_backward_begin(p, w.data(), true, false, ws.data());
    direct_conv_backward_group(p, x.data(), dy.data(), dx_added.data(), false, ws.data(), true);
    require_close(dx_added, dx_added_want, 2e-5f, "dx added");
    for (auto& v : dw) v -= 1.f;  // accumulated onto 1
    require_close(dw, want.dw, 1e-4f, "dw");
    check_pipelined(p, c.N, x, w, b, dy, y, dx, want.dw, ws);
  }
  set_direct_conv_narrow(false);
  return blocked_plans;
}

// Both layouts for stride-1 3x3 convolutions padded by one column (conv_rows.h), with and
// without the blocked forward and input gradient (CNN_CONV_BLOCKED=0 keeps the row layout's).
void check_direct_conv(const RowConvKernel& k) {
  for (bool blocked : {true, false})
    for (bool narrow : {true, false}) {
      INFO("blocked layout " << blocked << ", narrow layout " << narrow);
      set_direct_conv_blocked(blocked);
      const int blocked_plans = check_direct_conv(k, narrow, blocked);
      REQUIRE((blocked_plans > 0) == blocked);
    }
  set_direct_conv_blocked(true);
}

}  // namespace

TEST_CASE("row_conv: the table lists every ISA, the naive reference last") {
  auto all = row_conv_kernels();
  REQUIRE(all.size() == 3);
  REQUIRE(all.back().name == "reference");
  REQUIRE(all.back().isa == Isa::generic);
}

TEST_CASE("row_conv: avx512 kernels match the reference") {
  skip_unless_cpu_has(Isa::avx512);
  check_kernel_against_reference(kernel_named("avx512"));
}

TEST_CASE("row_conv: avx2 kernels match the reference") {
  skip_unless_cpu_has(Isa::avx2);
  check_kernel_against_reference(kernel_named("avx2"));
}

TEST_CASE("direct conv: forward, input and weight gradients equal the definition (avx512)") {
  skip_unless_cpu_has(Isa::avx512);
  for (int threads : {1, 2}) {
    ThreadGuard tg(threads);
    check_direct_conv(kernel_named("avx512"));
  }
}

TEST_CASE("direct conv: forward, input and weight gradients equal the definition (avx2)") {
  skip_unless_cpu_has(Isa::avx2);
  ThreadGuard tg(2);
  check_direct_conv(kernel_named("avx2"));
}

TEST_CASE("direct conv: the reference kernel gives the definition too") {
  ThreadGuard tg(2);
  check_direct_conv(kRowConvReference);
}

TEST_CASE("direct conv: the narrow layout takes stride-1 3x3 convolutions padded by one column") {
  REQUIRE(narrow_fits(geom(4, 8, 8, 3, 3, 1, 1)));
  REQUIRE(narrow_fits(geom(4, 8, 8, 3, 3, 0, 1)));
  REQUIRE(narrow_fits(geom(4, 8, 8, 3, 3, 2, 1, 2, 1)));
  REQUIRE_FALSE(narrow_fits(geom(4, 8, 8, 3, 3, 1, 0)));
  REQUIRE_FALSE(narrow_fits(geom(4, 8, 8, 3, 3, 1, 1, 1, 1, -1, 0)));
  REQUIRE_FALSE(narrow_fits(geom(4, 8, 8, 3, 3, 1, 1, 1, 1, -1, -1, 2, 2)));
  REQUIRE_FALSE(narrow_fits(geom(4, 8, 8, 5, 5, 2, 2)));
  REQUIRE_FALSE(narrow_fits(geom(4, 8, 8, 1, 1, 0, 0)));
  set_direct_conv_narrow(true);
  const DirectConvPlan p = plan_direct_conv(geom(4, 8, 8, 3, 3, 1, 1), 4, 2, kRowConvReference);
  set_direct_conv_narrow(false);
  REQUIRE(p.rows.narrow);
  REQUIRE(p.rows.y.pitch == 8);
  REQUIRE(p.wide.y.pitch == 9);
}

TEST_CASE("direct conv: stride-1 convolutions padded wider than the kernel are left to im2col") {
  REQUIRE_FALSE(direct_conv_fits(plan_direct_conv(geom(4, 8, 8, 3, 3, 3, 3), 4, 2, kRowConvReference)));
  REQUIRE(direct_conv_fits(plan_direct_conv(geom(4, 8, 8, 3, 3, 3, 3, 1, 1, -1, -1, 2, 2), 4, 2, kRowConvReference)));
}

TEST_CASE("direct conv: the planner's preference follows the ISA of the kernels and of SGEMM") {
  const ConvGeom pointwise = geom(256, 14, 14, 1, 1, 0, 0);
  const ConvGeom strided = geom(256, 28, 28, 3, 3, 1, 1, 1, 1, -1, -1, 2, 2);
  const ConvGeom small_map = geom(512, 7, 7, 3, 3, 1, 1);
  const ConvGeom plain = geom(64, 56, 56, 3, 3, 1, 1);
  // AVX2 on both sides: the shapes measured faster as GEMM stay there.
  CHECK_FALSE(direct_conv_preferred(pointwise, Isa::avx2, Isa::avx2));
  CHECK_FALSE(direct_conv_preferred(strided, Isa::avx2, Isa::avx2));
  CHECK_FALSE(direct_conv_preferred(small_map, Isa::avx2, Isa::avx2));
  CHECK(direct_conv_preferred(plain, Isa::avx2, Isa::avx512));
  // AVX-512 kernels take every convolution, 1x1 included, even against an AVX-512 SGEMM.
  CHECK(direct_conv_preferred(strided, Isa::avx512, Isa::avx512));
  CHECK(direct_conv_preferred(small_map, Isa::avx512, Isa::avx512));
  CHECK(direct_conv_preferred(pointwise, Isa::avx512, Isa::avx512));
  // An SGEMM narrower than the kernels (OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU) takes nothing.
  CHECK(direct_conv_preferred(pointwise, Isa::avx512, Isa::avx2));
  CHECK(direct_conv_preferred(pointwise, Isa::avx2, Isa::generic));
  CHECK(direct_conv_preferred(small_map, Isa::avx2, Isa::generic));
}

#include "kernels/conv_direct.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
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
    if (a.sums) {  // each thread's sums over its own fixed positions (same --threads, same bits)
      over_positions(positions, [&](int64_t q0, int64_t q1, int tid) {
        RowConvArgs s = a;
        s.sums = a.sums + int64_t(tid) * 2 * a.M;
        k.forward(s, q0, q1);
      });
      return;
    }
    // Without sums, in pieces taken by whichever thread is free (every output the same bits).
    // Measured (session 29, Intel Xeon, LeNet-5 b64 training): the caller waited 8% of its time
    // in the forward's static halves, 4% of the step.
    parallel_for_balanced(positions / kRowConvQAlign, [&](int64_t b, int64_t e, int) {
      k.forward(a, b * kRowConvQAlign, e * kRowConvQAlign);
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

// x -> rows of layout r (p.rows or p.wide): plain rows (stride 1) or phase planes (strided).
void pack_input(const DirectConvPlan& p, const RowConvPlan& r, const float* x, float* xrows) {
  if (strided(r)) pack_phase_rows(x, p.N, p.C, p.g, r, xrows);
  else pack_rows(x, p.N, p.C, p.g.H, p.g.W, r.x, xrows);
}

// Backward-data of a strided convolution: one row convolution per phase with that phase's taps
// (weights packed per phase by pack_backward_weights), into the phase planes of dx; phases that no
// tap reads are left as they are (unpack_phase_rows writes zeros for them, pack_phase_rows never
// fills them).
void backward_data_strided(const DirectConvPlan& p, const float* dyrows, const float* wpack, float* dxrows) {
  const RowConvPlan& r = p.rows;
  for (size_t ph = 0; ph < r.phase_taps.size(); ++ph) {
    const std::vector<int>& taps = r.phase_taps[ph];
    if (taps.empty()) continue;
    int64_t offs[64];  // a phase holds at most ceil(KH/SH) * ceil(KW/SW) taps; plan_direct_conv checks
    for (size_t t = 0; t < taps.size(); ++t) offs[t] = r.bwd_off[size_t(taps[t])];
    RowConvArgs b;
    b.M = p.C, b.C = p.M, b.T = static_cast<int>(taps.size()), b.off = offs;
    b.x = dyrows + r.dy.front, b.x_stride = r.dy.length;
    b.w = wpack, b.y = dxrows + int64_t(ph) * r.phase_len, b.y_stride = r.dx.length;
    run_forward(*p.kernel, b, r.dx.positions);
    wpack += packed_row_conv_weights(p.C, p.M, b.T);
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

int direct_conv_sum_slots() {
  // Slots per thread: each a run of work taken whole by whichever thread is free. The pipelined
  // forward's units are these runs of images: with 4 per thread a thread waited up to a quarter
  // of its share at the end of each layer (session 24, ResNet-20 b128 training, 5 alternating
  // runs, best of each: 962 -> 1032 images/s with 16).
  constexpr int kSlotsPerThread = 16;
  return kSlotsPerThread * num_threads();
}

int64_t direct_conv_group(const ConvGeom& g, int M, int64_t N) {
  const int64_t per_image = (int64_t(g.H) + g.KH) * (int64_t(g.W) + g.KW) * (g.C + M);
  return std::clamp<int64_t>(group_budget / std::max<int64_t>(per_image, 1), 1, std::max<int64_t>(N, 1));
}

void set_direct_conv_group_budget(int64_t floats) { group_budget = floats > 0 ? floats : kDefaultGroupBudget; }

// im2col + GEMM (images side by side: conv_common.cpp) ran faster than the direct kernels for
// - strided convolutions from 64 input channels on (K = C * KH * KW >= 576 is deep enough for
//   SGEMM's kernels): 1x1 ones always, larger kernels with outputs of fewer than 256 pixels (the
//   blocked weight gradient walks short output rows). Until session 13 the input gradient read
//   phase planes in the row layout, and every strided convolution from 32 channels ran SGEMM.
//   Session 14, blocked forward, weight gradient and per-phase input gradient against GEMM
//   (Zen 3, 2 threads, `cnn bench --train --layers`, forward / backward ms): ResNet-20 32 -> 64
//   at 32x32 (b128) 2.5-2.8 / 8.1-9.1 against 4.0-5.3 / 7.4-10.3; ResNet-18-CIFAR 64 -> 128 at
//   32x32 30-32 / 86-88 against 45-50 / 79-94, 128 -> 256 at 16x16 33-35 / 81-87 against 38 /
//   70-82, 256 -> 512 at 8x8 34 / 101-102 against 39-41 / 69-78; ResNet-50 (b32) 128 at 56x56 49
//   / 114 against 60 / 129, 256 at 28x28 49 / 115 against 54 / 108, 512 at 14x14 60 / 140
//   against 50 / 101; its 1x1 stride-2 downsampling 72-94 / 141-189 against 44-55 / 86-110;
// - maps of at most 49 pixels (7x7) from 128 channels on: the blocked weight gradient walks output
//   rows, and rows of 4-7 pixels cost it 30-45% (one thread, the kernel alone: 55-69 GFLOP/s
//   against 93 on 32-pixel rows). Session 14 (Zen 3, 2 threads, `cnn bench --train --layers`, 2
//   alternating runs, forward / backward ms): ResNet-18-CIFAR 256->256 @8x8 blocked 55-61 /
//   124-144, GEMM 69-84 / 136-172; 512->512 @4x4 blocked 61-68 / 169-196, GEMM 65-83 / 132-164;
//   ResNet-50 512->512 @7x7 (b32) blocked 52 / 117, GEMM 50-53 / 102-107. Until session 13 the
//   limit was 64 pixels (the row layout's padding columns are a third of a 4x4 map's positions).
//   With 64 channels (ResNet-20's 8x8 stage) SGEMM's M = 64 is too small: direct 9.8-10.6 /
//   20.3-20.9, GEMM 11.5-14.1 / 24.9-33.5;
// - 1x1 convolutions from 32 input channels on (SGEMM straight on the NCHW planes, no im2col).
//   Session 10 took only maps of at most 196 pixels (14x14) from 128 channels: ResNet-50's 14x14
//   1x1 layers trained as fast forward and 30-45% faster backward (1024->256: direct 62 /
//   136-152, GEMM 50-59 / 96-104); MobileNet v1 inference at batch 1 47-52 -> 57-62 images/s.
//   Session 12 (Zen 3, 2 threads, 3 alternating runs, `cnn bench --layers`): the 28x28 and 56x56
//   ones too. ResNet-50 training at batch 32, its 1x1 layers of stages 1-2 (64-512 channels)
//   508-544 -> 419-454 ms forward and 952-1028 -> 717-773 backward (every shape faster, 64->64 at
//   56x56 19.5-22 -> 14.1-14.9 backward), the step 6198-6550 -> 5807-6402 ms; inference even
//   (ResNet-50 batch 32 17.2-18.0 / 17.3-17.9 images/s, batch 1 14.4-16.9 / 15.9-16.9; MobileNet
//   v1 batch 32 102-109 / 101-108, batch 1 83-104 / 104-112). Under 32 channels: not measured.
// Measured with `cnn bench --train --layers --threads 1` on Zen 3 (AVX2), session 10, 2-3
// alternating runs, forward / backward ms:
//   ResNet-18-CIFAR 3x3/2 64->128 @32: direct 155-167 / 247-317, GEMM 98-111 / 205-265;
//                   3x3/2 256->512 @8: direct 136-199 / 364-410, GEMM 98-113 / 181-250;
//                   3x3 512->512 @4: direct 166-173 / 332-350, GEMM 124-131 / 251-268;
//                   3x3 256->256 @8: direct 130-138 / 276-283, GEMM 125-131 / 260-271;
//                   3x3 128->128 @16: even (direct 118-124 / 253-258, GEMM 120-141 / 252-293);
//   ResNet-50 1x1/2 downsample 1024->2048 @14: direct 155-177 / 331-382, GEMM 117-146 / 214-217;
//   ResNet-20 3x3/2 16->32 @32 (C = 16): even (direct 14-16 / 26, GEMM 12-18 / 25-37);
//   ResNet-50 stem 7x7/2 3->64 (C = 3): direct faster (130-170 / 145-152 against 210-219 / 177-185).
// ResNet-50 and MobileNet v1 inference at batch 1 and 32 (their 7x7 layers) ran as fast either way
// (the first two rules).
// All of the above is AVX2 against an AVX2 SGEMM. Session 16 (AMD EPYC Zen 5, AVX-512, 2 threads,
// `cnn bench --layers`, 2-3 runs, forward / backward ms):
// - AVX-512 kernels, every 3x3: the direct path (1x1 too since session 25, below). Against
//   SkylakeX's SGEMM, inference (ResNet-50 b32) 3x3/2 256 @28 18 against 28, 512 @7x7 19-22
//   against 21-22; training: ResNet-50 (b32) 3x3/2 256 @28 21 / 45 against 29 / 64, 512 @7x7
//   21-25 / 48-56 against 24 / 47-49; ResNet-18-CIFAR (b128) 512 @4x4 28-34 / 89-103 against 43 /
//   82-87, 3x3/2 256 @8 17 / 43 against 22 / 37: even in training, the step 1414 against 1418 ms;
//   1x1 stayed on SGEMM (ResNet-50 b32 inference, 1024->256 @14 9.3 against 11.5 direct, 64->256
//   @56 12.4 against 20.6).
// - Session 25 (a 2-core Intel Xeon, AVX-512, SkylakeX's SGEMM; `scripts/bench/speed.sh --no-torch
//   --coretype env,Haswell`, 3 alternating rounds): 1x1 convolutions in the blocked kernels too,
//   now that the blocked layout passes between layers (inference) and the 6 x 4 tile exists
//   (session 23): ResNet-50 inference b32 22.9 -> 35.0 images/s, b1 19.0 -> 22.6; MobileNet v1
//   b32 125 -> 202, b1 58 -> 126 (its depthwise layers follow their blocked neighbours); ResNet-50
//   training b32 6.0 -> 7.0. So AVX-512 kernels take every convolution, whatever SGEMM's width.
// - An SGEMM narrower than the direct kernels (OPENBLAS_CORETYPE=Haswell on that AVX-512 CPU):
//   the direct path everywhere. ResNet-50 training b32 step 4793 -> 2807-3833 ms (its 1x1 layers
//   from 28x28 on 13-16 / 22-30 against 18-21 / 30-33; at 56x56 about even), inference b32
//   26.6-27.4 -> 30.5-38.6 images/s; MobileNet v1 inference b32 123-124 -> 164-173, b1 121 -> 145-155.
bool direct_conv_preferred(const ConvGeom& g, Isa kernel_isa, Isa gemm_isa) {
  constexpr int kStridedGemmMinChannels = 64, kPointwiseGemmMinChannels = 32, kSmallMapGemmMinChannels = 128;
  constexpr int kSmallMapMaxPixels = 49;
  constexpr int kStridedDirectMinPixels = 256;
  const bool pointwise = g.KH == 1 && g.KW == 1;
  // SGEMM narrower than the direct kernels, or AVX-512 kernels (rules above the function).
  if (static_cast<int>(gemm_isa) < static_cast<int>(kernel_isa)) return true;
  if (kernel_isa == Isa::avx512) return true;
  if (g.SH != 1 || g.SW != 1)
    return g.C < kStridedGemmMinChannels || (!pointwise && int64_t(g.OH) * g.OW >= kStridedDirectMinPixels);
  if (pointwise) return g.C < kPointwiseGemmMinChannels;
  return g.C < kSmallMapGemmMinChannels || int64_t(g.H) * g.W > kSmallMapMaxPixels;
}

namespace {
// The narrow layout is off unless CNN_CONV_NARROW=1: measured on AVX2 (Zen 3, session 9, one
// thread, harness, best of 9), the lane masks cost about what the dropped column saves: forward
// +6-12% at 7x7 and 8x8 maps, -1 to -5% at 14x14 to 32x32, backward-data -9 to +9%; ResNet-18-CIFAR
// training neutral (16.8 vs 17.2 images/s, 1 thread). AVX-512's masked loads take no ALU slot: not
// measured yet.
int narrow_setting = -1;  // -1: from the environment
bool narrow_layout() {
  if (narrow_setting < 0) {
    const char* v = std::getenv("CNN_CONV_NARROW");
    narrow_setting = v && std::string_view(v) == "1";
  }
  return narrow_setting == 1;
}
}  // namespace

void set_direct_conv_narrow(bool on) { narrow_setting = on; }

namespace {
// Input channels from which forward runs in the blocked layout: fewer (a network's first layer)
// would be mostly the zeros that fill the channel block.
constexpr int kBlockedMinChannels = 8;
int blocked_setting = -1;  // -1: from the environment (CNN_CONV_BLOCKED=0 turns it off)
bool blocked_layout() {
  if (blocked_setting < 0) {
    const char* v = std::getenv("CNN_CONV_BLOCKED");
    blocked_setting = !(v && std::string_view(v) == "0");
  }
  return blocked_setting == 1;
}
}  // namespace

void set_direct_conv_blocked(bool on) { blocked_setting = on; }

namespace {
int winograd_setting = -1;  // -1: from the environment (CNN_CONV_WINOGRAD=0 turns it off)
bool winograd_layout() {
  if (winograd_setting < 0) {
    const char* v = std::getenv("CNN_CONV_WINOGRAD");
    winograd_setting = !(v && std::string_view(v) == "0");
  }
  return winograd_setting != 0;
}
}  // namespace

void set_direct_conv_winograd(bool on) { winograd_setting = on; }

size_t DirectConvPlan::forward_floats(int threads) const {
  if (forward_blocked()) return size_t(std::max<int64_t>(N, threads)) * size_t(blocked.x_image + blocked.y_image);
  return size_t(C) * rows.x.length;
}

size_t DirectConvPlan::pipelined_forward_floats(int threads) const {
  const size_t scratch = wino.on() ? size_t(threads) * size_t(winograd_scratch_floats(wino)) : 0;
  return forward_floats(threads) + scratch;
}

size_t DirectConvPlan::pipelined_weight_floats() const {
  return wino.on() ? size_t(winograd_weight_floats(wino)) : packed_weight_floats();
}

size_t DirectConvPlan::packed_weight_floats() const {
  if (forward_blocked()) return size_t(blocked_weight_floats(blocked));
  return size_t(packed_row_conv_weights(M, C, rows.T));
}

namespace {

// Images a thread packs, convolves and unpacks at a time in the pipelined passes: their blocked
// input and output within 1 MiB (in its L2 with the weights), at most the group's share of a thread.
constexpr int64_t kPipelineFloats = int64_t(1) << 18;
int64_t pipeline_images(const DirectConvPlan& p, int threads, int64_t per_image) {
  return std::clamp<int64_t>(kPipelineFloats / std::max<int64_t>(per_image, 1), 1, std::max<int64_t>(p.N / threads, 1));
}
// The pipelined backward's: a large weight gradient (blocked_wgrad_large), swept whole once per
// group of images, takes at least its items' images. ResNet-18-CIFAR's 512-channel 4x4 layers
// swept 9.4 MB every 5 images otherwise (session 24, Zen 5, 3 alternating runs of `--layers`:
// their backward 81.6-84.1 -> 71.2-76.3 ms with 16).
int64_t pipeline_backward_images(const DirectConvPlan& p, int threads, int64_t per_image) {
  const int64_t k = pipeline_images(p, threads, per_image);
  return blocked_wgrad_large(p.blocked) ? std::max(k, blocked_wgrad_item_images(p.blocked)) : k;
}

// The backward workspace: what lasts over a batch's image groups first (the input-gradient
// weights, per phase when strided, and the weight-gradient partials), then what one
// group uses (rows of x, dy and dx, channel-blocked dy). The plans of one layer's groups differ in
// N only, so the first part sits at the same place for all of them. The weight gradient reads x,
// and dy for wgrad_rows, in the wide layout (dywide: its own dy rows when backward-data's are narrow).
// The row weight gradient's positions in pieces per thread, each summed into a partial of its own
// (added in piece order: same --threads, same bits) by whichever thread is free. Measured (session
// 29, Intel Xeon, LeNet-5 b64 training, the pool's waits instrumented): with one static half per
// thread the caller waited 10-16% of the weight gradient's time (2-3% of the step), with 4 pieces
// per thread 7%, with 8 3-4%.
constexpr int kRowWgradPieces = 8;
struct BackwardSpace {
  float *wpack, *partials, *xrows, *dyrows, *dywide, *dxrows, *dyb;
  float *dy_blocked, *dx_blocked;  // backward_data_blocked: its input and output
  float* dx_line;                  // strided: a row of dx as pixel vectors per thread
  float* wino;                     // Winograd's scratch, wino_floats per thread
  int64_t wino_floats = 0;
  float *xb, *dy_plain;            // weight_gradient_blocked: x packed, dy unpadded (dx not blocked)
  int64_t dx_image = 0;  // floats of one image's dx_blocked
  int64_t part = 0;  // floats of one partial
  int partials_n = 0;  // the row weight gradient's pieces, or the blocked weight gradient's units
  bool by_rows = false;
  size_t total = 0;
  BackwardSpace(const DirectConvPlan& p, int threads, float* ws) {
    const RowConvPlan& r = p.rows;
    const int L = p.kernel->lanes;
    const int64_t CT = int64_t(p.C) * r.T;
    const bool bdw = p.weight_gradient_blocked(), bdx = p.dy_padded() != nullptr;
    by_rows = !bdw && wgrad_by_rows(*p.kernel, p.M);
    part = bdw ? (p.wino.on() ? winograd_wgrad_floats(p.wino) : blocked_wgrad_floats(p.blocked))
               : by_rows ? p.M * CT : blocked_floats(p.M, CT, L);
    partials_n = bdw ? blocked_wgrad_units(p.blocked, std::max(threads, 1)) : kRowWgradPieces * std::max(threads, 1);
    size_t at = 0;
    auto take = [&](float*& dst, size_t floats) {
      dst = ws ? ws + at : nullptr;
      at += floats;
    };
    size_t wfloats = size_t(packed_row_conv_weights(p.C, p.M, r.T)), dx_floats = 0;
    if (p.backward_data_blocked()) {
      wfloats = size_t(p.wino_dx.on() ? winograd_weight_floats(p.wino_dx) : blocked_weight_floats(p.blocked_dx));
      dx_floats = size_t(p.blocked_dx.y_image);
    }
    if (p.strided_dx_blocked()) {  // every phase's outputs at once (backward_data_phases)
      wfloats = 0;
      for (const BlockedPhase& ph : p.blocked_sdx.phases) {
        if (ph.taps.empty()) continue;
        wfloats += size_t(blocked_phase_weight_floats(ph));
        dx_floats += size_t(ph.plan.y_image);
      }
    }
    dx_image = int64_t(dx_floats);
    // The pipelined backward's threads each take their images' part (pipeline_backward_images).
    int64_t NI = p.N;
    if (p.packs_input_and_output_grad()) {
      const int64_t per_image = p.dy_padded()->x_image + p.blocked.x_image + dx_image;
      NI = std::max<int64_t>(p.N, int64_t(std::max(threads, 1)) * pipeline_backward_images(p, std::max(threads, 1), per_image));
    }
    take(wpack, wfloats);
    take(partials, size_t(partials_n) * size_t(part));
    take(xrows, bdw ? 0 : size_t(p.C) * p.wide.x.length);
    take(dyrows, bdw && bdx ? 0 : size_t(p.M) * r.dy.length);
    take(dywide, by_rows && r.narrow ? size_t(p.M) * p.wide.dy.length : 0);
    if (!(by_rows && r.narrow)) dywide = dyrows;
    take(dxrows, strided(r) && !bdx ? size_t(p.C) * r.dx.length : 0);
    take(dyb, bdw || by_rows ? 0 : size_t(blocked_floats(p.M, p.wide.y.positions, L)));
    take(dy_blocked, bdx ? size_t(NI * p.dy_padded()->x_image) : 0);
    take(dx_blocked, size_t(NI) * dx_floats);
    take(dx_line, p.strided_dx_blocked() ? size_t(std::max(threads, 1)) * size_t(p.g.W) * size_t(p.blocked_sdx.pad.L) : 0);
    if (p.wino.on()) wino_floats = winograd_scratch_floats(p.wino);
    if (p.wino_dx.on()) wino_floats = std::max(wino_floats, winograd_scratch_floats(p.wino_dx));
    take(wino, size_t(std::max(threads, 1)) * size_t(wino_floats));
    take(xb, bdw ? size_t(NI * p.blocked.x_image) : 0);
    take(dy_plain, bdw && !bdx ? size_t(p.N * p.dy_plain.x_image) : 0);
    total = at;
  }
};

}  // namespace

size_t DirectConvPlan::backward_floats(int threads) const { return BackwardSpace(*this, threads, nullptr).total; }

DirectConvPlan plan_direct_conv(const ConvGeom& g, int M, int64_t N, const RowConvKernel& kernel) {
  DirectConvPlan p;
  p.rows = plan_row_conv(g, N, narrow_layout());
  p.wide = p.rows.narrow ? plan_row_conv(g, N) : p.rows;
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
  const int taps = g.KH * g.KW;
  if (blocked_layout() && g.C >= kBlockedMinChannels) p.blocked = plan_blocked_conv(g, M, blocked_conv_kernel(kernel.isa, M, taps));
  // The input gradient has g.C channels: fewer than kBlockedMinChannels would leave most of its
  // output block's lanes unused.
  if (blocked_layout() && M >= kBlockedMinChannels && g.C >= kBlockedMinChannels) {
    const BlockedConvKernel& k = blocked_conv_kernel(kernel.isa, g.C, taps);
    if (!strided(p.rows)) p.blocked_dx = plan_blocked_conv(backward_data_geometry(g, M), g.C, k);
    else p.blocked_sdx = plan_blocked_strided_dx(g, M, k);
  }
  if (winograd_layout() && p.forward_blocked() && winograd_suits(g, M)) p.wino = plan_winograd(p.blocked);
  if (winograd_layout() && p.backward_data_blocked() && winograd_suits(p.blocked_dx.g, g.C))
    p.wino_dx = plan_winograd(p.blocked_dx);
  if (p.weight_gradient_blocked()) {
    if (p.dy_padded()) {
      p.dy_pix = blocked_interior_pixels(*p.dy_padded());
    } else {
      ConvGeom d;  // dy itself, no padding
      d.C = M, d.H = g.OH, d.W = g.OW, d.KH = d.KW = 1;
      d.finish();
      p.dy_plain = plan_blocked_conv(d, M, *p.blocked.kernel);
      p.dy_pix = blocked_interior_pixels(p.dy_plain);
    }
  }
  return p;
}

void pack_direct_conv_weights(const DirectConvPlan& p, const float* w, float* dst) {
  if (p.forward_blocked()) return pack_blocked_weights(p.blocked, w, dst);
  pack_row_conv_weights(w, p.M, p.C, p.rows.T, p.rows.fwd_taps, false, dst);
}

void pack_pipelined_weights(const DirectConvPlan& p, const float* w, float* dst) {
  if (p.wino.on()) return pack_winograd_weights(p.wino, w, dst);
  pack_direct_conv_weights(p, w, dst);
}

namespace {

// A training BatchNorm's backward sums of the planes of an input gradient (bn_plane_grad_sums' map,
// x and sums).
struct PlaneGradSums {
  const BnPackMap* map;
  const float* x;
  float* sums;
};

// Output block mb of image n (its pixels at src) -> y (N x b.M x OH x OW) through the epilogue,
// its BatchNorm sums added to slot (when set: 2 * b.M doubles), or a BatchNorm's backward sums of
// its planes taken (grad).
void unpack_block(const BlockedConvPlan& b, const float* src, int64_t n, int64_t mb, const ConvEpilogue& e,
                  bool accumulate, float* y, const BlockedResidual* blocked_residual, double* slot,
                  const PlaneGradSums* grad = nullptr) {
  double lanes_sums[kMaxBlockedLanes * kBlockedSumStride];
  const int L = b.L, M = b.M;
  const int64_t P = b.pixels;
  const int lanes = std::min<int>(L, M - int(mb) * L);
  float* out[kMaxBlockedLanes];
  const float* res[kMaxBlockedLanes];
  for (int l = 0; l < lanes; ++l) {
    const int64_t at = (n * M + mb * L + l) * P;
    out[l] = y + at;
    res[l] = e.residual ? e.residual + at : nullptr;
  }
  BlockedEpilogue be{e.bias ? e.bias + mb * L : nullptr, e.residual ? res : nullptr, e.clamp, e.lo, e.hi};
  be.accumulate = accumulate;
  float bias_block[kMaxBlockedLanes];  // a whole block's bias, with a blocked residual
  if (blocked_residual) {
    const BlockedResidual& r = *blocked_residual;
    be.residual_px = r.data + n * r.image + mb * r.block;
    be.residual_pix = r.pix;
    if (e.bias) {
      std::fill_n(bias_block, L, 0.f);
      std::copy_n(e.bias + mb * L, lanes, bias_block);
      be.bias = bias_block;
    }
  }
  if (slot) be.sums = std::fill_n(lanes_sums, lanes * kBlockedSumStride, 0.0) - lanes * kBlockedSumStride;
  const float* grad_x[kMaxBlockedLanes];
  BlockedGradSums bg;
  if (grad) {
    for (int l = 0; l < lanes; ++l) grad_x[l] = grad->x + (n * M + mb * L + l) * P;
    bg = {grad_x, grad->map->channels + mb * L, grad->map->relu, grad->sums + 2 * (n * M + mb * L)};
    be.grad = &bg;
  }
  // Outputs not read again before they leave the caches: a training forward's, and an input
  // gradient whose BatchNorm sums are taken as it is written (unpack_finish, whole vectors).
  // Measured (session 28, Intel Xeon, ResNet-20 b128 training, `perf` samples against the
  // 16-channel tile's): the forward's unpack 4117 -> 2772, the next packs' reads of y from memory
  // +470: -1.7% of the step.
  be.stream = !accumulate && (slot || (grad && blocked_grad_sums_fused(P)));
  b.kernel->unpack_finish(src, P, lanes, be, out);
  if (!slot) return;
  double* sums = slot + 2 * mb * L;
  for (int l = 0; l < lanes; ++l)
    for (int k = 0; k < kBlockedSumLanes; ++k) {
      sums[2 * l] += lanes_sums[l * kBlockedSumStride + k];
      sums[2 * l + 1] += lanes_sums[l * kBlockedSumStride + kBlockedSumLanes + k];
    }
}

// yb (N blocked outputs of b) -> y (N x b.M x OH x OW) through the epilogue (and its BatchNorm
// sums into e.slot_sums), or added to y (accumulate), in parallel over (image, output block)
// items: each block's pixels transposed by the kernel's unpack_finish (L x L at a time, then 8 x 8,
// the rest one by one), the epilogue applied to the transposed vectors (a blocked residual and the
// bias to the pixels before). With sums, slot s of direct_conv_sum_slots() takes an equal run of
// the items, in order, whichever thread runs it.
void unpack_blocked_output(const BlockedConvPlan& b, int64_t N, const float* yb, const ConvEpilogue& e,
                           bool accumulate, float* y, const BlockedResidual* blocked_residual = nullptr) {
  const int L = b.L, M = b.M, MB = (M + L - 1) / L;
  const int64_t items = N * MB;
  auto unpack = [&](int64_t it, double* slot) {
    const int64_t n = it / MB, mb = it % MB;
    unpack_block(b, yb + n * b.y_image + mb * b.y_block, n, mb, e, accumulate, y, blocked_residual, slot);
  };
  if (!e.slot_sums) {
    parallel_for_balanced(items, [&](int64_t s, int64_t f, int) {
      for (int64_t it = s; it < f; ++it) unpack(it, nullptr);
    });
    return;
  }
  const int slots = direct_conv_sum_slots();
  parallel_for_balanced(slots, [&](int64_t s, int64_t f, int) {
    for (int64_t slot = s; slot < f; ++slot)
      for (int64_t it = items * slot / slots; it < items * (slot + 1) / slots; ++it)
        unpack(it, e.slot_sums + slot * 2 * M);
  });
}

}  // namespace

void direct_conv_forward(const DirectConvPlan& p, const float* x, const float* wpacked, const ConvEpilogue& e,
                         float* y, float* xrows, const DirectForwardIo& io) {
  if (p.forward_blocked()) {
    const float* xb = io.x_blocked ? x : xrows;
    if (!io.x_blocked) pack_blocked_input(p.blocked, x, p.N, xrows, io.x_map);
    float* yb = xrows + p.N * p.blocked.x_image;
    const bool wino = io.winograd && p.wino.on();
    if (wino) winograd_run(p.wino, p.N, xb, wpacked, yb, xrows + p.forward_floats(num_threads()));
    if (io.y_target) {
      BlockedOutputTarget t = *io.y_target;
      const int64_t P = p.blocked.pixels;
      if (io.residual.data) t.residual = io.residual;
      else if (e.residual) t.residual = {e.residual, p.M * P, p.blocked.L * P, P, nullptr, p.M};
      if (wino) return store_blocked_target(p.blocked, p.N, yb, t, y);
      return blocked_conv_run(p.blocked, p.N, xb, wpacked, y, &t);
    }
    if (!wino) blocked_conv_run(p.blocked, p.N, xb, wpacked, yb);
    unpack_blocked_output(p.blocked, p.N, yb, e, false, y, io.residual.data ? &io.residual : nullptr);
    return;
  }
  const RowConvPlan& r = p.rows;
  pack_input(p, r, x, xrows);
  RowConvArgs a;
  a.M = p.M, a.C = p.C, a.T = r.T, a.off = r.fwd_off.data(), a.skips = r.fwd_skips;
  a.x = xrows + r.x.front, a.x_stride = r.x.length;
  a.w = wpacked, a.outputs = &p.y_map, a.out = y, a.bias = e.bias;
  a.residual = e.residual, a.clamp = e.clamp, a.lo = e.lo, a.hi = e.hi, a.sums = e.slot_sums;
  run_forward(*p.kernel, a, r.y.positions);
}

namespace {

// Each thread adds the weight gradient of its positions to its own partial (channel-blocked, or
// plain for wgrad_rows); direct_conv_backward_finish adds the partials to dw. dy: plain rows
// (wgrad_rows) or channel-blocked positions.
void weight_gradient(const DirectConvPlan& p, const BackwardSpace& s) {
  const RowConvPlan& r = p.wide;
  RowConvArgs a;
  a.M = p.M, a.C = p.C, a.T = r.T, a.off = r.fwd_off.data();
  a.x = s.xrows + r.x.front, a.x_stride = r.x.length;
  if (s.by_rows) a.dy = s.dywide + r.dy.front, a.y_stride = r.dy.length;
  else a.dyb = s.dyb, a.dyb_positions = r.y.positions;
  const int64_t tiles = r.y.positions / kRowConvQAlign, pieces = s.partials_n;
  parallel_for_balanced(pieces, [&](int64_t b, int64_t e, int) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t q0 = tiles * k / pieces * kRowConvQAlign, q1 = tiles * (k + 1) / pieces * kRowConvQAlign;
      if (q0 < q1) (s.by_rows ? p.kernel->wgrad_rows : p.kernel->wgrad)(a, q0, q1, s.partials + size_t(k) * s.part);
    }
  });
}

}  // namespace

namespace {

// Row h of output block mb of dx for image n (the phases' outputs of `count` images, phase
// after phase, at out; n_at: n's place among them): the phases' pixel vectors interleaved into
// line (g.W pixels), then transposed into dx (or added to it).
void strided_dx_row(const DirectConvPlan& p, const float* out, int64_t count, int64_t n, int64_t n_at, int64_t mb,
                    int64_t h, float* line, float* dx, bool add_dx) {
  const ConvGeom& g = p.g;
  const BlockedConvKernel& k = *p.blocked_sdx.pad.kernel;
  const int L = k.lanes, lanes = std::min<int>(L, g.C - int(mb) * L);
  const float* part = out;  // phase (a, b)'s outputs: phases in (a, b) order
  for (const BlockedPhase& ph : p.blocked_sdx.phases) {
    const bool computed = !ph.taps.empty();
    if (ph.a == h % g.SH && computed) {
      const float* src = part + n_at * ph.plan.y_image + mb * ph.plan.y_block + (h / g.SH) * ph.cols * L;
      for (int64_t j = 0, x = ph.b; j < ph.cols; ++j, x += g.SW) std::copy_n(src + j * L, L, line + x * L);
    } else if (ph.a == h % g.SH) {
      for (int64_t j = 0, x = ph.b; j < ph.cols; ++j, x += g.SW) std::fill_n(line + x * L, L, 0.f);
    }
    if (computed) part += count * ph.plan.y_image;
  }
  BlockedEpilogue e;
  e.accumulate = add_dx;
  float* rows[kMaxBlockedLanes];
  for (int l = 0; l < lanes; ++l) rows[l] = dx + ((n * g.C + mb * L + l) * g.H + h) * g.W;
  k.unpack_finish(line, g.W, lanes, e, rows);
}

// Strided backward-data in the blocked layout: each phase's convolution of the packed output
// gradient into its own part of dx_blocked, then one pass over dx's rows that interleaves the
// phases' pixels of a row (zeros for phases no tap reaches) and transposes them into dx (or adds
// them to it). Session 23 (Zen 5, ResNet-20 b128 training, `--layers`, 3 alternating runs): a
// pass per phase storing every SW-th value of dx's rows (each line missed the caches once per
// phase) made layer2.0.conv1's backward 5.3 ms against 4.2 for layer2.1.conv1's twice as many
// multiply-adds.
void backward_data_phases(const DirectConvPlan& p, const BackwardSpace& s, float* dx, bool add_dx) {
  const ConvGeom& g = p.g;
  const float* w = s.wpack;
  float* out = s.dx_blocked;
  for (const BlockedPhase& ph : p.blocked_sdx.phases) {
    if (ph.taps.empty()) continue;
    blocked_conv_run(ph.plan, p.N, s.dy_blocked, w, out);
    w += blocked_phase_weight_floats(ph);
    out += p.N * ph.plan.y_image;
  }
  const int L = p.blocked_sdx.pad.L, MB = (g.C + L - 1) / L;
  parallel_for_balanced(p.N * MB * g.H, [&](int64_t f0, int64_t f1, int tid) {
    float* const line = s.dx_line + int64_t(tid) * g.W * L;  // one row of dx as pixel vectors
    for (int64_t it = f0; it < f1; ++it) {
      const int64_t n = it / (MB * g.H);
      strided_dx_row(p, s.dx_blocked, p.N, n, n, it / g.H % MB, it % g.H, line, dx, add_dx);
    }
  });
}

}  // namespace

void direct_conv_backward_begin(const DirectConvPlan& p, const float* w, bool dx, bool dw, float* workspace) {
  const BackwardSpace s(p, num_threads(), workspace);
  if (dw) std::memset(s.partials, 0, sizeof(float) * size_t(s.partials_n) * size_t(s.part));
  if (!dx) return;
  const RowConvPlan& r = p.rows;
  if (p.wino_dx.on()) return pack_winograd_weights(p.wino_dx, w, s.wpack, true);
  if (p.backward_data_blocked()) return pack_blocked_weights(p.blocked_dx, w, s.wpack, true);
  if (p.strided_dx_blocked()) {
    float* at = s.wpack;
    for (const BlockedPhase& ph : p.blocked_sdx.phases) {
      if (ph.taps.empty()) continue;
      pack_blocked_phase_weights(ph, w, r.T, at);
      at += blocked_phase_weight_floats(ph);
    }
    return;
  }
  if (!strided(r)) {
    pack_row_conv_weights(w, p.C, p.M, r.T, r.bwd_taps, true, s.wpack);
    return;
  }
  float* at = s.wpack;
  for (const std::vector<int>& taps : r.phase_taps) {
    if (taps.empty()) continue;
    pack_row_conv_weights(w, p.C, p.M, r.T, taps, true, at);
    at += packed_row_conv_weights(p.C, p.M, static_cast<int>(taps.size()));
  }
}

void direct_conv_backward_group(const DirectConvPlan& p, const float* x, const float* dy, float* dx, bool dw,
                                float* workspace, bool add_dx, const BnPackMap* x_map, const BnPackMap* dy_map) {
  const RowConvPlan& r = p.rows;
  const BackwardSpace s(p, num_threads(), workspace);
  const RowConvPlan& wr = p.wide;
  const bool bdx = p.dy_padded() != nullptr, bdw = p.weight_gradient_blocked();
  const bool dx_rows = dx && !bdx;
  if (dx_rows || (dw && s.by_rows && !r.narrow)) pack_rows(dy, p.N, p.M, p.g.OH, p.g.OW, r.dy, s.dyrows);
  if (bdx && (dx || (dw && bdw))) pack_blocked_input(*p.dy_padded(), dy, p.N, s.dy_blocked, dy_map);
  if (dw && bdw) {  // dw false: a frozen layer, input gradient only
    const BlockedConvPlan& dyp = bdx ? *p.dy_padded() : p.dy_plain;
    if (!bdx) pack_blocked_input(dyp, dy, p.N, s.dy_plain, dy_map);
    pack_blocked_input(p.blocked, x, p.N, s.xb, x_map);
    const BlockedGradient bg{bdx ? s.dy_blocked : s.dy_plain, dyp.x_image, dyp.x_block, p.dy_pix.data()};
    if (p.wino.on()) winograd_wgrad_run(p.wino, p.N, s.xb, bg, s.partials, s.partials_n, s.wino);
    else blocked_wgrad_run(p.blocked, p.N, s.xb, bg, s.partials, s.partials_n);
  } else if (dw) {
    if (s.by_rows && r.narrow) pack_rows(dy, p.N, p.M, p.g.OH, p.g.OW, wr.dy, s.dywide);
    pack_input(p, wr, x, s.xrows);
    if (!s.by_rows) pack_blocked_rows(dy, p.N, p.M, p.g.OH, p.g.OW, wr.y, p.kernel->lanes, s.dyb);
    weight_gradient(p, s);
  }
  if (!dx) return;
  if (p.strided_dx_blocked()) return backward_data_phases(p, s, dx, add_dx);
  if (bdx) {
    if (p.wino_dx.on()) winograd_run(p.wino_dx, p.N, s.dy_blocked, s.wpack, s.dx_blocked, s.wino);
    else blocked_conv_run(p.blocked_dx, p.N, s.dy_blocked, s.wpack, s.dx_blocked);
    unpack_blocked_output(p.blocked_dx, p.N, s.dx_blocked, {}, add_dx, dx);
    return;
  }
  if (strided(r)) {
    backward_data_strided(p, s.dyrows, s.wpack, s.dxrows);
    unpack_phase_rows(s.dxrows, p.N, p.C, p.g, r, dx, add_dx);
    return;
  }
  RowConvArgs b;
  b.M = p.C, b.C = p.M, b.T = r.T, b.off = r.bwd_off.data(), b.skips = r.bwd_skips;
  b.x = s.dyrows + r.dy.front, b.x_stride = r.dy.length;
  b.w = s.wpack, b.outputs = &p.dx_map, b.out = dx, b.accumulate = add_dx;
  run_forward(*p.kernel, b, r.dx.positions);
}

namespace {
// Images [n0, n0 + count) of tensor t packed (through map) as b's padded input planes, one image
// after another at dst.
void pack_images(const BlockedConvPlan& b, const float* t, int64_t n0, int64_t count, float* dst, const BnPackMap* map) {
  for (int64_t i = 0; i < count * b.CB; ++i)
    pack_blocked_block(b, t, n0 + i / b.CB, i % b.CB, dst + i / b.CB * b.x_image + i % b.CB * b.x_block, map);
}
}  // namespace

void direct_conv_forward_pipelined(const DirectConvPlan& p, int64_t N, const float* x, const float* wpacked,
                                   const ConvEpilogue& e, float* y, float* workspace, const BnPackMap* x_map) {
  const BlockedConvPlan& b = p.blocked;
  const int threads = num_threads(), units = direct_conv_sum_slots(), MB = (p.M + b.L - 1) / b.L;
  const int64_t per = b.x_image + b.y_image, k = pipeline_images(p, threads, per);
  parallel_for_balanced(units, [&](int64_t u0, int64_t u1, int tid) {
    float* const xb = workspace + tid * k * per;
    float* const yb = xb + k * b.x_image;
    float* const scratch = p.wino.on() ? workspace + p.forward_floats(threads) + tid * winograd_scratch_floats(p.wino) : nullptr;
    for (int64_t u = u0; u < u1; ++u)
      for (int64_t n0 = N * u / units, end = N * (u + 1) / units; n0 < end; n0 += k) {
        const int64_t count = std::min(k, end - n0);
        pack_images(b, x, n0, count, xb, x_map);
        if (p.wino.on()) winograd_images(p.wino, count, xb, wpacked, yb, scratch);
        else blocked_conv_images(b, count, xb, wpacked, yb);
        for (int64_t i = 0; i < count * MB; ++i)
          unpack_block(b, yb + i / MB * b.y_image + i % MB * b.y_block, n0 + i / MB, i % MB, e, false, y, nullptr,
                       e.slot_sums ? e.slot_sums + u * 2 * p.M : nullptr);
      }
  });
}

void direct_conv_backward_pipelined(const DirectConvPlan& p, int64_t N, const float* x, const float* dy, float* dx,
                                    bool dw, float* workspace, bool add_dx, const BnPackMap* x_map,
                                    const BnPackMap* dy_map, float* plane_sums) {
  const BackwardSpace s(p, num_threads(), workspace);
  const BlockedConvPlan &b = p.blocked, &d = *p.dy_padded();
  const ConvGeom& g = p.g;
  const int threads = num_threads();
  // Units of at least the images the weight gradient sweeps at once (its items): ResNet-20's 8x8
  // layers took 4-5 images per unit with 14 units per thread, 3.5 -> 3.9 ms.
  const int units = static_cast<int>(std::clamp<int64_t>(N / blocked_wgrad_item_images(b), threads,
                                                         dw ? s.partials_n : direct_conv_sum_slots()));
  const int L = d.L, CMB = (g.C + L - 1) / L;
  const int64_t k = pipeline_backward_images(p, threads, d.x_image + b.x_image + s.dx_image);
  const int64_t HW = int64_t(g.H) * g.W;
  // The BatchNorm's sums of the images' planes of dx just written (still in this thread's L2).
  auto sum_planes = [&](int64_t n0, int64_t count) {
    bn_plane_grad_sums(*x_map, x, dx, g.C, HW, n0 * g.C, (n0 + count) * g.C, plane_sums);
  };
  parallel_for_balanced(units, [&](int64_t u0, int64_t u1, int tid) {
    float* const dyb = s.dy_blocked + tid * k * d.x_image;
    float* const xb = s.xb + tid * k * b.x_image;
    float* const dxb = s.dx_blocked + tid * k * s.dx_image;
    float* const scratch = s.wino + tid * s.wino_floats;
    for (int64_t u = u0; u < u1; ++u)
      for (int64_t n0 = N * u / units, end = N * (u + 1) / units; n0 < end; n0 += k) {
        const int64_t count = std::min(k, end - n0);
        pack_images(d, dy, n0, count, dyb, dy_map);
        if (dw) {
          pack_images(b, x, n0, count, xb, x_map);
          const BlockedGradient bg{dyb, d.x_image, d.x_block, p.dy_pix.data()};
          if (p.wino.on()) winograd_wgrad_tiles(p.wino, 0, count * p.wino.tiles, xb, bg, s.partials + u * s.part, scratch);
          else blocked_wgrad_images(b, count, xb, bg, s.partials + u * s.part);
        }
        if (!dx) continue;
        if (!p.strided_dx_blocked()) {
          const BlockedConvPlan& bd = p.blocked_dx;
          if (p.wino_dx.on()) winograd_images(p.wino_dx, count, dyb, s.wpack, dxb, scratch);
          else blocked_conv_images(bd, count, dyb, s.wpack, dxb);
          const PlaneGradSums grad{x_map, x, plane_sums};
          for (int64_t i = 0; i < count * CMB; ++i)
            unpack_block(bd, dxb + i / CMB * bd.y_image + i % CMB * bd.y_block, n0 + i / CMB, i % CMB, {}, add_dx, dx,
                         nullptr, nullptr, plane_sums ? &grad : nullptr);
          continue;
        }
        const float* w = s.wpack;
        float* out = dxb;
        for (const BlockedPhase& ph : p.blocked_sdx.phases) {
          if (ph.taps.empty()) continue;
          blocked_conv_images(ph.plan, count, dyb, w, out);
          w += blocked_phase_weight_floats(ph);
          out += count * ph.plan.y_image;
        }
        float* const line = s.dx_line + int64_t(tid) * g.W * L;
        for (int64_t i = 0; i < count * CMB * g.H; ++i)
          strided_dx_row(p, dxb, count, n0 + i / (CMB * g.H), i / (CMB * g.H), i / g.H % CMB, i % g.H, line, dx, add_dx);
        if (plane_sums) sum_planes(n0, count);
      }
  });
}

void direct_conv_backward_finish(const DirectConvPlan& p, float* dw, float* workspace) {
  const BackwardSpace s(p, num_threads(), workspace);
  if (p.wino.on()) return add_winograd_wgrad(p.wino, s.partials, s.partials_n, dw);
  if (p.weight_gradient_blocked()) return add_blocked_wgrad(p.blocked, s.partials, s.partials_n, dw);
  const int L = s.by_rows ? 1 : p.kernel->lanes;
  const int64_t CT = int64_t(p.C) * p.rows.T;
  for (int k = 0; k < s.partials_n; ++k) add_blocked(s.partials + size_t(k) * s.part, p.M, CT, L, dw);
}

void direct_conv_backward(const DirectConvPlan& p, const float* x, const float* dy, const float* w, float* dx,
                          float* dw, float* workspace) {
  direct_conv_backward_begin(p, w, dx != nullptr, dw != nullptr, workspace);
  direct_conv_backward_group(p, x, dy, dx, dw != nullptr, workspace);
  if (dw) direct_conv_backward_finish(p, dw, workspace);
}

}  // namespace cnn

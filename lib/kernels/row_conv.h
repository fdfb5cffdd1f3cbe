#pragma once
// Row convolution: the inner loop of the direct convolution engine (layers/conv_direct.*).
// Images are laid out as one long row per channel (conv_rows.h): each image's plane has a
// pitch wider than the image, and the zero columns and rows between images and rows are the
// padding, shared by both neighbours. A stride-1 convolution is then T shifted dot products
// along the row: with tap offsets off[t], for every position q in [q0, q1):
//   forward:  y[m][q] = sum over c < C, t < T of w[m][c][t] * x[c][q + off[t]]
//   wgrad:    dw[m][c][t] += sum over q of dy[m][q] * x[c][q + off[t]]
// The backward-data pass of a convolution is `forward` with transposed weights and negated
// offsets. Positions that are padding compute garbage (forward) or must hold zeros (wgrad's dy).
//
// Contract shared by every implementation:
// - q0 and q1 are multiples of kRowConvQAlign, and x[c][q + off[t]] is readable for q < q1;
//   y rows are writable for q < q1.
// - w is packed by pack_row_conv_weights: [ceil(M / kRowConvMB)][C][T][kRowConvMB], zero-filled.
// - Kernels are single-threaded; callers split [0, Q) across threads.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/isa.h"

namespace cnn {

constexpr int kRowConvQAlign = 64;  // positions per tile of the widest kernel (4 AVX-512 vectors)
constexpr int kRowConvMB = 6;       // output channels per packed weight block

// Where forward's outputs go when written straight to an N x M x OH x OW tensor instead of rows:
// for tile k (positions [k * kRowConvQAlign, (k + 1) * kRowConvQAlign)), runs[first[k]] up to
// runs[first[k + 1]] copy tile positions [begin, begin + len) of output channel m to
// out + dst + m * channel_stride. Positions in no run (padding) are dropped. Saves writing the
// output rows and a second pass to unpack them.
struct OutputRuns {
  struct Run {
    int32_t begin, len;
    int64_t dst;
  };
  std::vector<int32_t> first;
  std::vector<Run> runs;
  int64_t channel_stride = 0;
};

// Runs for N images of OH x OW laid out with `pitch` and `plane` (conv_rows.h), M channels,
// over `positions` positions.
OutputRuns make_output_runs(int64_t N, int64_t M, int64_t OH, int64_t OW, int64_t pitch, int64_t plane,
                            int64_t positions);

struct RowConvArgs {
  int M = 0, C = 0, T = 0;      // output channels, input channels, taps
  const int64_t* off = nullptr; // T tap offsets
  const float* x = nullptr;     // input row of channel c at x + c * x_stride
  int64_t x_stride = 0;
  const float* w = nullptr;     // packed weights (forward) or nullptr (wgrad)
  const float* dy = nullptr;    // wgrad: output-gradient row of channel m at dy + m * y_stride
  float* y = nullptr;           // forward: output row of channel m at y + m * y_stride
  int64_t y_stride = 0;
  const OutputRuns* runs = nullptr;  // forward: if set, write to `out` through the runs instead of y
  float* out = nullptr;
  const float* bias = nullptr;       // with runs: added to output channel m (may be null)
};

// Packs w (M x C x T, or its transpose when `transpose`: w is then C x M x T and the packed
// weights are those of the C-output convolution) into the blocked layout. dst holds
// packed_row_conv_weights(M, C, T) floats.
int64_t packed_row_conv_weights(int M, int C, int T);
void pack_row_conv_weights(const float* w, int M, int C, int T, bool transpose, float* dst);
// Only the listed taps of w (in that order): the packed weights have taps.size() taps.
void pack_row_conv_weights(const float* w, int M, int C, int T, std::span<const int> taps, bool transpose, float* dst);

struct RowConvKernel {
  std::string_view name;
  Isa isa;
  void (*forward)(const RowConvArgs& a, int64_t q0, int64_t q1);
  // dw: M x C x T, accumulated (+=).
  void (*wgrad)(const RowConvArgs& a, int64_t q0, int64_t q1, float* dw);
};

// Every implementation, fastest first, the naive reference last.
std::span<const RowConvKernel> row_conv_kernels();
// The first implementation whose ISA is enabled now.
const RowConvKernel& select_row_conv_kernel();

// Per-ISA tables (row_conv_avx512.cpp, row_conv_avx2.cpp, row_conv_ref.cpp).
extern const RowConvKernel kRowConvAvx512;
extern const RowConvKernel kRowConvAvx2;
extern const RowConvKernel kRowConvReference;

}  // namespace cnn

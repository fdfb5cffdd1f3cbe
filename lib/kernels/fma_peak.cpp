#include "kernels/fma_peak.h"

#include <atomic>
#include <chrono>
#include <vector>

#include "core/parallel.h"

namespace cnn {
namespace {

constexpr int kChains = 12;

// Scalar chains for the generic level (what plain x86-64 code can count on).
float fma_loop_generic(long iters) {
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = float(i);
  for (long k = 0; k < iters; ++k)
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

int lanes(Isa isa) { return isa == Isa::avx512 ? 16 : isa == Isa::avx2 ? 8 : 1; }

float run_loop(Isa isa, long iters) {
  switch (isa) {
    case Isa::avx512: return fma_loop_avx512(iters);
    case Isa::avx2: return fma_loop_avx2(iters);
    case Isa::generic: break;
  }
  return fma_loop_generic(iters);
}

// Seconds for `iters` rounds on one thread.
double time_loop(Isa isa, long iters, std::atomic<float>& sink) {
  const auto t0 = std::chrono::steady_clock::now();
  sink = sink + run_loop(isa, iters);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

long calibrate(Isa isa, double seconds, std::atomic<float>& sink) {
  long iters = 1 << 16;
  while (time_loop(isa, iters, sink) < seconds / 8) iters *= 2;
  return iters * 8;
}

double gflops(Isa isa, long iters, double s) { return 2.0 * kChains * lanes(isa) * double(iters) / s / 1e9; }

}  // namespace

double fma_peak_gflops_one_thread(Isa isa, double seconds) {
  std::atomic<float> sink{0};
  const long iters = calibrate(isa, seconds, sink);
  return gflops(isa, iters, time_loop(isa, iters, sink));
}

double fma_peak_gflops(Isa isa, double seconds) {
  std::atomic<float> sink{0};
  const long iters = calibrate(isa, seconds, sink);
  std::vector<double> per(size_t(num_threads()), 0.0);
  parallel_for(num_threads(), [&](int64_t b, int64_t e, int) {
    for (int64_t t = b; t < e; ++t) per[size_t(t)] = gflops(isa, iters, time_loop(isa, iters, sink));
  });
  double total = 0;
  for (double g : per) total += g;
  return total;
}

}  // namespace cnn

#pragma once
// The machine's measured FMA peak: independent fused multiply-add chains on the widest vectors
// of an ISA, so that kernel speed can be stated as a share of what the cores can do
// (`cnn bench --peak`, docs/design.md).
#include "core/isa.h"

namespace cnn {

// GFLOP/s (2 per lane per FMA) of one thread running FMAs of `isa` for about `seconds`.
double fma_peak_gflops_one_thread(Isa isa, double seconds);
// The same on every thread of the engine's pool at once; the sum over threads.
double fma_peak_gflops(Isa isa, double seconds);

// Per-ISA loops (fma_peak_avx512.cpp, fma_peak_avx2.cpp): `iters` rounds of 12 independent FMA
// chains; returns a value that depends on the result so the loop is not optimized away.
float fma_loop_avx512(long iters);
float fma_loop_avx2(long iters);

}  // namespace cnn

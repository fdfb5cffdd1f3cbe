#pragma once
// Per-thread scratch memory (im2col columns, partial weight gradients). Grows to the largest
// request and is reused: after the first step nothing is allocated.
#include <cstddef>

namespace cnn {

// A buffer of at least `floats` floats for pool thread `thread_index`, slot `slot` (0..3):
// different slots may be held at once. Contents are unspecified.
float* scratch(int thread_index, int slot, size_t floats);

}  // namespace cnn

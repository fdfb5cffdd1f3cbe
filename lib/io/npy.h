#pragma once
// NumPy .npy files (format versions 1.0, 2.0 and 3.0) holding float32 arrays in C order: the
// batches `cnn predict` reads and the logits it writes. A file is the magic "\x93NUMPY", the
// version, a little-endian header length, a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 224, 224), } padded with spaces to a
// multiple of 64 bytes and ended by '\n', then the raw data.
//
// Reads refuse, with a RuntimeError naming the file and the problem: other dtypes (with the
// dtype named and how to convert), Fortran-order arrays, object/structured arrays, truncated
// files and trailing bytes. Big-endian float32 ('>f4') is byte-swapped. Writes are atomic.
#include <string>

#include "core/tensor.h"

namespace cnn {

Tensor read_npy(const std::string& path);
void write_npy(const std::string& path, const Tensor& t);

}  // namespace cnn

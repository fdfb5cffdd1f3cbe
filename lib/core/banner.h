#pragma once
#include <string>

namespace cnn {

// One line: version, threads, BLAS library and kernel, build type.
std::string run_banner();
// A warning when the loaded BLAS kernel is slower than this CPU supports, or "".
std::string blas_kernel_warning();

}  // namespace cnn

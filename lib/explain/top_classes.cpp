#include "explain/top_classes.h"

#include <algorithm>
#include <numeric>

#include "kernels/softmax.h"

namespace cnn {

std::vector<TopClasses> top_classes(const Tensor& logits, int64_t k) {
  const int64_t N = logits.dim(0), K = logits.dim(1);
  k = std::min(k, K);
  std::vector<float> probs(size_t(N * K));
  softmax_rows(logits.data(), N, K, probs.data());
  std::vector<TopClasses> out(static_cast<size_t>(N));
  std::vector<int64_t> order(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    const float* p = probs.data() + n * K;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    for (int64_t r = 0; r < k; ++r) {
      out[size_t(n)].index.push_back(order[size_t(r)]);
      out[size_t(n)].prob.push_back(p[order[size_t(r)]]);
    }
  }
  return out;
}

std::string class_name(const std::vector<std::string>& names, int64_t k) {
  return k >= 0 && k < int64_t(names.size()) ? names[size_t(k)] : "class " + std::to_string(k);
}

}  // namespace cnn

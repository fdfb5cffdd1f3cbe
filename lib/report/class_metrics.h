#pragma once
// Per-class precision, recall, F1 and support from a confusion matrix, the most-confused pairs,
// and both as CSV / JSON (cnn eval --out, cnn report).
#include <cstdint>
#include <string>
#include <vector>

namespace cnn {

struct ClassStats {
  int64_t index = 0;
  std::string name;
  int64_t support = 0;    // images of this class
  int64_t predicted = 0;  // images predicted as this class
  int64_t correct = 0;
  double precision = 0, recall = 0, f1 = 0;  // in [0, 1]; 0 when undefined (nothing predicted / no support)
};

struct ConfusedPair {
  int64_t true_class = 0, predicted = 0, count = 0;
};

// confusion: K x K, row = true class, column = prediction. names[k] (or "class k").
std::vector<ClassStats> class_stats(const std::vector<int64_t>& confusion, int64_t K,
                                    const std::vector<std::string>& names);
// The `n` largest off-diagonal counts, largest first (ties: lower true class, then prediction).
std::vector<ConfusedPair> most_confused(const std::vector<int64_t>& confusion, int64_t K, size_t n);

std::string class_stats_csv(const std::vector<ClassStats>& stats);  // header + one row per class
std::string class_stats_json(const std::vector<ClassStats>& stats);
// Header "true\predicted,<names...>", then one row per true class.
std::string confusion_csv(const std::vector<int64_t>& confusion, int64_t K, const std::vector<std::string>& names);
// {"classes": [...], "matrix": [[...], ...]}
std::string confusion_json(const std::vector<int64_t>& confusion, int64_t K, const std::vector<std::string>& names);

}  // namespace cnn

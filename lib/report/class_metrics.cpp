#include "report/class_metrics.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cnn {

namespace {

std::string name_of(const std::vector<std::string>& names, int64_t k) {
  return k < int64_t(names.size()) ? names[size_t(k)] : "class " + std::to_string(k);
}

// RFC 4180: quote fields holding a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::vector<ClassStats> class_stats(const std::vector<int64_t>& confusion, int64_t K,
                                    const std::vector<std::string>& names) {
  std::vector<ClassStats> out(static_cast<size_t>(K));
  for (int64_t t = 0; t < K; ++t)
    for (int64_t p = 0; p < K; ++p) {
      const int64_t c = confusion[size_t(t * K + p)];
      out[size_t(t)].support += c;
      out[size_t(p)].predicted += c;
      if (t == p) out[size_t(t)].correct = c;
    }
  for (int64_t k = 0; k < K; ++k) {
    ClassStats& s = out[size_t(k)];
    s.index = k;
    s.name = name_of(names, k);
    s.precision = s.predicted ? double(s.correct) / double(s.predicted) : 0;
    s.recall = s.support ? double(s.correct) / double(s.support) : 0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  }
  return out;
}

std::vector<ConfusedPair> most_confused(const std::vector<int64_t>& confusion, int64_t K, size_t n) {
  std::vector<ConfusedPair> pairs;
  for (int64_t t = 0; t < K; ++t)
    for (int64_t p = 0; p < K; ++p)
      if (t != p && confusion[size_t(t * K + p)] > 0) pairs.push_back({t, p, confusion[size_t(t * K + p)]});
  std::stable_sort(pairs.begin(), pairs.end(), [](const ConfusedPair& a, const ConfusedPair& b) { return a.count > b.count; });
  if (pairs.size() > n) pairs.resize(n);
  return pairs;
}

std::string class_stats_csv(const std::vector<ClassStats>& stats) {
  std::string out = "class,name,precision,recall,f1,support,predicted,correct\n";
  for (const ClassStats& s : stats)
    out += fmt::format("{},{},{:.6f},{:.6f},{:.6f},{},{},{}\n", s.index, csv_field(s.name), s.precision, s.recall, s.f1,
                       s.support, s.predicted, s.correct);
  return out;
}

std::string class_stats_json(const std::vector<ClassStats>& stats) {
  nlohmann::json rows = nlohmann::json::array();
  for (const ClassStats& s : stats)
    rows.push_back({{"class", s.index}, {"name", s.name}, {"precision", s.precision}, {"recall", s.recall},
                    {"f1", s.f1}, {"support", s.support}, {"predicted", s.predicted}, {"correct", s.correct}});
  return rows.dump(1) + "\n";
}

std::string confusion_csv(const std::vector<int64_t>& confusion, int64_t K, const std::vector<std::string>& names) {
  std::string out = "true\\predicted";
  for (int64_t k = 0; k < K; ++k) (out += ',') += csv_field(name_of(names, k));
  out += "\n";
  for (int64_t t = 0; t < K; ++t) {
    out += csv_field(name_of(names, t));
    for (int64_t p = 0; p < K; ++p) (out += ',') += std::to_string(confusion[size_t(t * K + p)]);
    out += "\n";
  }
  return out;
}

std::string confusion_json(const std::vector<int64_t>& confusion, int64_t K, const std::vector<std::string>& names) {
  nlohmann::json j;
  j["classes"] = nlohmann::json::array();
  for (int64_t k = 0; k < K; ++k) j["classes"].push_back(name_of(names, k));
  j["matrix"] = nlohmann::json::array();
  for (int64_t t = 0; t < K; ++t)
    j["matrix"].push_back(std::vector<int64_t>(confusion.begin() + t * K, confusion.begin() + (t + 1) * K));
  j["rows"] = "true class";
  j["columns"] = "predicted class";
  return j.dump() + "\n";
}

}  // namespace cnn

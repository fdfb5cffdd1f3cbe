#include "report/run_metrics.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace cnn {

namespace {

std::optional<double> optional_number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

}  // namespace

RunMetrics read_run_metrics(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(path + ": cannot open (is this the output directory of a cnn train run?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  RunMetrics m;
  m.text = ss.str();
  std::istringstream lines(m.text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      const std::string type = j.value("type", std::string("epoch"));
      if (type == "step") {
        m.steps.push_back({j.at("epoch").get<int64_t>(), j.at("step").get<int64_t>(), j.at("train_loss").get<double>(),
                           j.at("train_acc").get<double>(), j.at("lr").get<double>(),
                           j.value("losses", std::vector<double>{})});
      } else if (type == "epoch") {
        EpochMetrics e;
        e.epoch = j.at("epoch").get<int64_t>();
        e.step = j.at("step").get<int64_t>();
        e.train_loss = j.at("train_loss").get<double>();
        e.train_acc = j.at("train_acc").get<double>();
        e.lr = j.at("lr").get<double>();
        e.seconds = j.value("seconds", 0.0);
        e.images_per_s = j.value("images_per_s", 0.0);
        e.test_loss = optional_number(j, "test_loss");
        e.test_acc = optional_number(j, "test_acc");
        e.test_top5 = optional_number(j, "test_top5");
        m.epochs.push_back(e);
      }
    } catch (const nlohmann::json::exception& e) {
      throw RuntimeError(path + ":" + std::to_string(number) + ": not a metrics record (" + e.what() + ")");
    }
  }
  if (m.epochs.empty()) throw RuntimeError(path + ": no epoch record yet (the run has not finished an epoch)");
  return m;
}

int best_epoch_index(const std::vector<EpochMetrics>& epochs, BestMetric metric) {
  int best = -1;
  double best_score = 0;
  for (size_t i = 0; i < epochs.size(); ++i) {
    const EpochMetrics& e = epochs[i];
    const std::optional<double>& v = metric == BestMetric::test_loss   ? e.test_loss
                                     : metric == BestMetric::test_top5 ? e.test_top5
                                                                       : e.test_acc;
    if (!v) continue;
    const double score = metric == BestMetric::test_loss ? -*v : *v;
    if (best < 0 || score > best_score) best = int(i), best_score = score;
  }
  return best;
}

}  // namespace cnn

// The report's parts: per-class metrics and the most-confused pairs from a confusion matrix, CSV
// quoting, metrics.jsonl parsing and its errors, the best epoch, line charts (exact values on the
// points, thinning of long series without dropping extremes) and confusion matrix reduction.
#include <catch2/catch.hpp>
#include <cmath>
#include <algorithm>
#include <string>

#include "../temp_dir.h"
#include "core/error.h"
#include "io/safetensors.h"
#include "report/class_metrics.h"
#include "report/run_metrics.h"
#include "report/svg.h"

using namespace cnn;

TEST_CASE("class_stats: precision, recall, F1 and support from a confusion matrix") {
  // rows: true class; columns: predicted.
  const std::vector<int64_t> m = {5, 1, 0,   //
                                  2, 3, 1,   //
                                  0, 0, 0};  // class 2: no support, never predicted
  const auto s = class_stats(m, 3, {"cat", "dog"});
  REQUIRE(s.size() == 3);
  CHECK(s[0].name == "cat");
  CHECK(s[2].name == "class 2");
  CHECK(s[0].support == 6);
  CHECK(s[0].precision == Approx(5.0 / 7));
  CHECK(s[0].recall == Approx(5.0 / 6));
  CHECK(s[0].f1 == Approx(2 * (5.0 / 7) * (5.0 / 6) / (5.0 / 7 + 5.0 / 6)));
  CHECK(s[1].precision == Approx(3.0 / 4));
  CHECK(s[1].recall == Approx(3.0 / 6));
  CHECK(s[2].precision == 0);
  CHECK(s[2].recall == 0);
  CHECK(s[2].f1 == 0);
  const auto pairs = most_confused(m, 3, 2);
  REQUIRE(pairs.size() == 2);
  CHECK((pairs[0].true_class == 1 && pairs[0].predicted == 0 && pairs[0].count == 2));
  CHECK((pairs[1].true_class == 0 && pairs[1].predicted == 1 && pairs[1].count == 1));
}

TEST_CASE("CSV tables quote names with commas and quotes") {
  const std::vector<int64_t> m = {1, 0, 0, 1};
  const std::string csv = confusion_csv(m, 2, {"a,b", "say \"hi\""});
  CHECK(csv == "true\\predicted,\"a,b\",\"say \"\"hi\"\"\"\n\"a,b\",1,0\n\"say \"\"hi\"\"\",0,1\n");
  const std::string classes = class_stats_csv(class_stats(m, 2, {"a,b", "c"}));
  CHECK(classes.find("0,\"a,b\",1.000000,1.000000,1.000000,1,1,1\n") != std::string::npos);
}

TEST_CASE("read_run_metrics: epoch and step records, errors name the file and line") {
  test::TempDir dir;
  const std::string path = dir.str() + "/metrics.jsonl";
  write_file_atomic(path,
                    R"({"type":"step","epoch":1,"step":10,"train_loss":2.5,"train_acc":10,"lr":0.1,"seconds":1}
{"type":"epoch","epoch":1,"step":20,"train_loss":2.0,"train_acc":20,"lr":0.05,"seconds":3,"test_loss":1.5,"test_acc":40,"test_top5":90}
{"type":"epoch","epoch":2,"step":40,"train_loss":1.0,"train_acc":60,"lr":0.01,"seconds":3}
{"type":"epoch","epoch":3,"step":60,"train_loss":0.5,"train_acc":80,"lr":0.0,"seconds":3,"test_loss":1.6,"test_acc":45,"test_top5":91}
)");
  const RunMetrics m = read_run_metrics(path);
  REQUIRE(m.epochs.size() == 3);
  REQUIRE(m.steps.size() == 1);
  CHECK(m.steps[0].train_loss == 2.5);
  CHECK(!m.epochs[1].test_acc);  // not evaluated
  CHECK(best_epoch_index(m.epochs, BestMetric::test_acc) == 2);
  CHECK(best_epoch_index(m.epochs, BestMetric::test_loss) == 0);
  write_file_atomic(path, "{\"type\":\"epoch\",\"epoch\":1}\n");
  CHECK_THROWS_WITH(read_run_metrics(path), Catch::Contains("metrics.jsonl:1:"));
  write_file_atomic(path, "");
  CHECK_THROWS_WITH(read_run_metrics(path), Catch::Contains("no epoch record"));
  CHECK_THROWS_AS(read_run_metrics(dir.str() + "/none.jsonl"), RuntimeError);
}

TEST_CASE("line chart: every point carries its exact value, long series are thinned keeping extremes") {
  LineChart c;
  c.id = "loss";
  c.series.push_back({"train loss", "#000", {1, 2, 3}, {0.1, 1.0 / 3, NAN}});
  const std::string svg = line_chart_svg(c);
  CHECK(svg.find(R"(data-x="1" data-y="0.1")") != std::string::npos);
  CHECK(svg.find(R"(data-x="2" data-y="0.3333333333333333")") != std::string::npos);
  CHECK(svg.find(R"(data-x="3")") == std::string::npos);  // absent values are not drawn
  LineChart big;
  ChartSeries s{"s", "#000", {}, {}};
  for (int i = 0; i < 5000; ++i) s.x.push_back(i), s.y.push_back(i == 4321 ? 100.0 : std::sin(i * 0.01));
  big.series.push_back(s);
  const std::string out = line_chart_svg(big);
  CHECK(out.find("<circle") == std::string::npos);  // too many points to mark
  const size_t drawn = size_t(std::count(out.begin(), out.end(), ','));
  CHECK(drawn <= kMaxDrawnPoints + 2);
  // The spike at x = 4321 survives thinning: x pixel 72 + 4321 / 4999 * 552 = 549.1.
  CHECK(out.find("549.1,") != std::string::npos);
}

TEST_CASE("confusion view: large matrices show the classes with the most errors and say so") {
  const int64_t K = 40;
  std::vector<int64_t> m(size_t(K * K), 0);
  for (int64_t k = 0; k < K; ++k) m[size_t(k * K + k)] = 10;
  m[size_t(3 * K + 7)] = 5;  // 3 -> 7 and 12 -> 30 are the only errors
  m[size_t(12 * K + 30)] = 2;
  const ConfusionView v = confusion_view(m, K, 30);
  CHECK(v.classes.size() == 30);
  for (int64_t k : {3, 7, 12, 30}) CHECK(std::count(v.classes.begin(), v.classes.end(), k) == 1);
  CHECK(std::is_sorted(v.classes.begin(), v.classes.end()));
  CHECK_THAT(v.note, Catch::Contains("30 of 40 classes"));
  CHECK(confusion_view(m, K, 40).note.empty());
}

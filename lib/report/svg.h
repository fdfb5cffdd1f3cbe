#pragma once
// Charts as standalone SVG text (the browser draws the text, files diff well): line charts of
// training curves and confusion matrices. Every drawn data point of a line chart carries its exact
// value (data-x / data-y, shortest round-trip decimal) so tests can compare it with metrics.jsonl.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace cnn {

// &, <, >, " and ' as entities.
std::string xml_escape(const std::string& s);

struct ChartSeries {
  std::string name, color;  // color: any SVG color, e.g. "#1f77b4"
  std::vector<double> x, y;
};

struct LineChart {  // x is an epoch or step number: its ticks are whole numbers
  std::string id, title, x_label, y_label;
  std::vector<ChartSeries> series;
  double marker_x = NAN;     // a vertical marker (the best epoch), when finite
  std::string marker_label;
};

// Series longer than this are drawn thinned (the minimum and maximum of each bucket, in order);
// shorter ones also get one marker per point with its exact values.
constexpr size_t kMaxDrawnPoints = 600;
constexpr size_t kMaxMarkedPoints = 200;

std::string line_chart_svg(const LineChart& chart);

struct ConfusionView {
  std::vector<int64_t> classes;  // the classes shown, in order
  std::string note;              // how the matrix was reduced ("" when all classes are shown)
};
// At most `max_classes` classes: all when K fits, else the ones with the most errors (missed
// plus wrongly predicted), in index order.
ConfusionView confusion_view(const std::vector<int64_t>& confusion, int64_t K, size_t max_classes);

// The matrix as a grid: rows = true class, columns = predicted, shaded by the row-normalized
// value; cells show counts, or percentages of the row when `normalized`.
std::string confusion_svg(const std::vector<int64_t>& confusion, int64_t K, const std::vector<std::string>& names,
                          const ConfusionView& view, bool normalized, const std::string& id);

}  // namespace cnn

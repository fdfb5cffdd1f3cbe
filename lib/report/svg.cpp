#include "report/svg.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace cnn {

namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 72, kRight = 16, kTop = 30, kBottom = 44;

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  void finish(bool pad) {
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (hi - lo <= 1e-9 * std::max(std::fabs(lo), std::fabs(hi))) {  // one value: a band around it
      const double d = hi != 0 ? 0.1 * std::fabs(hi) : 0.5;
      lo -= d, hi += d;
    }
    if (pad) {
      const double p = 0.05 * (hi - lo);
      lo -= p, hi += p;
    }
  }
};

// Round tick positions (1, 2 or 5 x 10^k apart), at most about five of them; whole numbers
// apart when `integer` (epochs, steps).
std::vector<double> ticks(double lo, double hi, bool integer) {
  const double raw = (hi - lo) / 5, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = raw <= mag ? mag : raw <= 2 * mag ? 2 * mag : raw <= 5 * mag ? 5 * mag : 10 * mag;
  if (integer) step = std::max(step, 1.0);
  std::vector<double> out;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
  return out;
}

// Indices of the points drawn: all, or the first, the last and each bucket's min and max.
std::vector<size_t> drawn_points(const std::vector<double>& y) {
  std::vector<size_t> out;
  if (y.size() <= kMaxDrawnPoints) {
    for (size_t i = 0; i < y.size(); ++i) out.push_back(i);
    return out;
  }
  const size_t buckets = kMaxDrawnPoints / 2;
  for (size_t b = 0; b < buckets; ++b) {
    const size_t lo = b * y.size() / buckets, hi = (b + 1) * y.size() / buckets;
    size_t mn = lo, mx = lo;
    for (size_t i = lo; i < hi; ++i) {
      if (y[i] < y[mn]) mn = i;
      if (y[i] > y[mx]) mx = i;
    }
    out.push_back(std::min(mn, mx));
    if (mn != mx) out.push_back(std::max(mn, mx));
  }
  if (out.front() != 0) out.insert(out.begin(), 0);
  if (out.back() != y.size() - 1) out.push_back(y.size() - 1);
  return out;
}

std::string axes(const LineChart& c, const Range& xr, const Range& yr, double pw, double ph) {
  auto sx = [&](double x) { return kLeft + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto sy = [&](double y) { return kTop + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };
  std::string s = fmt::format(R"svg(<rect x="{}" y="{}" width="{}" height="{}" fill="#fff" stroke="#999"/>)svg", kLeft, kTop, pw, ph);
  for (double t : ticks(yr.lo, yr.hi, false))
    s += fmt::format(R"svg(<line x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}" stroke="#eee"/><text x="{3}" y="{2:.1f}" text-anchor="end" dy="4">{4:.3g}</text>)svg",
                     kLeft, kLeft + pw, sy(t), kLeft - 4, t);
  for (double t : ticks(xr.lo, xr.hi, true))
    s += fmt::format(R"svg(<line x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#eee"/><text x="{0:.1f}" y="{3}" text-anchor="middle">{4:.6g}</text>)svg",
                     sx(t), kTop, kTop + ph, kTop + ph + 14, t);
  s += fmt::format(R"svg(<text x="{}" y="{}" text-anchor="middle">{}</text>)svg", kLeft + pw / 2, kHeight - 8, xml_escape(c.x_label));
  s += fmt::format(R"svg(<text transform="translate(14,{}) rotate(-90)" text-anchor="middle">{}</text>)svg", kTop + ph / 2,
                   xml_escape(c.y_label));
  s += fmt::format(R"svg(<text x="{}" y="18" font-size="13" font-weight="bold">{}</text>)svg", kLeft, xml_escape(c.title));
  return s;
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string line_chart_svg(const LineChart& c) {
  Range xr, yr;
  for (const ChartSeries& s : c.series)
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i])) xr.add(s.x[i]), yr.add(s.y[i]);
  xr.finish(false);
  yr.finish(true);
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto sx = [&](double x) { return kLeft + (x - xr.lo) / (xr.hi - xr.lo) * pw; };
  auto sy = [&](double y) { return kTop + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };
  std::string out = fmt::format(
      R"svg(<svg xmlns="http://www.w3.org/2000/svg" id="{}" class="chart" width="{}" height="{}" viewBox="0 0 {} {}" font-family="sans-serif" font-size="11">)svg",
      xml_escape(c.id), kWidth, kHeight, kWidth, kHeight);
  out += axes(c, xr, yr, pw, ph);
  if (std::isfinite(c.marker_x))
    {
      const bool right = sx(c.marker_x) > kLeft + 0.6 * pw;  // label on the side with room
      out += fmt::format(R"svg(<line class="best" x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#d62728" stroke-dasharray="4 3"/><text x="{3:.1f}" y="{4}" fill="#d62728" text-anchor="{5}">{6}</text>)svg",
                         sx(c.marker_x), kTop, kTop + ph, sx(c.marker_x) + (right ? -3 : 3), kTop + 12,
                         right ? "end" : "start", xml_escape(c.marker_label));
    }
  double legend_x = kLeft + pw;
  for (auto it = c.series.rbegin(); it != c.series.rend(); ++it) {  // right-aligned legend
    legend_x -= 12 + 6.5 * double(it->name.size()) + 14;
    out += fmt::format(R"svg(<rect x="{0:.1f}" y="9" width="10" height="10" fill="{1}"/><text x="{2:.1f}" y="18">{3}</text>)svg",
                       legend_x, it->color, legend_x + 13, xml_escape(it->name));
  }
  for (const ChartSeries& s : c.series) {
    std::string points;
    for (size_t i : drawn_points(s.y))
      if (std::isfinite(s.y[i])) points += fmt::format("{:.1f},{:.1f} ", sx(s.x[i]), sy(s.y[i]));
    out += fmt::format(R"svg(<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>)svg", s.color, points);
    if (s.y.size() > kMaxMarkedPoints) continue;
    for (size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i]))
        out += fmt::format(R"svg(<circle class="pt" data-series="{0}" data-x="{1}" data-y="{2}" cx="{3:.1f}" cy="{4:.1f}" r="2.5" fill="{5}"><title>{0}: {1}, {2:.6g}</title></circle>)svg",
                           xml_escape(s.name), s.x[i], s.y[i], sx(s.x[i]), sy(s.y[i]), s.color);
  }
  return out + "</svg>\n";
}

ConfusionView confusion_view(const std::vector<int64_t>& confusion, int64_t K, size_t max_classes) {
  ConfusionView v;
  for (int64_t k = 0; k < K; ++k) v.classes.push_back(k);
  if (size_t(K) <= max_classes) return v;
  std::vector<int64_t> errors(static_cast<size_t>(K), 0);
  for (int64_t t = 0; t < K; ++t)
    for (int64_t p = 0; p < K; ++p)
      if (t != p) errors[size_t(t)] += confusion[size_t(t * K + p)], errors[size_t(p)] += confusion[size_t(t * K + p)];
  std::stable_sort(v.classes.begin(), v.classes.end(), [&](int64_t a, int64_t b) { return errors[size_t(a)] > errors[size_t(b)]; });
  v.classes.resize(max_classes);
  std::sort(v.classes.begin(), v.classes.end());
  v.note = fmt::format("showing the {} of {} classes with the most errors (missed + wrongly predicted); the CSV "
                       "files of cnn eval --out hold the whole matrix",
                       max_classes, K);
  return v;
}

std::string confusion_svg(const std::vector<int64_t>& confusion, int64_t K, const std::vector<std::string>& names,
                          const ConfusionView& view, bool normalized, const std::string& id) {
  const size_t n = view.classes.size();
  const double cell = std::clamp(520.0 / double(n), 12.0, 40.0), left = 110, top = 110;
  const double size_w = left + cell * double(n) + 10, size_h = top + cell * double(n) + 10;
  auto name = [&](int64_t k) {
    std::string s = k < int64_t(names.size()) ? names[size_t(k)] : std::to_string(k);
    return s.size() > 14 ? s.substr(0, 13) + "…" : s;
  };
  std::string out = fmt::format(
      R"svg(<svg xmlns="http://www.w3.org/2000/svg" id="{}" class="chart confusion" width="{:.0f}" height="{:.0f}" viewBox="0 0 {:.0f} {:.0f}" font-family="sans-serif" font-size="{:.0f}">)svg",
      xml_escape(id), size_w, size_h, size_w, size_h, std::min(11.0, cell * 0.4));
  out += fmt::format(R"svg(<text x="{}" y="14" font-size="12">predicted class →</text><text transform="translate(12,{}) rotate(-90)" font-size="12" text-anchor="end">true class →</text>)svg",
                     left, top + 40);
  for (size_t j = 0; j < n; ++j) {
    const int64_t k = view.classes[j];
    const double c = left + cell * (double(j) + 0.5), r = top + cell * (double(j) + 0.5);
    out += fmt::format(R"svg(<text transform="translate({:.1f},{}) rotate(-60)">{}</text>)svg", c, top - 4, xml_escape(name(k)));
    out += fmt::format(R"svg(<text x="{}" y="{:.1f}" text-anchor="end" dy="4">{}</text>)svg", left - 4, r, xml_escape(name(k)));
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = view.classes[i];
    int64_t row = 0;
    for (int64_t p = 0; p < K; ++p) row += confusion[size_t(t * K + p)];
    for (size_t j = 0; j < n; ++j) {
      const int64_t count = confusion[size_t(t * K + view.classes[j])];
      const double f = row ? double(count) / double(row) : 0;
      const int shade = int(std::lround(255 * (1 - std::sqrt(f))));  // sqrt: small confusions stay visible
      out += fmt::format(R"svg(<rect class="cell" data-true="{}" data-predicted="{}" data-count="{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="rgb({},{},255)" stroke="#ddd"><title>true {}, predicted {}: {} ({:.2f}% of the row)</title></rect>)svg",
                         t, view.classes[j], count, left + cell * double(j), top + cell * double(i), cell, cell, shade, shade,
                         xml_escape(name(t)), xml_escape(name(view.classes[j])), count, 100 * f);
      if (cell >= 22 && count > 0)
        out += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" dy="4" fill="{}">{}</text>)svg",
                           left + cell * (double(j) + 0.5), top + cell * (double(i) + 0.5), shade < 128 ? "#fff" : "#000",
                           normalized ? (f < 0.1 ? fmt::format("{:.1f}%", 100 * f) : fmt::format("{:.0f}%", 100 * f)) : std::to_string(count));
    }
  }
  return out + "</svg>\n";
}

}  // namespace cnn

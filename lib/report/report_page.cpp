#include "report/report_page.h"

#include <fmt/format.h>

#include "io/png.h"
#include "report/pictures.h"

namespace cnn {

namespace {

// Nothing may load from elsewhere: images are data URIs, styles inline, no scripts at all.
constexpr const char* kCsp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

constexpr const char* kStyle = R"css(
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ddd; padding: 3px 8px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; }
.charts, .gallery { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; font-size: 12px; } .note { color: #a40; }
)css";

std::string img_tag(const Image& img, const std::string& alt, const std::string& cls) {
  return fmt::format(R"(<img class="{}" src="{}" width="{}" height="{}" alt="{}">)", cls, png_data_uri(img), img.width,
                     img.height, xml_escape(alt));
}

// Inline SVG needs no namespace declaration (and the page then names no URL at all).
std::string inline_svg(std::string svg) {
  const std::string ns = R"( xmlns="http://www.w3.org/2000/svg")";
  if (const size_t at = svg.find(ns); at != std::string::npos) svg.erase(at, ns.size());
  return svg;
}

std::string overview(const PageInput& in) {
  const RunMetrics& m = *in.metrics;
  double wall = 0;
  for (const EpochMetrics& e : m.epochs) wall += e.seconds;
  const int best = best_epoch_index(m.epochs, in.recipe->train.best_metric);
  const EpochMetrics& last = m.epochs.back();
  std::string rows;
  auto row = [&](const std::string& k, const std::string& v) {
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>", xml_escape(k), xml_escape(v));
  };
  row("model", in.recipe->model.name);
  row("dataset", name_of(in.recipe->data.dataset));
  row("epochs", fmt::format("{} of {}", last.epoch, in.recipe->train.epochs));
  row("steps", std::to_string(last.step));
  if (best >= 0) {
    const EpochMetrics& b = m.epochs[size_t(best)];
    row("best epoch (" + name_of(in.recipe->train.best_metric) + ")",
        fmt::format("{}: test top-1 {:.2f}%, test loss {:.4f}", b.epoch, b.test_acc.value_or(NAN), b.test_loss.value_or(NAN)));
  }
  row("last epoch", fmt::format("train loss {:.4f}, train top-1 {:.2f}%, lr {:.4g}", last.train_loss, last.train_acc, last.lr));
  if (in.eval)
    row("evaluation of the checkpoint", fmt::format("{}: {} images, loss {:.4f}, top-1 {:.2f}%, top-5 {:.2f}%", in.checkpoint,
                                                    in.eval->count, in.eval->loss, in.eval->top1, in.eval->top5));
  row("wall time", fmt::format("{:.1f} s (the sum of the epochs' times, evaluations included)", wall));
  row("banner at training time (banner.txt)",
      in.training_banner.empty() ? std::string("not recorded (a run from before banner.txt was written)")
                                 : in.training_banner);
  row("banner of the process that wrote this report", in.banner);
  std::string notes;
  for (const std::string& n : in.notes) notes += fmt::format(R"(<p class="note">{}</p>)", xml_escape(n));
  return fmt::format(R"(<h2 id="summary">Summary</h2><table class="overview">{}</table>{})", rows, notes);
}

std::string class_table(const PageInput& in) {
  std::string out = R"(<h2 id="classes">Per-class precision, recall and F1</h2><table class="classes"><tr><th>class</th><th>name</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>)";
  for (const ClassStats& s : in.stats)
    out += fmt::format(R"(<tr class="class-row"><td class="num">{}</td><td>{}</td><td class="num">{:.2f}%</td><td class="num">{:.2f}%</td><td class="num">{:.4f}</td><td class="num">{}</td></tr>)",
                       s.index, xml_escape(s.name), 100 * s.precision, 100 * s.recall, s.f1, s.support);
  out += "</table><h3>Most confused pairs</h3><table class=\"pairs\"><tr><th>true</th><th>predicted</th><th>images</th><th>% of the true class</th></tr>";
  for (const ConfusedPair& p : in.pairs)
    out += fmt::format(R"(<tr><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{:.2f}%</td></tr>)",
                       xml_escape(in.stats[size_t(p.true_class)].name), xml_escape(in.stats[size_t(p.predicted)].name),
                       p.count, 100.0 * double(p.count) / double(std::max<int64_t>(1, in.stats[size_t(p.true_class)].support)));
  return out + "</table>";
}

std::string gallery(const PageInput& in, RenderedPage& page) {
  if (in.gallery.empty()) return "";
  std::string out = R"(<h2 id="top-losses">Highest-loss test images</h2><p>Each image after the eval transforms, and its class activation map for the predicted class (JET: red = strongest evidence).</p><div class="gallery">)";
  std::vector<Image> tiles;
  for (const GalleryItem& g : in.gallery) {
    const SampleOutcome& s = g.outcome;
    out += fmt::format(R"(<figure class="sample">{}{}<figcaption>#{}: true <b>{}</b>, predicted <b>{}</b> ({:.1f}%), loss {:.3f}</figcaption></figure>)",
                       img_tag(g.image, "test image " + std::to_string(s.index), "sample-image"),
                       img_tag(g.overlay, "class activation map", "sample-cam"), s.index, xml_escape(g.true_name),
                       xml_escape(g.predicted_name), 100 * s.prob, s.loss);
    tiles.push_back(g.image);
    tiles.push_back(g.overlay);
  }
  page.files.emplace_back("top_losses.png", png_bytes(tile_grid(tiles, 8, 4)));
  return out + "</div>";
}

std::string pictures(const PageInput& in, RenderedPage& page) {
  std::string out;
  if (in.filters.numel()) {
    out += "<h2 id=\"filters\">First convolution's filters</h2><p>Each filter scaled to its own min..max.</p>" +
           img_tag(in.filters, "filters of the first convolution", "filters");
    page.files.emplace_back("filters.png", png_bytes(in.filters));
  }
  if (in.feature_maps.numel()) {
    out += "<h2 id=\"feature-maps\">Feature maps</h2><p>" + xml_escape(in.feature_caption) + "</p>" +
           img_tag(in.feature_maps, "feature maps", "feature-maps");
    page.files.emplace_back("feature_maps.png", png_bytes(in.feature_maps));
  }
  return out;
}

std::string charts(const PageInput& in, RenderedPage& page) {
  std::string out = R"(<h2 id="curves">Training curves</h2><p>Epoch values are means over the epoch; per-step values are the mean over the steps since the previous record, and the loss chart also draws each step's own loss (unsmoothed, light blue). metrics.jsonl (below) holds every value; series longer than 600 points are drawn thinned (the lowest and highest value of each stretch).</p><div class="charts">)";
  for (const LineChart& c : in.charts) {
    const std::string svg = line_chart_svg(c);
    page.files.emplace_back(c.id + ".svg", svg);
    out += inline_svg(svg);
  }
  return out + "</div>";
}

std::string confusion(const PageInput& in, RenderedPage& page) {
  const int64_t K = in.eval->classes;
  const std::string counts = confusion_svg(in.eval->confusion, K, in.class_names, in.confusion, false, "confusion_counts");
  const std::string norm = confusion_svg(in.eval->confusion, K, in.class_names, in.confusion, true, "confusion_normalized");
  page.files.emplace_back("confusion_counts.svg", counts);
  page.files.emplace_back("confusion_normalized.svg", norm);
  std::string note = in.confusion.note.empty() ? "" : "<p class=\"note\">" + xml_escape(in.confusion.note) + "</p>";
  return R"(<h2 id="confusion">Confusion matrix</h2><p>Rows: true class; columns: predicted class; shading: the fraction of the row.</p>)" +
         note + R"(<div class="charts"><figure><figcaption>counts</figcaption>)" + inline_svg(counts) +
         R"(</figure><figure><figcaption>row-normalized (% of the true class)</figcaption>)" + inline_svg(norm) +
         "</figure></div>";
}

}  // namespace

RenderedPage render_page(const PageInput& in) {
  RenderedPage page;
  std::string body = overview(in) + charts(in, page);
  if (in.eval) body += confusion(in, page) + class_table(in) + gallery(in, page);
  body += pictures(in, page);
  body += "<h2 id=\"model\">Model</h2><pre class=\"summary\">" + xml_escape(in.summary) + "</pre>";
  body += "<h2 id=\"config\">Resolved config</h2><pre class=\"config\">" + xml_escape(in.config_text) + "</pre>";
  body += "<h2 id=\"metrics\">metrics.jsonl</h2><details><summary>" + std::to_string(in.metrics->epochs.size()) +
          " epoch and " + std::to_string(in.metrics->steps.size()) + " step records</summary><pre class=\"metrics\">" +
          xml_escape(in.metrics->text) + "</pre></details>";
  page.html = fmt::format(R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{}">
<title>{}</title><style>{}</style></head>
<body><h1>{}</h1>
{}
</body></html>
)",
                          kCsp, xml_escape(in.title), kStyle, xml_escape(in.title), body);
  return page;
}

}  // namespace cnn

#include "report/report.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/format.h>

#include "core/banner.h"
#include "core/error.h"
#include "data/load.h"
#include "data/transforms.h"
#include "explain/cam.h"
#include "explain/heatmap.h"
#include "explain/top_classes.h"
#include "graph/net.h"
#include "io/png.h"
#include "io/safetensors.h"
#include "io/summary_report.h"
#include "report/class_metrics.h"
#include "report/pictures.h"
#include "report/report_page.h"
#include "report/run_metrics.h"
#include "report/svg.h"
#include "train/checkpoint.h"
#include "train/class_names.h"
#include "train/evaluator.h"
#include "train/run_banner.h"

namespace cnn {

namespace fs = std::filesystem;

namespace {

constexpr size_t kConfusionClasses = 30;  // more are reduced to the classes with the most errors
constexpr size_t kConfusedPairs = 10;
constexpr int64_t kTileSize = 96;         // small images are upscaled to at least this
constexpr int64_t kFeatureMaps = 64;
constexpr int64_t kFilterTile = 48;       // filters and feature maps are upscaled to at least this

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(path + ": cannot open (is this the output directory of a cnn train run?)");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string default_checkpoint(const std::string& run_dir) {
  for (const char* name : {"best.safetensors", "last.safetensors"}) {
    const fs::path p = fs::path(run_dir) / name;
    if (fs::exists(p)) return p.string();
  }
  throw RuntimeError(run_dir + ": no best.safetensors or last.safetensors (give --checkpoint)");
}

// Everything the evaluation sections need: the test set's outcomes and the pictures of the
// highest-loss images.
struct Evaluation {
  EvalResult result;
  std::vector<std::string> names;
  std::vector<ClassStats> stats;
  std::vector<GalleryItem> gallery;
  Image feature_maps;
  std::string feature_caption;
};

void explain_top_losses(Net& net, const Recipe& recipe, const Dataset& test, const ReportOptions& o, Evaluation& ev) {
  const int64_t samples = o.samples;
  std::vector<SampleOutcome> order = ev.result.samples;
  std::stable_sort(order.begin(), order.end(), [](const SampleOutcome& a, const SampleOutcome& b) { return a.loss > b.loss; });
  order.resize(std::min(order.size(), size_t(samples)));
  if (order.empty()) return;
  const Shape& in = recipe.model.input;
  const Pipeline pipeline(recipe.data.eval_transforms, test.channels(), "data.eval_transforms");
  Tensor batch(Shape{int64_t(order.size()), in[0], in[1], in[2]});
  std::vector<Image> shown(order.size());
  TransformScratch scratch;
  Rng rng(0);
  for (size_t i = 0; i < order.size(); ++i) {
    test.read(order[i].index, shown[i]);
    pipeline.apply_bytes(shown[i], scratch, rng);
    pipeline.apply_floats(shown[i], rng, batch.data() + int64_t(i) * numel_of(in));
  }
  const CamLayer layer = resolve_cam_layer(net, o.layer);
  const CamMethod method = default_cam_method(net, layer);
  CamExplainer explainer(net, layer, method);
  explainer.forward(batch);
  std::vector<int64_t> predicted;
  for (const SampleOutcome& s : order) predicted.push_back(s.predicted);
  const Tensor maps = explainer.maps(predicted);
  const int64_t hw = layer.height * layer.width;
  for (size_t i = 0; i < order.size(); ++i) {
    const Tensor heat = cam_heatmap(maps.data() + int64_t(i) * hw, layer.height, layer.width, in[1], in[2]);
    const int64_t f = upscale_factor(std::min(in[1], in[2]), kTileSize);
    GalleryItem g;
    g.outcome = order[i];
    g.true_name = class_name(ev.names, order[i].label);
    g.predicted_name = class_name(ev.names, order[i].predicted);
    g.image = upscale_nearest(shown[i], f);
    g.overlay = upscale_nearest(overlay_heatmap(shown[i], heat, 0.5f), f);
    ev.gallery.push_back(std::move(g));
  }
  ev.feature_caption = fmt::format("{} of layer '{}' ({}x{}x{}, first {} channels) for test image {}; the "
                                   "overlays above are its {} for the predicted class",
                                   "activations", layer.name, layer.channels, layer.height, layer.width,
                                   std::min(layer.channels, kFeatureMaps), order[0].index,
                                   method == CamMethod::cam ? "CAM" : "Grad-CAM");
  const Tensor& a = net.activation(layer.node);
  ev.feature_maps = feature_grid(a.data(), layer.channels, layer.height, layer.width, kFeatureMaps, kFilterTile);
}

std::optional<Evaluation> evaluate_test_set(Net& net, const Recipe& recipe, const ReportOptions& o,
                                            const std::string& checkpoint, std::vector<std::string>& notes) {
  std::unique_ptr<Dataset> test;
  try {
    test = load_dataset(recipe.data, "test");
  } catch (const std::exception& e) {
    notes.push_back(std::string("no evaluation sections: the test set cannot be read: ") + e.what());
    return std::nullopt;
  }
  Evaluation ev;
  EvalOptions opts = eval_options_of(recipe);
  opts.per_sample = true;
  const int64_t batch = recipe.data.eval_batch_size > 0 ? recipe.data.eval_batch_size : recipe.data.batch_size;
  ev.result = evaluate(net, *test, recipe.data.eval_transforms, batch, 0.f, opts);
  ev.names = resolve_class_names("", checkpoint, recipe.data.dataset);
  if (ev.names.empty()) ev.names = test->class_names();
  ev.stats = class_stats(ev.result.confusion, ev.result.classes, ev.names);
  explain_top_losses(net, recipe, *test, o, ev);
  return ev;
}

LineChart chart(const std::string& id, const std::string& title, const std::string& x_label,
                const std::string& y_label) {
  LineChart c;
  c.id = id, c.title = title, c.x_label = x_label, c.y_label = y_label;
  return c;
}

// Epoch series of one metric; absent values (epochs not evaluated) are NaN and not drawn.
ChartSeries epoch_series(const RunMetrics& m, const std::string& name, const std::string& color,
                         const std::function<std::optional<double>(const EpochMetrics&)>& get) {
  ChartSeries s{name, color, {}, {}};
  for (const EpochMetrics& e : m.epochs) {
    s.x.push_back(double(e.epoch));
    s.y.push_back(get(e).value_or(NAN));
  }
  return s;
}

std::vector<LineChart> curve_charts(const RunMetrics& m, const Recipe& recipe) {
  const int best = best_epoch_index(m.epochs, recipe.train.best_metric);
  const std::string train_loss_name =
      recipe.train.label_smoothing > 0 ? "train loss (with label smoothing)" : "train loss";
  std::vector<LineChart> out;
  LineChart loss = chart("loss_epoch", "Loss per epoch", "epoch", "loss (epoch mean)");
  loss.series.push_back(epoch_series(m, train_loss_name, "#1f77b4", [](const EpochMetrics& e) { return e.train_loss; }));
  loss.series.push_back(epoch_series(m, "test loss", "#ff7f0e", [](const EpochMetrics& e) { return e.test_loss; }));
  LineChart acc = chart("accuracy_epoch", "Accuracy per epoch", "epoch", "accuracy %");
  acc.series.push_back(epoch_series(m, "train top-1", "#1f77b4", [](const EpochMetrics& e) { return e.train_acc; }));
  acc.series.push_back(epoch_series(m, "test top-1", "#ff7f0e", [](const EpochMetrics& e) { return e.test_acc; }));
  acc.series.push_back(epoch_series(m, "test top-5", "#2ca02c", [](const EpochMetrics& e) { return e.test_top5; }));
  LineChart lr = chart("lr_epoch", "Learning rate at the end of each epoch", "epoch", "learning rate");
  lr.series.push_back(epoch_series(m, "lr", "#9467bd", [](const EpochMetrics& e) { return e.lr; }));
  for (LineChart* c : {&loss, &acc, &lr}) {
    if (best >= 0) {
      c->marker_x = double(m.epochs[size_t(best)].epoch);
      c->marker_label = fmt::format("best epoch {} ({})", m.epochs[size_t(best)].epoch, name_of(recipe.train.best_metric));
    }
    out.push_back(*c);
  }
  if (m.steps.empty()) return out;
  LineChart sl = chart("loss_step", "Training loss per step", "step", "loss");
  LineChart sa = chart("accuracy_step", "Training accuracy per step (mean since the previous record)", "step", "accuracy %");
  LineChart slr = chart("lr_step", "Learning rate per step", "step", "learning rate");
  ChartSeries l{"train loss", "#1f77b4", {}, {}}, a{"train top-1", "#1f77b4", {}, {}}, r{"lr", "#9467bd", {}, {}};
  ChartSeries each{"train loss (each step)", "#aec7e8", {}, {}};  // unsmoothed, drawn under the means
  for (const StepMetrics& s : m.steps) {
    for (ChartSeries* c : {&l, &a, &r}) c->x.push_back(double(s.step));
    l.y.push_back(s.train_loss), a.y.push_back(s.train_acc), r.y.push_back(s.lr);
    for (size_t i = 0; i < s.losses.size(); ++i) {
      each.x.push_back(double(s.step - int64_t(s.losses.size() - 1 - i)));
      each.y.push_back(s.losses[i]);
    }
  }
  sl.series = {l}, sa.series = {a}, slr.series = {r};
  if (!each.y.empty()) sl.series.insert(sl.series.begin(), each);
  if (best >= 0)
    for (LineChart* c : {&sl, &sa, &slr}) {
      c->marker_x = double(m.epochs[size_t(best)].step);
      c->marker_label = fmt::format("end of best epoch {}", m.epochs[size_t(best)].epoch);
    }
  for (LineChart* c : {&sl, &sa, &slr}) out.push_back(*c);
  return out;
}

const Tensor* first_conv_weight(const Net& net) {
  for (const NamedParam& p : net.params())
    if (p.param->init_kind == "conv" && p.param->value.ndim() == 4) return &p.param->value;
  return nullptr;
}

}  // namespace

ReportResult write_report(const ReportOptions& o) {
  const fs::path run(o.run_dir);
  const RunMetrics metrics = read_run_metrics((run / "metrics.jsonl").string());
  const std::string config_path = (run / "config.yaml").string();
  const std::string config_text = o.recipe ? o.recipe->resolved_yaml : read_text(config_path);
  const Recipe recipe = o.recipe ? *o.recipe : load_recipe_file(config_path);
  const std::string checkpoint = o.checkpoint.empty() ? default_checkpoint(o.run_dir) : o.checkpoint;
  Net net(recipe.model);
  net.set_inspectable(true);  // feature maps of any layer
  load_checkpoint(checkpoint, net);

  PageInput page;
  page.title = fmt::format("{} on {}", recipe.model.name, name_of(recipe.data.dataset));
  page.metrics = &metrics;
  page.recipe = &recipe;
  page.checkpoint = checkpoint;
  page.config_text = config_text;
  page.summary = summary_table(net, 1, net.planned_memory(1, true), net.planned_inference_memory(1));
  page.banner = run_banner();
  page.training_banner = read_run_banner(o.run_dir);
  page.charts = curve_charts(metrics, recipe);
  if (const Tensor* w = first_conv_weight(net)) page.filters = filter_grid(*w, kFilterTile);
  ReportResult result;
  if (!o.layer.empty()) resolve_cam_layer(net, o.layer);  // a bad --layer fails before the evaluation
  std::optional<Evaluation> ev = evaluate_test_set(net, recipe, o, checkpoint, result.notes);
  if (ev) {
    page.eval = &ev->result;
    page.class_names = ev->names;
    page.stats = ev->stats;
    page.pairs = most_confused(ev->result.confusion, ev->result.classes, kConfusedPairs);
    page.confusion = confusion_view(ev->result.confusion, ev->result.classes, kConfusionClasses);
    page.gallery = std::move(ev->gallery);
    page.feature_maps = ev->feature_maps;
    page.feature_caption = ev->feature_caption;
  }
  page.notes = result.notes;
  const RenderedPage rendered = render_page(page);  // everything computed; now write

  const fs::path html = o.out.empty() ? run / "report.html" : fs::path(o.out);
  const fs::path dir = html.has_parent_path() ? html.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw RuntimeError(fmt::format("cannot write the report: cannot create directory '{}': {}", dir.string(), ec.message()));
  for (const auto& [name, content] : rendered.files) {
    write_file_atomic((dir / name).string(), content);
    result.files.push_back((dir / name).string());
  }
  write_file_atomic(html.string(), rendered.html);
  result.files.push_back(html.string());
  result.html = html.string();
  return result;
}

}  // namespace cnn

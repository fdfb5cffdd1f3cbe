#include "config/drop_path_rate.h"

#include <set>

#include <fmt/format.h>

#include "config/yaml_util.h"

namespace cnn::cfg {

namespace {

// "layer1.0.merge" -> "layer1.0.drop_path"; a merge at the top level: "drop_path".
std::string drop_path_name(const std::string& merge_name) {
  const size_t dot = merge_name.rfind('.');
  return join_path(dot == std::string::npos ? "" : merge_name.substr(0, dot), "drop_path");
}

}  // namespace

double drop_path_rate_of(double rate, size_t i, size_t n) {
  return n < 2 ? 0.0 : rate * double(i) / double(n - 1);
}

void apply_drop_path_rate(ModelSpec& model, double rate) {
  if (!(rate > 0)) return;
  std::vector<NodeSpec>& nodes = model.nodes;
  size_t merges = 0;
  for (const NodeSpec& n : nodes) merges += n.type == "add";
  // p of the drop_path to put in front of each node (0: none).
  std::vector<double> p(nodes.size(), 0.0);
  std::set<std::string> names;
  for (const NodeSpec& n : nodes) names.insert(n.name);
  for (size_t i = 0, k = 0; i < nodes.size(); ++i) {
    if (nodes[i].type != "add") continue;
    const double rate_k = drop_path_rate_of(rate, k++, merges);
    const int residual = nodes[i].inputs.at(0);
    if (residual >= 0 && nodes[size_t(residual)].type == "drop_path") continue;  // set in the model
    if (rate_k == 0) continue;
    if (!names.insert(drop_path_name(nodes[i].name)).second)
      throw ConfigError(nodes[i].args.loc(), nodes[i].name,
                        fmt::format("train.drop_path_rate: the model already has a node named '{}'",
                                    drop_path_name(nodes[i].name)));
    p[i] = rate_k;
  }
  // One pass: the new nodes go right before their merges; every index is renumbered.
  std::vector<int> new_index(nodes.size(), -1);
  std::vector<NodeSpec> out;
  out.reserve(nodes.size() + merges);
  auto renumber = [&](int i) { return i < 0 ? i : new_index[size_t(i)]; };
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeSpec n = std::move(nodes[i]);
    for (int& in : n.inputs) in = renumber(in);
    if (p[i] > 0) {
      NodeSpec d;
      d.name = drop_path_name(n.name);
      d.type = "drop_path";
      d.args = LayerArgs(d.name, d.type, n.args.loc());
      d.args.set("p", ArgValue{{format_double(p[i])}, false, n.args.loc()});
      d.inputs = {n.inputs[0]};
      out.push_back(std::move(d));
      n.inputs[0] = static_cast<int>(out.size()) - 1;
    }
    new_index[i] = static_cast<int>(out.size());
    out.push_back(std::move(n));
  }
  for (HeadSpec& h : model.heads) h.node = renumber(h.node);
  nodes = std::move(out);
}

}  // namespace cnn::cfg

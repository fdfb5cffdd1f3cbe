#pragma once
// What a Net needs in memory as it is planned, node by node: parameters (value and gradient),
// buffers, and each node's activation and its gradient at the planned batch size. Checked against
// the memory budget (core/memory_budget.h) after each node, so a model or input too large for the
// machine is refused with the size it would need before the allocation that would fail.
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/layer.h"

namespace cnn {

class MemoryPlan {
 public:
  MemoryPlan(std::string model, int64_t batch) : model_(std::move(model)), batch_(batch) {}
  // Adds one node (its parameters are already allocated; its activation is about to be) and
  // throws MemoryBudgetError when the total so far exceeds the budget.
  void add_node(const std::vector<Param*>& params, const std::vector<Buffer*>& buffers, const Shape& out,
                const std::string& node);

 private:
  std::string model_;
  int64_t batch_;
  double param_bytes_ = 0, activation_bytes_ = 0;
};

}  // namespace cnn

#pragma once
// `$` expressions in block bodies: `$width`, `$width*4`, `($c3r+1)//2`, `$out/2`.
// Arithmetic: + - * / // % with parentheses and unary minus on ints and floats, Python rules:
// ints stay ints (`/` of ints that divides exactly is an int, otherwise a float), `//` floors,
// `%` takes the sign of the divisor. No YAML here: the caller supplies variable values as text.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cnn::cfg {

// A malformed expression, a non-numeric operand, division by zero, overflow. The caller adds
// the location.
class ExpressionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "$name" (the whole text, surrounding blanks allowed) -> "name"; anything else -> nullopt.
std::optional<std::string> bare_variable(std::string_view text);

// Evaluates an arithmetic expression. `lookup(name)` returns a variable's value as text (an int
// or float literal) and may throw its own error for unknown or non-scalar variables.
// Returns an int ("12") or a float ("0.5", "2.0").
std::string evaluate_expression(std::string_view text,
                                const std::function<std::string(const std::string&)>& lookup);

}  // namespace cnn::cfg

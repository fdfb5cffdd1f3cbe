// $-expression arithmetic (config/expression.h).
#include <catch2/catch.hpp>

#include <map>

#include "config/expression.h"

using cnn::cfg::bare_variable;
using cnn::cfg::evaluate_expression;
using cnn::cfg::ExpressionError;

namespace {

std::string eval(const std::string& text) {
  std::map<std::string, std::string> vars = {{"w", "64"}, {"c3r", "96"}, {"out", "15"}, {"f", "0.5"},
                                             {"neg", "-7"}, {"act", "relu"}};
  return evaluate_expression(text, [&](const std::string& name) {
    auto it = vars.find(name);
    if (it == vars.end()) throw ExpressionError("unknown $" + name);
    return it->second;
  });
}

}  // namespace

TEST_CASE("expression: integer arithmetic stays integer", "[config][expression]") {
  CHECK(eval("$w*4") == "256");
  CHECK(eval("$w * 4 + 1") == "257");
  CHECK(eval("($c3r+1)//2") == "48");
  CHECK(eval("$w/2") == "32");        // exact division of ints is an int
  CHECK(eval("-$w") == "-64");
  CHECK(eval("2*(3+4)-1") == "13");
  CHECK(eval("$out % 4") == "3");
  CHECK(eval("$neg // 2") == "-4");   // floor, like Python
  CHECK(eval("$neg % 3") == "2");     // sign of the divisor, like Python
  CHECK(eval("--3") == "3");
}

TEST_CASE("expression: floats", "[config][expression]") {
  CHECK(eval("$out/2") == "7.5");     // inexact division of ints is a float
  CHECK(eval("$f*2") == "1.0");       // a float stays a float even when whole
  CHECK(eval("$w*0.25") == "16.0");
  CHECK(eval("1e-4*10") == "0.001");
  CHECK(eval("7.0//2") == "3.0");
}

TEST_CASE("expression: errors", "[config][expression]") {
  CHECK_THROWS_WITH(eval("$w/0"), Catch::Contains("division by zero"));
  CHECK_THROWS_WITH(eval("$w %0"), Catch::Contains("division by zero"));
  CHECK_THROWS_WITH(eval("$w*"), Catch::Contains("unexpected end"));
  CHECK_THROWS_WITH(eval("($w+1"), Catch::Contains("missing ')'"));
  CHECK_THROWS_WITH(eval("$w 4"), Catch::Contains("unexpected '4'"));
  CHECK_THROWS_WITH(eval("$act*2"), Catch::Contains("variable '$act' is 'relu', not a number"));
  CHECK_THROWS_WITH(eval("$nope+1"), Catch::Contains("unknown $nope"));
  CHECK_THROWS_WITH(eval("$ + 1"), Catch::Contains("'$' must be followed by a variable name"));
  CHECK_THROWS_WITH(eval("9223372036854775807+1"), Catch::Contains("overflow"));
}

TEST_CASE("expression: bare variables", "[config][expression]") {
  CHECK(bare_variable("$width") == std::optional<std::string>("width"));
  CHECK(bare_variable(" $w_2 ") == std::optional<std::string>("w_2"));
  CHECK_FALSE(bare_variable("$w*2"));
  CHECK_FALSE(bare_variable("w"));
  CHECK_FALSE(bare_variable("$2w"));
}

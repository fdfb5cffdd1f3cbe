#include "config/expression.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include "config/yaml_util.h"

namespace cnn::cfg {

namespace {

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

struct Num {
  bool is_int = true;
  int64_t i = 0;
  double f = 0;
  double as_float() const { return is_int ? static_cast<double>(i) : f; }
};

Num make_int(int64_t v) { return Num{true, v, 0}; }
Num make_float(double v) { return Num{false, 0, v}; }

// An int or float literal filling the whole text; nullopt otherwise.
std::optional<Num> parse_number(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  const char* end = s.data() + s.size();
  int64_t iv = 0;
  auto r = std::from_chars(s.data(), end, iv);
  if (r.ec == std::errc() && r.ptr == end) return make_int(iv);
  double dv = 0;
  auto rf = std::from_chars(s.data(), end, dv);
  if (rf.ec == std::errc() && rf.ptr == end && std::isfinite(dv)) return make_float(dv);
  return std::nullopt;
}

class Parser {
 public:
  Parser(std::string_view text, const std::function<std::string(const std::string&)>& lookup)
      : s_(text), lookup_(lookup) {}

  Num parse() {
    Num v = expr();
    skip();
    if (pos_ < s_.size()) fail("unexpected '" + std::string(s_.substr(pos_)) + "'");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ExpressionError("invalid expression '" + std::string(s_) + "': " + what);
  }
  void skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }

  Num expr() {
    Num v = term();
    for (;;) {
      if (eat("+")) v = add(v, term(), false);
      else if (eat("-")) v = add(v, term(), true);
      else return v;
    }
  }
  Num term() {
    Num v = unary();
    for (;;) {
      if (eat("//")) v = floordiv(v, unary());
      else if (eat("/")) v = div(v, unary());
      else if (eat("*")) v = mul(v, unary());
      else if (eat("%")) v = mod(v, unary());
      else return v;
    }
  }
  Num unary() {
    if (eat("-")) {
      Num v = unary();
      if (!v.is_int) return make_float(-v.f);
      if (v.i == INT64_MIN) fail("integer overflow");
      return make_int(-v.i);
    }
    if (eat("+")) return unary();
    return primary();
  }
  Num primary() {
    skip();
    if (pos_ >= s_.size()) fail("unexpected end");
    char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      Num v = expr();
      if (!eat(")")) fail("missing ')'");
      return v;
    }
    if (c == '$') {
      ++pos_;
      size_t start = pos_;
      while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
      if (start == pos_ || !is_ident_start(s_[start])) fail("'$' must be followed by a variable name");
      std::string name(s_.substr(start, pos_ - start));
      std::string value = lookup_(name);
      auto n = parse_number(value);
      if (!n) throw ExpressionError("variable '$" + name + "' is '" + value + "', not a number, in '" + std::string(s_) + "'");
      return *n;
    }
    if ((c >= '0' && c <= '9') || c == '.') {
      size_t start = pos_;
      while (pos_ < s_.size() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.')) ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
        size_t save = pos_++;
        if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
        if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
          while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        } else {
          pos_ = save;
        }
      }
      auto n = parse_number(s_.substr(start, pos_ - start));
      if (!n) fail("bad number '" + std::string(s_.substr(start, pos_ - start)) + "'");
      return *n;
    }
    fail("unexpected '" + std::string(s_.substr(pos_)) + "'");
  }

  Num add(Num a, Num b, bool sub) {
    if (a.is_int && b.is_int) {
      int64_t r;
      if (sub ? __builtin_sub_overflow(a.i, b.i, &r) : __builtin_add_overflow(a.i, b.i, &r)) fail("integer overflow");
      return make_int(r);
    }
    return make_float(sub ? a.as_float() - b.as_float() : a.as_float() + b.as_float());
  }
  Num mul(Num a, Num b) {
    if (a.is_int && b.is_int) {
      int64_t r;
      if (__builtin_mul_overflow(a.i, b.i, &r)) fail("integer overflow");
      return make_int(r);
    }
    return make_float(a.as_float() * b.as_float());
  }
  void check_zero(const Num& b) {
    if (b.as_float() == 0.0) fail("division by zero");
  }
  Num div(Num a, Num b) {
    check_zero(b);
    if (a.is_int && b.is_int && !(a.i == INT64_MIN && b.i == -1) && a.i % b.i == 0) return make_int(a.i / b.i);
    return make_float(a.as_float() / b.as_float());
  }
  Num floordiv(Num a, Num b) {
    check_zero(b);
    if (a.is_int && b.is_int) {
      if (a.i == INT64_MIN && b.i == -1) fail("integer overflow");
      int64_t q = a.i / b.i;
      if ((a.i % b.i != 0) && ((a.i < 0) != (b.i < 0))) --q;
      return make_int(q);
    }
    return make_float(std::floor(a.as_float() / b.as_float()));
  }
  Num mod(Num a, Num b) {
    check_zero(b);
    if (a.is_int && b.is_int) {
      if (b.i == -1) return make_int(0);
      int64_t r = a.i % b.i;
      if (r != 0 && ((r < 0) != (b.i < 0))) r += b.i;
      return make_int(r);
    }
    double x = a.as_float(), y = b.as_float();
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return make_float(r);
  }

  std::string_view s_;
  size_t pos_ = 0;
  const std::function<std::string(const std::string&)>& lookup_;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> bare_variable(std::string_view text) {
  text = trim(text);
  if (text.size() < 2 || text[0] != '$' || !is_ident_start(text[1])) return std::nullopt;
  for (size_t i = 2; i < text.size(); ++i)
    if (!is_ident_char(text[i])) return std::nullopt;
  return std::string(text.substr(1));
}

std::string evaluate_expression(std::string_view text,
                                const std::function<std::string(const std::string&)>& lookup) {
  Num v = Parser(text, lookup).parse();
  if (v.is_int) return std::to_string(v.i);
  if (!std::isfinite(v.f)) throw ExpressionError("expression '" + std::string(text) + "' overflows");
  return format_double(v.f);
}

}  // namespace cnn::cfg

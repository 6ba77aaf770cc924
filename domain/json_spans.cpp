#include "domain/json_spans.hpp"

#include <nlohmann/json.hpp>

namespace wallet::domain {
namespace {

class MemberSpans {
 public:
  MemberSpans(const std::string& text, const std::string& array, const std::string& member)
      : s_(text), array_(array), member_(member) {}

  std::vector<std::string> texts() {
    std::vector<std::string> out;
    space();
    if (!eat('{')) return out;
    while (space(), more() && !eat('}')) {
      const std::string key = string_token();
      space();
      eat(':');
      space();
      if (key == array_ && peek() == '[') {
        out.clear();
        ++i_;
        while (space(), more() && !eat(']')) {
          out.push_back(element_member());
          space();
          eat(',');
        }
      } else {
        skip_value();
      }
      space();
      eat(',');
    }
    return out;
  }

 private:
  std::string element_member() {
    if (peek() != '{') {
      skip_value();
      return "";
    }
    ++i_;
    std::string text;
    while (space(), more() && !eat('}')) {
      const std::string key = string_token();
      space();
      eat(':');
      space();
      const size_t start = i_;
      skip_value();
      if (key == member_) text = s_.substr(start, i_ - start);
      space();
      eat(',');
    }
    return text;
  }

  // Input left, and the last step moved (on malformed text: stop rather than spin).
  bool more() {
    const bool moved = i_ != last_;
    last_ = i_;
    return i_ < s_.size() && moved;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void space() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }
  void skip_string() {
    ++i_;  // the opening quote
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    ++i_;
  }
  std::string string_token() {
    const size_t start = i_;
    if (peek() != '"') return "";
    skip_string();
    auto key = nlohmann::json::parse(s_.substr(start, i_ - start), nullptr, false);
    return key.is_string() ? key.get<std::string>() : "";
  }
  void skip_value() {
    const char c = peek();
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') {
      int depth = 0;
      while (i_ < s_.size()) {
        const char d = s_[i_];
        if (d == '"') {
          skip_string();
          continue;
        }
        ++i_;
        if (d == '{' || d == '[') ++depth;
        if ((d == '}' || d == ']') && --depth == 0) return;
      }
      return;
    }
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
           s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '\t') {
      ++i_;
    }
  }

  const std::string& s_;
  const std::string& array_;
  const std::string& member_;
  size_t i_ = 0;
  size_t last_ = static_cast<size_t>(-1);
};

}  // namespace

std::vector<std::string> member_texts(const std::string& text, const std::string& array,
                                      const std::string& member) {
  return MemberSpans(text, array, member).texts();
}

}  // namespace wallet::domain

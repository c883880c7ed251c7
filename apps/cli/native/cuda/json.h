// Minimal JSON reader/writer for the prover's line protocol and the shared test-vector fixture.
// Only what those documents use: objects, arrays, strings (ASCII escapes), numbers, booleans, null.
#pragma once
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

struct JVal {
  enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<JVal> arr;
  std::vector<std::pair<std::string, JVal>> obj;

  const JVal* get(const std::string& key) const {
    for (const auto& kv : obj)
      if (kv.first == key) return &kv.second;
    return nullptr;
  }
  const JVal& at(const std::string& key) const {
    const JVal* v = get(key);
    if (!v) throw std::runtime_error("missing field: " + key);
    return *v;
  }
  const std::string& s(const std::string& key) const {
    const JVal& v = at(key);
    if (v.kind != Str) throw std::runtime_error("field is not a string: " + key);
    return v.str;
  }
  long long i(const std::string& key) const {
    const JVal& v = at(key);
    if (v.kind != Num || v.num != (double)(long long)v.num) throw std::runtime_error("field is not an integer: " + key);
    return (long long)v.num;
  }
};

class JParser {
 public:
  explicit JParser(const std::string& text) : p_(text.c_str()), end_(text.c_str() + text.size()) {}
  JVal parse() {
    JVal v = value();
    ws();
    if (p_ != end_) fail("trailing characters");
    return v;
  }

 private:
  const char* p_;
  const char* end_;
  [[noreturn]] void fail(const char* why) { throw std::runtime_error(std::string("bad JSON: ") + why); }
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool lit(const char* word) {
    size_t len = std::char_traits<char>::length(word);
    if ((size_t)(end_ - p_) >= len && std::string(p_, len) == word) {
      p_ += len;
      return true;
    }
    return false;
  }
  JVal value() {
    ws();
    if (p_ >= end_) fail("unexpected end");
    JVal v;
    char c = *p_;
    if (c == '{') {
      v.kind = JVal::Obj;
      ++p_;
      ws();
      if (p_ < end_ && *p_ == '}') { ++p_; return v; }
      for (;;) {
        ws();
        if (p_ >= end_ || *p_ != '"') fail("expected key");
        std::string key = string();
        ws();
        if (p_ >= end_ || *p_ != ':') fail("expected ':'");
        ++p_;
        v.obj.emplace_back(key, value());
        ws();
        if (p_ < end_ && *p_ == ',') { ++p_; continue; }
        if (p_ < end_ && *p_ == '}') { ++p_; return v; }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = JVal::Arr;
      ++p_;
      ws();
      if (p_ < end_ && *p_ == ']') { ++p_; return v; }
      for (;;) {
        v.arr.push_back(value());
        ws();
        if (p_ < end_ && *p_ == ',') { ++p_; continue; }
        if (p_ < end_ && *p_ == ']') { ++p_; return v; }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') { v.kind = JVal::Str; v.str = string(); return v; }
    if (lit("true")) { v.kind = JVal::Bool; v.b = true; return v; }
    if (lit("false")) { v.kind = JVal::Bool; return v; }
    if (lit("null")) return v;
    char* stop = nullptr;
    v.num = std::strtod(p_, &stop);
    if (stop == p_) fail("unexpected character");
    v.kind = JVal::Num;
    p_ = stop;
    return v;
  }
  std::string string() {
    ++p_;  // opening quote
    std::string out;
    while (p_ < end_ && *p_ != '"') {
      char c = *p_++;
      if (c != '\\') { out += c; continue; }
      if (p_ >= end_) fail("bad escape");
      char e = *p_++;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (end_ - p_ < 4) fail("bad \\u escape");
          unsigned code = std::strtoul(std::string(p_, 4).c_str(), nullptr, 16);
          p_ += 4;
          out += code < 0x80 ? (char)code : '?';
          break;
        }
        default: fail("bad escape");
      }
    }
    if (p_ >= end_) fail("unterminated string");
    ++p_;
    return out;
  }
};

inline std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') { out += '\\'; out += c; }
    else if ((unsigned char)c < 0x20) { char buf[8]; snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out += c;
  }
  return out + "\"";
}

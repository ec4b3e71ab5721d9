// Configuration problems, collected and reported all at once in compiler style.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct Diagnostic {
  std::string file;  // file name, or a description of where the setting came from ("--set a.b=c")
  int line = 0;      // 1-based; 0 when the position is unknown
  int column = 0;    // 1-based
  std::string path;  // where in the document: "nodes[2] (price).currency"
  std::string message;

  std::string to_string() const;  // "file:line:col: path: message"
};

class Diagnostics {
 public:
  void add(Diagnostic d) { items_.push_back(std::move(d)); }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Every diagnostic on its own line, ordered by file and position.
  std::string format() const;

 private:
  std::vector<Diagnostic> items_;
};

// text with control characters written as \n, \r, \t or \xNN, and bytes that are not UTF-8 as \xNN.
std::string escape_control(std::string_view text);

// The closest candidate to `word` when it is near enough to be a likely typo, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// Levenshtein distance in bytes.
std::size_t edit_distance(const std::string& a, const std::string& b);

}  // namespace sluice

// Conformance test: every *.csv under the conformance folder against its <name>.expected.json.
//
// The folder comes from SLUICE_CONFORMANCE_DIR, else SLUICE_SOURCE_DIR/../shared/conformance. A missing
// or empty folder fails the run, so a broken checkout cannot pass by testing nothing.
#include "nodes/source/csv_reader.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> conformance_dir() {
  if (const char* env = std::getenv("SLUICE_CONFORMANCE_DIR"); env != nullptr && *env != '\0') return fs::path(env);
#ifdef SLUICE_SOURCE_DIR
  return (fs::path(SLUICE_SOURCE_DIR) / ".." / "shared" / "conformance").lexically_normal();
#else
  return std::nullopt;
#endif
}

std::vector<fs::path> conformance_cases() {
  std::vector<fs::path> cases;
  const auto dir = conformance_dir();
  std::error_code ec;
  if (!dir || !fs::is_directory(*dir, ec)) return cases;
  for (auto it = fs::recursive_directory_iterator(*dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".csv") cases.push_back(it->path());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string case_name(const fs::path& csv) {
  const auto dir = conformance_dir();
  std::string name = (dir ? csv.lexically_relative(*dir) : csv.filename()).replace_extension().string();
  for (char& c : name) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!word) c = '_';
  }
  return name;
}

using ErrorSet = std::set<std::pair<std::uint64_t, std::string>>;

struct Expectation {
  CsvDialect dialect;
  bool header_row = true;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::uint64_t> row_lines;
};

struct Outcome {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::uint64_t> row_lines;
  ErrorSet errors;
  std::uint64_t consumed = 0;
};

std::vector<std::string> strings_of(simdjson::dom::array array) {
  std::vector<std::string> out;
  for (simdjson::dom::element value : array) out.emplace_back(std::string_view(value));
  return out;
}

char single_char(std::string_view text, std::string_view what) {
  if (text.empty()) return '\0';
  if (text.size() != 1) ADD_FAILURE() << "unsupported " << what << " in expected JSON: " << text;
  return text.front();
}

// The fixture vocabulary names one kind differently from the reader's codes.
std::string reader_kind(std::string_view kind) {
  if (kind == "quote_in_unquoted_field") return std::string(to_string(CsvErrorCode::stray_quote));
  return std::string(kind);
}

ErrorSet errors_of(simdjson::dom::element doc, const char* key) {
  ErrorSet errors;
  simdjson::dom::array list;
  if (doc[key].get(list) != simdjson::SUCCESS) return errors;
  for (simdjson::dom::element error : list) {
    errors.emplace(std::uint64_t(error["line"]), reader_kind(std::string_view(error["kind"])));
  }
  return errors;
}

Outcome run_reader(const fs::path& csv, const Expectation& expected, std::size_t chunk_size) {
  Outcome outcome;
  std::ifstream in(csv, std::ios::binary);
  EXPECT_TRUE(in.is_open()) << csv;
  CsvReader reader(in, expected.dialect, chunk_size);
  CsvRecord record;
  bool first = true;
  while (reader.next(record)) {
    if (record.error != CsvErrorCode::none) {
      outcome.errors.emplace(record.line, std::string(to_string(record.error)));
    } else if (first && expected.header_row) {
      outcome.header = record.fields;
    } else {
      outcome.rows.push_back(record.fields);
      outcome.row_lines.push_back(record.line);
    }
    first = false;
  }
  outcome.consumed = reader.bytes_consumed();
  return outcome;
}

// Rows on lines that are expected to be errors are left out of the comparison.
void check(const fs::path& csv, const Expectation& expected, const ErrorSet& expected_errors, std::string_view mode) {
  std::set<std::uint64_t> error_lines;
  for (const auto& error : expected_errors) error_lines.insert(error.first);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::uint64_t> row_lines;
  for (std::size_t i = 0; i < expected.rows.size(); ++i) {
    const std::uint64_t line = i < expected.row_lines.size() ? expected.row_lines[i] : 0;
    if (error_lines.count(line) != 0) continue;
    rows.push_back(expected.rows[i]);
    row_lines.push_back(line);
  }
  for (const std::size_t chunk_size : {std::size_t{1}, std::size_t{2}, std::size_t{3}, CsvReader::default_chunk_size}) {
    SCOPED_TRACE(std::string(mode) + " reader, chunk size " + std::to_string(chunk_size));
    const Outcome got = run_reader(csv, expected, chunk_size);
    EXPECT_EQ(got.header, expected.header);
    EXPECT_EQ(got.rows, rows);
    EXPECT_EQ(got.row_lines, row_lines);
    EXPECT_EQ(got.errors, expected_errors);
    EXPECT_EQ(got.consumed, fs::file_size(csv));
  }
}

class CsvConformanceTest : public ::testing::TestWithParam<fs::path> {};

TEST_P(CsvConformanceTest, MatchesExpectedJson) {
  const fs::path csv = GetParam();
  fs::path json = csv;
  json.replace_extension(".expected.json");
  ASSERT_TRUE(fs::exists(json)) << "no expectation for " << csv;

  simdjson::dom::parser parser;
  try {
    const simdjson::dom::element doc = parser.load(json.string());
    Expectation expected;
    const simdjson::dom::element dialect = doc["dialect"];
    expected.dialect.delimiter = single_char(std::string_view(dialect["delimiter"]), "delimiter");
    expected.dialect.quote = single_char(std::string_view(dialect["quote"]), "quote");
    const std::string_view escape(dialect["escape"]);
    expected.dialect.escape = escape == "doubled quote" ? '\0' : single_char(escape, "escape");
    const std::string_view encoding(dialect["encoding"]);
    ASSERT_EQ(encoding, "utf-8") << "the reader only decodes UTF-8";
    expected.header_row = bool(dialect["header_row"]);
    if (expected.header_row) expected.header = strings_of(doc["header"]);
    for (simdjson::dom::element row : simdjson::dom::array(doc["rows"])) expected.rows.push_back(strings_of(row));
    for (simdjson::dom::element line : simdjson::dom::array(doc["row_lines"])) {
      expected.row_lines.push_back(std::uint64_t(line));
    }
    ASSERT_EQ(expected.rows.size(), expected.row_lines.size()) << "row_lines must give one line per row";

    const std::string_view verdict(doc["verdict"]);
    if (verdict == "accept") {
      check(csv, expected, errors_of(doc, "errors"), "strict");
    } else if (verdict == "implementation-defined") {
      Expectation lenient = expected;
      lenient.dialect.allow_bare_quotes = true;
      check(csv, lenient, errors_of(doc, "errors"), "lenient");
      check(csv, expected, errors_of(doc, "errors_if_strict_reader"), "strict");
    } else {
      FAIL() << "unknown verdict '" << verdict << "' in " << json;
    }
  } catch (const simdjson::simdjson_error& error) {
    FAIL() << "cannot read " << json << ": " << error.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Spectrum, CsvConformanceTest, ::testing::ValuesIn(conformance_cases()),
                         [](const ::testing::TestParamInfo<fs::path>& param) { return case_name(param.param); });

TEST(CsvConformance, FolderHoldsCases) {
  const auto dir = conformance_dir();
  ASSERT_TRUE(dir.has_value()) << "set SLUICE_CONFORMANCE_DIR or compile with SLUICE_SOURCE_DIR";
  ASSERT_TRUE(fs::is_directory(*dir)) << "conformance folder missing: " << *dir;
  EXPECT_FALSE(conformance_cases().empty()) << "no *.csv cases under " << *dir;
}

}  // namespace
}  // namespace sluice

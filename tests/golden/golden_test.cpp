// Golden tests: each folder under tests/golden/cases is one run, compared byte for byte.
//
// A case holds supplier.yaml, input.<ext>, expected.ndjson and expected_rejects.ndjson, and may hold
// graph.yaml (default: graphs/products_to_file.yaml) and `overrides` (one --set key=value per line, where
// ${SOURCE_DIR} is the source tree and ${OUT} the run's output folder). A graph with several sinks
// compares each expected_<name>.<ext> with ${OUT}/<name>.<ext>; expected.ndjson is the sink `out`.
// The example suppliers' cases link to config/suppliers and its samples, so the shipped examples are
// what is tested. SLUICE_UPDATE_GOLDEN=1 rewrites the expected files from the current output; review
// the diff before committing it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "runtime/pipeline.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;

fs::path cases_dir() {
  return fs::path(test::source_dir()) / "tests" / "golden" / "cases";
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(cases_dir()))
    if (e.is_directory()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, MatchesExpectedOutputAndRejects) {
  fs::path dir = cases_dir() / GetParam();
  test::TempDir tmp;
  fs::path graph = fs::exists(dir / "graph.yaml") ? dir / "graph.yaml"
                                                  : fs::path(test::source_dir()) / "graphs" / "products_to_file.yaml";
  // Outputs to compare: expected file -> what the run wrote.
  std::vector<std::pair<fs::path, std::string>> outputs;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name == "expected.ndjson")
      outputs.emplace_back(e.path(), tmp.file("out.ndjson"));
    else if (name.rfind("expected_", 0) == 0 && name != "expected_rejects.ndjson")
      outputs.emplace_back(e.path(), tmp.file(name.substr(9)));
  }
  std::sort(outputs.begin(), outputs.end());
  PipelineOptions options{graph.string(), (dir / "supplier.yaml").string(), {{"run.threads", "2"}}};
  if (fs::exists(dir / "expected.ndjson")) options.overrides.emplace_back("nodes.out.path", tmp.file("out.ndjson"));
  if (fs::exists(dir / "overrides")) {
    std::istringstream lines(test::read_file((dir / "overrides").string()));
    auto expand = [&](std::string v) {
      for (const auto& [var, value] : {std::pair<std::string, std::string>{"${SOURCE_DIR}", test::source_dir()},
                                       std::pair<std::string, std::string>{"${OUT}", tmp.path().string()}})
        for (auto at = v.find(var); at != std::string::npos; at = v.find(var)) v.replace(at, var.size(), value);
      return v;
    };
    for (std::string line; std::getline(lines, line);) {
      auto eq = line.find('=');
      ASSERT_NE(eq, std::string::npos) << "overrides: expected key=value, got " << line;
      options.overrides.emplace_back(line.substr(0, eq), expand(line.substr(eq + 1)));
    }
  }
  fs::path input;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().stem() == "input") input = e.path();
  ASSERT_FALSE(input.empty()) << "no input.<ext> in " << dir;
  Diagnostics diags;
  auto pipeline = load_pipeline(options, diags);
  ASSERT_TRUE(diags.empty()) << diags.format();
  RunOptions run{.input = input.string(), .rejects_path = tmp.file("rejects.ndjson")};
  RunOutcome outcome = run_pipeline(*pipeline, run);
  EXPECT_EQ(outcome.code, ExitCode::success) << outcome.error;
  EXPECT_TRUE(outcome.flow.identity_holds());

  ASSERT_FALSE(outputs.empty()) << "no expected output in " << dir;
  // Messages that name a file given by ${SOURCE_DIR} name it relative to the source tree, wherever that is.
  auto relative = [](std::string text) {
    const std::string prefix = test::source_dir() + "/";
    for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at)) text.erase(at, prefix.size());
    return text;
  };
  std::string rejects = relative(test::read_file(tmp.file("rejects.ndjson")));
  std::size_t records = 0;  // lines of every output, less a CSV output's header
  for (const auto& [expected, written] : outputs) {
    std::string out = relative(test::read_file(written));
    if (std::getenv("SLUICE_UPDATE_GOLDEN")) test::write_file(expected.string(), out);
    EXPECT_EQ(out, test::read_file(expected.string())) << expected.filename();
    records += std::count(out.begin(), out.end(), '\n') - (expected.extension() == ".csv" && !out.empty() ? 1 : 0);
  }
  if (std::getenv("SLUICE_UPDATE_GOLDEN")) test::write_file((dir / "expected_rejects.ndjson").string(), rejects);
  EXPECT_EQ(rejects, test::read_file((dir / "expected_rejects.ndjson").string()));
  std::size_t reject_lines = std::count(rejects.begin(), rejects.end(), '\n');
  EXPECT_EQ(records, outcome.flow.sink.written);
  EXPECT_EQ(reject_lines, outcome.flow.rejected + outcome.flow.side_rejected);
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(case_names()), [](const auto& p) { return p.param; });

}  // namespace
}  // namespace sluice

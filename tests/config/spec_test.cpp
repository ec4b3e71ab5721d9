// Spec checks: unknown keys, missing keys, types and ranges, each with its position.
#include "config/spec.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const ObjectSpec& sample_spec() {
  static const ObjectSpec inner{{{"depth", Kind::integer, "depth", false, "1", 0, 10}}};
  static const ObjectSpec spec{{
      {"name", Kind::string, "a name", true},
      {"count", Kind::integer, "a count", false, "5", 1, 100},
      {"mode", Kind::choice, "a mode", false, "fast", {}, {}, {"fast", "slow"}},
      {"ratio", Kind::decimal, "a ratio", false, "0.5"},
      {"on", Kind::boolean, "a switch", false, "false"},
      {"sep", Kind::character, "a separator", false, "','"},
      {"tags", Kind::string_list, "tags"},
      {"inner", Kind::object, "nested", false, "", {}, {}, {}, &inner},
  }};
  return spec;
}

Diagnostics check(const std::string& yaml) {
  Document doc = test::parse_document(yaml, "s.yaml");
  Diagnostics diags;
  check_object(doc, doc.root(), sample_spec(), "", diags);
  return diags;
}

TEST(Spec, AcceptsAValidObject) {
  auto d = check("name: x\ncount: 7\nmode: slow\nratio: 0.25\non: yes\nsep: tab\ntags: [a, b]\ninner: {depth: 3}\n");
  EXPECT_TRUE(d.empty()) << d.format();
}

TEST(Spec, ReportsAllProblemsAtOnceWithPositions) {
  auto d = check("count: 1000\nmod: slow\nratio: 1e5\ninner:\n  depht: 2\n");
  std::string text = d.format();
  EXPECT_EQ(d.size(), 5u) << text;
  EXPECT_NE(text.find("s.yaml:1:8: count: value 1000 is out of range: must be between 1 and 100"), std::string::npos)
      << text;
  EXPECT_NE(text.find("s.yaml:2:1: mod: unknown key 'mod' (did you mean 'mode'?)"), std::string::npos) << text;
  EXPECT_NE(text.find("s.yaml:3:8: ratio: expected a decimal number, got '1e5'"), std::string::npos) << text;
  EXPECT_NE(text.find("s.yaml:5:3: inner.depht: unknown key 'depht' (did you mean 'depth'?)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("name: missing required key 'name'"), std::string::npos) << text;
}

TEST(Spec, ReportsWrongKinds) {
  auto d = check("name: [1, 2]\non: maybe\nsep: ab\nmode: fsat\ninner: 3\n");
  std::string text = d.format();
  EXPECT_EQ(d.size(), 5u) << text;
  EXPECT_NE(text.find("s.yaml:1:7: name: expected string, got a list"), std::string::npos) << text;
  EXPECT_NE(text.find("s.yaml:2:5: on: expected true or false, got 'maybe'"), std::string::npos) << text;
  EXPECT_NE(text.find("s.yaml:4:7: mode: unknown value 'fsat' (expected one of: fast, slow) (did you mean 'fast'?)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("s.yaml:5:8: inner: expected a map, got a scalar"), std::string::npos) << text;
}

TEST(Spec, SettingsFallBackToDefaults) {
  Document doc = test::parse_document("name: x\ncount: 9\n");
  Settings s(doc.root(), &sample_spec());
  EXPECT_EQ(s.string("name"), "x");
  EXPECT_EQ(s.integer("count"), 9);
  EXPECT_EQ(s.string("mode"), "fast");
  EXPECT_EQ(s.decimal("ratio")->to_string(), "0.5");
  EXPECT_FALSE(s.boolean("on"));
  EXPECT_EQ(s.character("sep"), ',');
  EXPECT_THROW(s.string("nope"), std::logic_error);
}

TEST(Spec, ParsesCharactersAndIntegersStrictly) {
  EXPECT_EQ(parse_character("\\t"), '\t');
  EXPECT_EQ(parse_character("semicolon"), ';');
  EXPECT_FALSE(parse_character("ab"));
  EXPECT_EQ(parse_int("42"), 42);
  EXPECT_FALSE(parse_int("4x"));
  EXPECT_FALSE(parse_int("99999999999999999999"));
  EXPECT_FALSE(parse_int(""));
}

}  // namespace
}  // namespace sluice

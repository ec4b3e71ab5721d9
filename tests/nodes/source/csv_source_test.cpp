// csv_source: header mapping by name, nulls, trimming, ragged rows and start-up errors.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: EUR
feed: {delimiter: ";", null_values: ["", "-"], trim: true}
fields:
  sku: {column: SKU}
  price: {column: Price}
)";

struct Source {
  std::unique_ptr<test::SupplierFixture> supplier;
  Schema schema;
  test::BuiltNode node;
  test::TempDir dir;
  SourceNode& body() { return *std::get<std::unique_ptr<SourceNode>>(node.body); }

  explicit Source(const std::string& feed, const std::string& supplier_yaml = kSupplier)
      : supplier(test::load_supplier(supplier_yaml)),
        node(test::build_node("id: read\ntype: csv_source\n", *supplier, schema)) {
    test::write_file(dir.file("feed.csv"), feed);
  }
  void open() { body().open(RunContext{.input = dir.file("feed.csv")}); }
  // The diagnostics open() stops with; a test failure (and "") when it does not stop.
  std::string startup_error() {
    try {
      open();
    } catch (const StartupError& e) {
      return e.diagnostics().format();
    }
    ADD_FAILURE() << "expected a StartupError";
    return {};
  }
};

TEST(CsvSource, MapsColumnsByHeaderNameNotPosition) {
  Source s("\xEF\xBB\xBFName;Price;SKU\r\nHammer; 9.50 ;A1\r\nRake;-;A2\r\n");
  s.open();
  Batch b;
  ASSERT_TRUE(s.body().next(b, 100));
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(std::get<std::string>(b.records[0].values[0]), "A1");
  EXPECT_EQ(std::get<std::string>(b.records[0].values[1]), "9.50");  // trimmed
  EXPECT_TRUE(is_null(b.records[1].values[1]));                      // "-" is a null token
  EXPECT_EQ(b.records[1].line, 3u);
  EXPECT_EQ(b.raw_header->at(2), "SKU");
  Batch end;
  EXPECT_FALSE(s.body().next(end, 100));
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
}

TEST(CsvSource, RejectsRaggedAndBrokenRowsWithTheirLines) {
  Source s("SKU;Price\nA1;1\nA2\nA3;3;x\n\"A4;4\n");
  s.open();
  Batch b;
  while (s.body().next(b, 2)) {
  }
  ASSERT_EQ(b.records.size(), 1u);
  ASSERT_EQ(b.rejects.size(), 3u);
  EXPECT_EQ(b.rejects[0].line, 3u);
  EXPECT_EQ(b.rejects[0].code, "ragged_row");
  EXPECT_EQ(b.rejects[0].message, "row has 1 fields, the header has 2");
  EXPECT_EQ(b.rejects[1].line, 4u);
  EXPECT_EQ(b.rejects[2].line, 5u);
  EXPECT_EQ(b.rejects[2].code, "unterminated_quote");
}

TEST(CsvSource, ReadsInBatchesOfTheRequestedSize) {
  std::string feed = "SKU;Price\n";
  for (int i = 0; i < 25; ++i) feed += "S" + std::to_string(i) + ";1\n";
  Source s(feed);
  s.open();
  std::vector<std::size_t> sizes;
  for (Batch b; s.body().next(b, 10); b = Batch()) sizes.push_back(b.records.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 5}));
}

TEST(CsvSource, MissingColumnIsAStartupErrorWithTheClosestHeader) {
  Source s("Sku;Price\nA;1\n");
  const std::string t = s.startup_error();
  EXPECT_NE(t.find("supplier.yaml:5:17: fields.sku.column: column 'SKU' is not in the header of"), std::string::npos)
      << t;
  EXPECT_NE(t.find("closest header names: 'Sku', 'Price'"), std::string::npos) << t;
}

TEST(CsvSource, EmptyFeedAndMissingFileAreStartupErrors) {
  Source empty("");
  EXPECT_THROW(empty.open(), StartupError);
  Source s("SKU;Price\n");
  EXPECT_THROW(s.body().open(RunContext{.input = "/nonexistent/feed.csv"}), StartupError);
}

TEST(CsvSource, DuplicateMappedHeaderIsAStartupError) {
  Source s("SKU;Price;SKU\nA;1;B\n");
  EXPECT_THROW(s.open(), StartupError);
}

// --- encodings -----------------------------------------------------------------------------------

// Code points of a UTF-8 text (valid input only: the tests write it themselves).
std::vector<char32_t> code_points(const std::string& utf8) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < utf8.size();) {
    auto b = static_cast<unsigned char>(utf8[i]);
    int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::string to_latin1(const std::string& utf8) {
  std::string out;
  for (char32_t cp : code_points(utf8)) {
    if (cp > 0xFF) throw std::invalid_argument("not representable in Latin-1");
    out.push_back(static_cast<char>(cp));
  }
  return out;
}

std::string to_utf16le_with_bom(const std::string& utf8) {
  std::string out = "\xFF\xFE";
  auto unit = [&](char32_t u) {
    out.push_back(static_cast<char>(u & 0xFF));
    out.push_back(static_cast<char>(u >> 8));
  };
  for (char32_t cp : code_points(utf8)) {
    if (cp >= 0x10000) {
      unit(0xD800 + ((cp - 0x10000) >> 10));
      unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

std::string supplier_with_encoding(const std::string& encoding) {
  return "supplier: t\ncurrency: EUR\nfeed: {delimiter: \";\", encoding: " + encoding +
         "}\nfields:\n  sku: {column: Artikelnr}\n  title: {column: Benämning}\n  price: {column: Pris}\n";
}

struct Read {
  std::vector<Record> records;
  std::vector<Reject> rejects;
  std::vector<std::string> header;
};

Read read_all(Source& s) {
  s.open();
  Read out;
  for (Batch b; s.body().next(b, 3); b = Batch()) {
    for (auto& r : b.records) out.records.push_back(std::move(r));
    for (auto& r : b.rejects) out.rejects.push_back(std::move(r));
    out.header = *b.raw_header;
  }
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
  return out;
}

TEST(CsvSourceEncoding, SameFeedInUtf8BomLatin1AndUtf16ProducesIdenticalRecords) {
  const std::string feed =
      "Artikelnr;Benämning;Pris\r\nNL-1;Crème brûlée;12,50\r\nNL-2;\"Größe; «groß»\";3\r\nNL-3;Smørrebrød ñ "
      "Ø;0,99\r\nNL-4;plain;1\r\n";
  Source utf8("\xEF\xBB\xBF" + feed, supplier_with_encoding("utf-8"));
  Source latin1(to_latin1(feed), supplier_with_encoding("latin-1"));
  Source utf16(to_utf16le_with_bom(feed), supplier_with_encoding("utf-16"));
  Read a = read_all(utf8), b = read_all(latin1), c = read_all(utf16);
  ASSERT_EQ(a.records.size(), 4u);
  EXPECT_TRUE(a.rejects.empty() && b.rejects.empty() && c.rejects.empty());
  EXPECT_EQ(std::get<std::string>(a.records[1].values[1]), "Größe; «groß»");
  EXPECT_EQ(a.header, b.header);
  EXPECT_EQ(a.header, c.header);
  for (const Read* other : {&b, &c}) {
    ASSERT_EQ(other->records.size(), a.records.size());
    for (std::size_t i = 0; i < a.records.size(); ++i) {
      EXPECT_EQ(other->records[i].line, a.records[i].line);
      EXPECT_EQ(other->records[i].values, a.records[i].values) << "record " << i;
      EXPECT_EQ(other->records[i].raw, a.records[i].raw) << "record " << i;
    }
  }
}

TEST(CsvSourceEncoding, Windows1252MapsTheEuroSignAndRejectsUndefinedBytes) {
  // The header is Windows-1252 too: the umlaut of "Benämning" is one byte.
  Source s(to_latin1("Artikelnr;Benämning;Pris\n") + "A;Geb\xFChr 5 \x80;1\nB;bad \x81 byte;2\nC;\x93quoted\x94;3\n",
           supplier_with_encoding("windows-1252"));
  Read r = read_all(s);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(std::get<std::string>(r.records[0].values[1]), "Gebühr 5 €");
  EXPECT_EQ(std::get<std::string>(r.records[1].values[1]), "“quoted”");
  ASSERT_EQ(r.rejects.size(), 1u);  // 0x81 has no character in Windows-1252: never stored as something else
  EXPECT_EQ(r.rejects[0].line, 3u);
  EXPECT_EQ(r.rejects[0].code, "invalid_utf8");
  EXPECT_NE(r.rejects[0].message.find("a byte Windows-1252 leaves undefined"), std::string::npos)
      << r.rejects[0].message;
}

TEST(CsvSourceEncoding, ALatin1RowInAUtf8FeedIsRejectedWithAHintAtFeedEncoding) {
  Source s("Artikelnr;Benämning;Pris\nA;Gr\xFCn;1\nB;Grün;2\n", supplier_with_encoding("utf-8"));
  Read r = read_all(s);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(std::get<std::string>(r.records[0].values[1]), "Grün");
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].line, 2u);
  EXPECT_EQ(r.rejects[0].message,
            "invalid UTF-8 at byte 3 of field 2 (if the feed is not UTF-8, set feed.encoding: latin-1, windows-1252 "
            "or utf-16)");
}

TEST(CsvSourceEncoding, ContradictingByteOrderMarksAreStartupErrors) {
  Source utf16_as_utf8(to_utf16le_with_bom("Artikelnr;Benämning;Pris\nA;b;1\n"), supplier_with_encoding("utf-8"));
  std::string t = utf16_as_utf8.startup_error();
  EXPECT_NE(t.find("UTF-16LE byte-order mark but feed.encoding is utf-8"), std::string::npos) << t;
  Source utf8_as_latin1(
      "\xEF\xBB\xBF"
      "Artikelnr;Benämning;Pris\nA;b;1\n",
      supplier_with_encoding("latin-1"));
  EXPECT_THROW(utf8_as_latin1.open(), StartupError);
  // The same feed without its byte-order mark: its "ä" is the UTF-8 pair C3 A4, which Latin-1 would store
  // as "Ã¤", so the run refuses to start instead.
  Source utf8_without_bom_as_latin1("Artikelnr;Benämning;Pris\nA;Grün;1\n", supplier_with_encoding("windows-1252"));
  t = utf8_without_bom_as_latin1.startup_error();
  EXPECT_NE(t.find("feed.encoding is windows-1252 but the feed reads as UTF-8"), std::string::npos) << t;
  Source utf16_without_bom(to_utf16le_with_bom("Artikelnr;Benämning;Pris\n").substr(2),
                           supplier_with_encoding("utf-16"));
  EXPECT_THROW(utf16_without_bom.open(), StartupError);
}

// --- header matching and extra columns --------------------------------------------------------------

TEST(CsvSourceHeaders, LooseMatchingAcceptsMerchantCenterSpellingsAndAliases) {
  const char* yaml = R"(supplier: t
currency: USD
feed: {delimiter: tab, headers: loose, extra_columns: extra}
fields:
  sku: {column: id}
  title: {column: title}
  image: {column: image_link}
  name: {column: product name, aliases: [Name, Produktname]}
)";
  Source s("ID\tTitle [title]\timage link\tProduktname\tcolor\tmpn\nA\tPan\thttps://x.test/a.jpg\tP\tred\t\n", yaml);
  Read r = read_all(s);
  ASSERT_EQ(r.records.size(), 1u);
  const Schema& schema = s.schema;
  auto text = [&](const char* f) { return std::get<std::string>(r.records[0].values[*schema.find(f)]); };
  EXPECT_EQ(text("sku"), "A");
  EXPECT_EQ(text("title"), "Pan");
  EXPECT_EQ(text("image"), "https://x.test/a.jpg");
  EXPECT_EQ(text("name"), "P");
  // Unmapped columns are kept as one JSON object; empty cells are left out.
  EXPECT_EQ(std::get<Json>(r.records[0].values[*schema.find("extra")]).text, R"({"color":"red"})");
}

TEST(CsvSourceHeaders, ExactMatchingIsTheDefaultAndAmbiguityIsAnError) {
  Source exact("ID;Price\nA;1\n",
               "supplier: t\ncurrency: EUR\nfeed: {delimiter: \";\"}\nfields:\n  sku: {column: id}\n");
  EXPECT_THROW(exact.open(), StartupError);
  Source twice("image link;image_link\na;b\n",
               "supplier: t\ncurrency: EUR\nkey: img\nfeed: {delimiter: \";\", headers: loose}\nfields:\n"
               "  img: {column: image_link}\n");
  const std::string t = twice.startup_error();
  EXPECT_NE(t.find("matches more than one header name: 'image link', 'image_link'"), std::string::npos) << t;
}

TEST(CsvSourceHeaders, ARepeatedColumnFeedsOneListField) {
  const char* yaml = R"(supplier: t
currency: USD
feed: {delimiter: tab, headers: loose}
fields:
  sku: {column: id}
  more: {column: additional_image_link, type: list, items: url}
)";
  Source s(
      "id\tadditional image link\tadditional_image_link\tadditional_image_link\n"
      "A\thttps://x.test/1.jpg,https://x.test/2.jpg\t\thttps://x.test/3.jpg\n"
      "B\t\t\t\n"
      "C\t\thttps://x.test/4.jpg\t\n",
      yaml);
  Read r = read_all(s);
  ASSERT_EQ(r.records.size(), 3u);
  std::size_t more = *s.schema.find("more");
  EXPECT_EQ(std::get<std::string>(r.records[0].values[more]),
            "https://x.test/1.jpg,https://x.test/2.jpg,https://x.test/3.jpg");
  EXPECT_TRUE(is_null(r.records[1].values[more]));
  EXPECT_EQ(std::get<std::string>(r.records[2].values[more]), "https://x.test/4.jpg");
}

TEST(CsvSourceHeaders, ExactNamesMatchAsWrittenSpacesIncluded) {
  const char* padded = "supplier: t\ncurrency: EUR\nfeed: {delimiter: \";\"}\nfields:\n  sku: {column: \" sku\"}\n";
  Source s(" sku;sku \nA;B\n", padded);
  Read r = read_all(s);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(std::get<std::string>(r.records[0].values[0]), "A");
  EXPECT_EQ(r.header, (std::vector<std::string>{" sku", "sku "}));  // names as the feed writes them

  Source plain(" sku;Price\nA;1\n");
  const std::string t = plain.startup_error();
  EXPECT_NE(t.find("column 'SKU' is not in the header"), std::string::npos) << t;
  Source near(" SKU ;Price\nA;1\n");
  const std::string u = near.startup_error();
  EXPECT_NE(u.find("(' SKU ' differs only in spaces around it: names match as written unless feed.headers is loose)"),
            std::string::npos)
      << u;

  Source loose(" SKU ;Price\nA;1\n",
               "supplier: t\ncurrency: EUR\nfeed: {delimiter: \";\", headers: loose}\nfields:\n  sku: {column: SKU}\n");
  EXPECT_EQ(read_all(loose).records.size(), 1u);
}

TEST(CsvSourceHeaders, AnEmptyColumnNameIsAConfigurationError) {
  auto supplier = test::load_supplier(
      "supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n  note: {column: \"\"}\n"
      "  size: {column: Size, aliases: [\"\"]}\n");
  ASSERT_TRUE(supplier->diags.empty()) << supplier->diags.format();
  Schema schema;
  test::BuiltNode node = test::build_node("id: read\ntype: csv_source\n", *supplier, schema);
  const std::string t = node.diags.format();
  EXPECT_NE(t.find("supplier.yaml:5:18: fields.note.column: a column name cannot be empty"), std::string::npos) << t;
  EXPECT_NE(t.find("fields.size.column: a column name cannot be empty"), std::string::npos) << t;
}

TEST(CsvSourceHeaders, EmptyAndRepeatedHeaderNamesGiveUniqueKeysInExtraAndRaw) {
  const char* yaml = R"(supplier: t
currency: EUR
feed: {delimiter: ";", extra_columns: extra}
fields:
  sku: {column: SKU}
  price: {column: Price, type: int}
)";
  Source s("SKU;;Price;color;color;column_2;;color#2\nA;x;1;red;blue;c;y;z\nB;1\n", yaml);
  Read r = read_all(s);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.header, (std::vector<std::string>{"SKU", "column_2#2", "Price", "color", "color#3", "column_2",
                                                "column_7", "color#2"}));
  EXPECT_EQ(std::get<Json>(r.records[0].values[*s.schema.find("extra")]).text,
            R"({"column_2#2":"x","color":"red","color#3":"blue","column_2":"c","column_7":"y","color#2":"z"})");
  ASSERT_EQ(r.rejects.size(), 1u);  // rejects name the cells by the same keys
}

TEST(CsvSourceHeaders, InvalidUtf8InTheHeaderHintsAtFeedEncoding) {
  Source s("SKU;Pr\xE9is\nA;1\n");
  const std::string t = s.startup_error();
  EXPECT_NE(t.find("invalid UTF-8"), std::string::npos) << t;
  EXPECT_NE(t.find("(if the feed is not UTF-8, set feed.encoding: latin-1, windows-1252 or utf-16)"), std::string::npos)
      << t;
}

// --- feeds without a header row ---------------------------------------------------------------------

const char* kHeaderless = R"(supplier: t
currency: EUR
feed: {delimiter: ";", header: none, columns: [sku, name, price], extra_columns: extra}
fields:
  sku: {column: sku}
  price: {column: price}
)";

TEST(CsvSourceNoHeader, ColumnsNameTheFieldsAndTheFirstRowIsData) {
  Source s("A;Hammer;9.50\nB;Rake\nC;Saw;3\n", kHeaderless);
  Read r = read_all(s);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].line, 1u);  // the first row is line 1: no header before it
  EXPECT_EQ(std::get<std::string>(r.records[0].values[0]), "A");
  EXPECT_EQ(std::get<std::string>(r.records[0].values[1]), "9.50");
  EXPECT_EQ(std::get<Json>(r.records[0].values[*s.schema.find("extra")]).text, R"({"name":"Hammer"})");
  EXPECT_EQ(r.records[1].line, 3u);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].line, 2u);
  EXPECT_EQ(r.rejects[0].message, "row has 2 fields, feed.columns names 3");
  EXPECT_EQ(r.header, (std::vector<std::string>{"sku", "name", "price"}));

  Source empty("", kHeaderless);  // no rows is no error when there is no header to expect
  EXPECT_TRUE(read_all(empty).records.empty());
}

TEST(CsvSourceNoHeader, SettingsAreCheckedTogether) {
  auto error = [](const std::string& feed, const std::string& fields = "  sku: {column: sku}\n") {
    auto s = test::load_supplier("supplier: t\ncurrency: EUR\nfeed: " + feed + "\nfields:\n" + fields);
    return s->diags.format();
  };
  EXPECT_NE(
      error("{header: none}")
          .find("supplier.yaml:3:16: feed.header: a feed without a header row needs feed.columns, the names of its "
                "columns in order"),
      std::string::npos)
      << error("{header: none}");
  EXPECT_NE(error("{columns: [sku]}").find("feed.columns: applies only to csv feeds with header: none"),
            std::string::npos);
  const std::string t = error("{header: none, columns: [sku, \"\", sku]}");
  EXPECT_NE(t.find("supplier.yaml:3:37: feed.columns[1]: a column name cannot be empty"), std::string::npos) << t;
  EXPECT_NE(t.find("feed.columns[2]: column 'sku' is named twice"), std::string::npos) << t;
  EXPECT_NE(error("{format: ndjson, header: none}").find("feed.header: applies only to format csv"), std::string::npos);

  // A mapped column that feed.columns does not name is found without reading the feed (`sluice check`).
  auto supplier = test::load_supplier(
      "supplier: t\ncurrency: EUR\nfeed: {header: none, columns: [sku, price]}\nfields:\n  sku: {column: sku}\n"
      "  name: {column: Name}\n");
  ASSERT_TRUE(supplier->diags.empty()) << supplier->diags.format();
  Schema schema;
  test::BuiltNode node = test::build_node("id: read\ntype: csv_source\n", *supplier, schema);
  EXPECT_NE(node.diags.format().find("supplier.yaml:6:18: fields.name.column: column 'Name' is not in feed.columns"),
            std::string::npos)
      << node.diags.format();
}

}  // namespace
}  // namespace sluice

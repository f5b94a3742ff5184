#include "ingest/csv_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice {
namespace {

struct Rec {
  int64_t line;
  std::string raw;
  bool malformed;
  std::vector<std::string> fields;
  std::vector<bool> quoted;
};

std::vector<Rec> ReadAll(std::string_view data, char delimiter = ',') {
  CsvReader reader(data, delimiter);
  CsvRecord r;
  std::vector<Rec> out;
  while (reader.Next(&r)) {
    Rec rec{r.line, std::string(r.raw), r.malformed, {}, {}};
    for (size_t i = 0; i < r.size(); ++i) {
      rec.fields.emplace_back(r.field(i));
      rec.quoted.push_back(r.quoted(i));
    }
    out.push_back(std::move(rec));
  }
  return out;
}

using Fields = std::vector<std::string>;

TEST(CsvReader, Empty) { EXPECT_TRUE(ReadAll("").empty()); }

TEST(CsvReader, SimpleRecordsAndLines) {
  auto recs = ReadAll("a,b\n1,2\n3,4");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(recs[1].fields, (Fields{"1", "2"}));
  EXPECT_EQ(recs[2].fields, (Fields{"3", "4"}));
  EXPECT_EQ(recs[2].line, 3);
  EXPECT_EQ(recs[2].raw, "3,4");
}

TEST(CsvReader, CrLf) {
  auto recs = ReadAll("a,b\r\n1,\"x\"\r\n3,\r\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(recs[0].raw, "a,b");
  EXPECT_EQ(recs[1].fields, (Fields{"1", "x"}));
  EXPECT_EQ(recs[1].raw, "1,\"x\"");
  EXPECT_EQ(recs[2].fields, (Fields{"3", ""}));
  EXPECT_EQ(recs[2].raw, "3,");
  EXPECT_EQ(recs[2].line, 3);
  EXPECT_FALSE(recs[1].malformed);
}

TEST(CsvReader, QuotingEscapesAndEmptyFields) {
  auto recs = ReadAll("\"a,b\",\"say \"\"hi\"\"\",,\"\"\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"a,b", "say \"hi\"", "", ""}));
  EXPECT_EQ(recs[0].quoted, (std::vector<bool>{true, true, false, true}));
  EXPECT_FALSE(recs[0].malformed);
}

TEST(CsvReader, QuotedNewlinesAdvanceLines) {
  auto recs = ReadAll("h1,h2\n\"line1\nline2\",x\n\"a\r\nb\",y\nlast,z\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1].fields, (Fields{"line1\nline2", "x"}));
  EXPECT_EQ(recs[1].line, 2);
  EXPECT_EQ(recs[1].raw, "\"line1\nline2\",x");
  EXPECT_EQ(recs[2].fields, (Fields{"a\r\nb", "y"}));
  EXPECT_EQ(recs[2].line, 4);
  EXPECT_EQ(recs[3].line, 6);
  EXPECT_EQ(recs[3].fields, (Fields{"last", "z"}));
}

TEST(CsvReader, TrailingDelimiterOpensEmptyField) {
  auto recs = ReadAll("a,b,\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b", ""}));
}

TEST(CsvReader, BlankLineIsOneEmptyField) {
  auto recs = ReadAll("a\n\nb\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].fields, (Fields{""}));
  EXPECT_EQ(recs[1].raw, "");
  EXPECT_EQ(recs[2].line, 3);
}

TEST(CsvReader, UnterminatedQuoteTakesTheRest) {
  auto recs = ReadAll("a,b\n1,\"open\n2,3\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_TRUE(recs[1].malformed);
  EXPECT_EQ(recs[1].line, 2);
  EXPECT_EQ(recs[1].raw, "1,\"open\n2,3");
}

TEST(CsvReader, TextAfterClosingQuoteIsMalformed) {
  auto recs = ReadAll("\"ab\"c,d\nx,y\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_TRUE(recs[0].malformed);
  EXPECT_EQ(recs[0].raw, "\"ab\"c,d");
  EXPECT_FALSE(recs[1].malformed);
  EXPECT_EQ(recs[1].fields, (Fields{"x", "y"}));
  EXPECT_EQ(recs[1].line, 2);
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsData) {
  auto recs = ReadAll("5\"6,x\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_FALSE(recs[0].malformed);
  EXPECT_EQ(recs[0].fields, (Fields{"5\"6", "x"}));
}

TEST(CsvReader, OtherDelimiter) {
  auto recs = ReadAll("a;b,c\n\"x;y\";z\n", ';');
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "b,c"}));
  EXPECT_EQ(recs[1].fields, (Fields{"x;y", "z"}));
}

TEST(CsvReader, LargeQuotedField) {
  std::string big(10 << 20, 'x');
  auto recs = ReadAll("\"" + big + "\",1\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields[0].size(), big.size());
  EXPECT_EQ(recs[0].fields[1], "1");
}

}  // namespace
}  // namespace sluice

// `sluice lineage` on the example project (`sluice init`: marts.daily_revenue reads
// curated.orders), run as a user runs it: exact text and JSON, from sluice.yaml alone (no lake
// is created), clean one-line errors, and the column-lineage facet it prints validated against
// the OpenLineage JSON schemas by a real JSON-schema validator (Ajv, from scripts/setup.sh).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

class LineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessResult init = RunProcess(SluiceBinary(), {"init", project_}, {});
    ASSERT_TRUE(init.ok()) << init.Describe();
  }

  ProcessResult Lineage(std::vector<std::string> args) const {
    args.insert(args.begin(), "lineage");
    args.insert(args.end(), {"--project", project_});
    return RunProcess(SluiceBinary(), args, {});
  }

  Json LineageJson(std::vector<std::string> args) const {
    args.push_back("--json");
    ProcessResult r = Lineage(args);
    EXPECT_TRUE(r.ok()) << r.Describe();
    return Json::parse(r.out);
  }

  // "dataset.column SUBTYPE>SUBTYPE" for each entry of a `columns` or `rows` list.
  static std::vector<std::string> Reaches(const Json& list) {
    std::vector<std::string> out;
    for (const Json& r : list) {
      std::string line =
          r["dataset"].get<std::string>() + (r["column"].is_null() ? "" : "." + Str(r["column"])) + " ";
      for (size_t i = 0; i < r["path"].size(); ++i) {
        line += (i == 0 ? "" : ">") + Str(r["path"][i]["subtype"]);
      }
      out.push_back(line);
    }
    return out;
  }

  // Runs the validator on `doc` against schema file `schema` of the OpenLineage specs.
  ProcessResult Validate(const Json& doc, const std::string& schema) const {
    const std::string file = tmp_.path() + "/doc.json";
    WriteFileOrDie(file, doc.dump());
    ProcessOptions options;
    options.env = {{"NODE_PATH", std::string(SLUICE_DOCS_ROOT) + "/third_party/node/node_modules"}};
    return RunProcess("/usr/bin/node",
                      {std::string(SLUICE_DOCS_ROOT) + "/test/e2e/validate_json_schema.js",
                       SLUICE_OPENLINEAGE_SPECS, schema, file},
                      options);
  }

  TempDir tmp_{"sluice-lineage"};
  std::string project_ = tmp_.path() + "/shop";
};

TEST_F(LineageTest, DownstreamOfACuratedColumnAsText) {
  ProcessResult r = Lineage({"curated.orders.amount"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out,
            "downstream of curated.orders.amount (curated)\n"
            "columns computed from it:\n"
            "  mart      marts.daily_revenue.revenue            AGGREGATION\n"
            "  parquet   published.curated.orders.amount        IDENTITY\n"
            "  parquet   published.marts.daily_revenue.revenue  AGGREGATION > IDENTITY  via "
            "marts.daily_revenue.revenue\n"
            "datasets whose rows depend on it (join, filter, group, sort):\n"
            "  (none)\n");
  EXPECT_EQ(r.err, "");
  // A filter column feeds no mart column but decides which rows the mart has.
  r = Lineage({"sources.orders.status"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(
      r.out,
      "downstream of sources.orders.status (source)\n"
      "columns computed from it:\n"
      "  staging   staging.orders.status            IDENTITY\n"
      "  curated   curated.orders.status            IDENTITY > IDENTITY  via staging.orders.status\n"
      "  parquet   published.curated.orders.status  IDENTITY > IDENTITY > IDENTITY  via "
      "staging.orders.status, "
      "curated.orders.status\n"
      "datasets whose rows depend on it (join, filter, group, sort):\n"
      "  mart      marts.daily_revenue            IDENTITY > IDENTITY > FILTER  via staging.orders.status, "
      "curated.orders.status\n"
      "  parquet   published.marts.daily_revenue  IDENTITY > IDENTITY > FILTER > IDENTITY  via "
      "staging.orders.status, curated.orders.status, marts.daily_revenue\n");
  // Works from sluice.yaml alone: no lake was opened or created.
  EXPECT_FALSE(fs::exists(project_ + "/lake"));
}

TEST_F(LineageTest, UpstreamOfAMartColumnAsJson) {
  Json doc = LineageJson({"marts.daily_revenue.revenue"});
  EXPECT_EQ(doc["target"], "marts.daily_revenue.revenue");
  EXPECT_EQ(doc["dataset"], "marts.daily_revenue");
  EXPECT_EQ(doc["column"], "revenue");
  EXPECT_EQ(doc["kind"], "mart");
  EXPECT_EQ(doc["direction"], "upstream");
  EXPECT_EQ(Reaches(doc["columns"]),
            (std::vector<std::string>{"sources.orders.amount AGGREGATION>IDENTITY>IDENTITY",
                                      "staging.orders.amount AGGREGATION>IDENTITY",
                                      "curated.orders.amount AGGREGATION"}));
  // The rows of the mart: the model's WHERE and GROUP BY ALL, and curate's merge by key
  // (order_id) keeping the highest version (seq).
  EXPECT_EQ(Reaches(doc["rows"]), (std::vector<std::string>{
                                      "sources.orders.order_id AGGREGATION>GROUP_BY>IDENTITY",
                                      "sources.orders.tenant_id GROUP_BY>IDENTITY>IDENTITY",
                                      "sources.orders.status FILTER>IDENTITY>IDENTITY",
                                      "sources.orders.created_at GROUP_BY>IDENTITY>IDENTITY",
                                      "sources.orders.seq AGGREGATION>SORT>IDENTITY",
                                      "staging.orders.order_id AGGREGATION>GROUP_BY",
                                      "staging.orders.tenant_id GROUP_BY>IDENTITY",
                                      "staging.orders.status FILTER>IDENTITY",
                                      "staging.orders.created_at GROUP_BY>IDENTITY",
                                      "staging.orders.seq AGGREGATION>SORT",
                                      "curated.orders.tenant_id GROUP_BY",
                                      "curated.orders.status FILTER",
                                      "curated.orders.created_at GROUP_BY",
                                  }));
  const Json& hop = doc["rows"][0]["path"][1];
  EXPECT_EQ(hop, Json::parse(R"({"dataset": "staging.orders", "column": "order_id", "type": "INDIRECT",
                                 "subtype": "GROUP_BY", "masking": false})"));
  // The mart's column-lineage facet, exactly.
  EXPECT_EQ(doc["namespace"], "sluice://shop");
  auto field = [](const std::string& column, const std::string& type, const std::string& subtype) {
    return Json{
        {"namespace", "sluice://shop"},
        {"name", "curated.orders"},
        {"field", column},
        {"transformations", Json::array({Json{{"type", type}, {"subtype", subtype}, {"masking", false}}})}};
  };
  const Json& facet = doc["columnLineage"];
  EXPECT_EQ(facet["fields"]["day"]["inputFields"],
            Json::array({field("created_at", "DIRECT", "TRANSFORMATION")}));
  EXPECT_EQ(facet["fields"]["tenant_id"]["inputFields"],
            Json::array({field("tenant_id", "DIRECT", "IDENTITY")}));
  EXPECT_EQ(facet["fields"]["orders"]["inputFields"], Json::array());
  EXPECT_EQ(facet["fields"]["revenue"]["inputFields"],
            Json::array({field("amount", "DIRECT", "AGGREGATION")}));
  EXPECT_EQ(facet["fields"].size(), 4u);
  EXPECT_EQ(facet["dataset"],
            Json::array({field("created_at", "INDIRECT", "GROUP_BY"), field("status", "INDIRECT", "FILTER"),
                         field("tenant_id", "INDIRECT", "GROUP_BY")}));
}

TEST_F(LineageTest, FacetValidatesAgainstTheOpenLineageSchema) {
  ASSERT_TRUE(fs::exists(std::string(SLUICE_DOCS_ROOT) + "/third_party/node/node_modules/ajv"))
      << "Ajv is not installed: run scripts/setup.sh";
  ASSERT_TRUE(fs::exists(std::string(SLUICE_OPENLINEAGE_SPECS) + "/ColumnLineageDatasetFacet.json"))
      << "no OpenLineage schemas at " << SLUICE_OPENLINEAGE_SPECS;
  for (const std::string target : {"marts.daily_revenue", "curated.orders", "published.curated.orders"}) {
    Json facet = LineageJson({target})["columnLineage"];
    ProcessResult ok = Validate(Json{{"columnLineage", facet}}, "ColumnLineageDatasetFacet.json");
    EXPECT_TRUE(ok.ok()) << target << ": " << ok.Describe();
  }
  // The validator rejects what the schema forbids: an input field without `field`, a
  // transformation without `type`, a facet without `_producer`.
  Json facet = LineageJson({"marts.daily_revenue"})["columnLineage"];
  Json no_field = facet;
  no_field["fields"]["revenue"]["inputFields"][0].erase("field");
  Json no_type = facet;
  no_type["dataset"][0]["transformations"][0].erase("type");
  Json no_producer = facet;
  no_producer.erase("_producer");
  for (const auto& [what, bad] : std::vector<std::pair<std::string, Json>>{
           {"field", no_field}, {"type", no_type}, {"_producer", no_producer}}) {
    ProcessResult r = Validate(Json{{"columnLineage", bad}}, "ColumnLineageDatasetFacet.json");
    EXPECT_EQ(r.exit_code, 1) << what << ": " << r.Describe();
    EXPECT_NE(r.err.find("must have required property '" + what + "'"), std::string::npos) << r.err;
  }
}

TEST_F(LineageTest, DownstreamReachesPostgresAndFeedConsumers) {
  std::string yaml = ReadFileOrDie(project_ + "/sluice.yaml");
  yaml +=
      "serve:\n  postgres: {dsn_env: SLUICE_PG_DSN, schema: bi, publish: [marts.daily_revenue]}\n"
      "consumers:\n  ml_features: {table: curated.orders}\n";
  WriteFileOrDie(project_ + "/sluice.yaml", yaml);
  ProcessResult r = Lineage({"curated.orders.amount"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out,
            "downstream of curated.orders.amount (curated)\n"
            "columns computed from it:\n"
            "  mart      marts.daily_revenue.revenue            AGGREGATION\n"
            "  parquet   published.curated.orders.amount        IDENTITY\n"
            "  parquet   published.marts.daily_revenue.revenue  AGGREGATION > IDENTITY  via "
            "marts.daily_revenue.revenue\n"
            "  postgres  postgres.bi.daily_revenue.revenue      AGGREGATION > IDENTITY  via "
            "marts.daily_revenue.revenue\n"
            "  consumer  consumers.ml_features.amount           IDENTITY\n"
            "datasets whose rows depend on it (join, filter, group, sort):\n"
            "  (none)\n");
  // Upstream of the PostgreSQL table's column: through the mart to the contract.
  Json doc = LineageJson({"postgres.bi.daily_revenue.day"});
  EXPECT_EQ(doc["direction"], "upstream");
  EXPECT_EQ(Reaches(doc["columns"]),
            (std::vector<std::string>{"sources.orders.created_at IDENTITY>TRANSFORMATION>IDENTITY>IDENTITY",
                                      "staging.orders.created_at IDENTITY>TRANSFORMATION>IDENTITY",
                                      "curated.orders.created_at IDENTITY>TRANSFORMATION",
                                      "marts.daily_revenue.day IDENTITY"}));
}

TEST_F(LineageTest, ErrorsAreOneLine) {
  ProcessResult r = Lineage({"curated.orders.nope"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(
      r.err,
      "error: lineage: curated.orders has no column 'nope' (columns: order_id, tenant_id, status, amount, "
      "created_at, seq, _batch_id, _batch_seq, _source_line, _ingested_at, _correlation_id)\n");
  r = Lineage({"marts.nope"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err.rfind("error: lineage: no dataset or column 'marts.nope' (datasets: sources.orders, ", 0),
            0u)
      << r.err;
  r = Lineage({"curated.orders", "--upstream", "--downstream"});
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  // A model naming a column its input lacks: the mart, its file and the column.
  WriteFileOrDie(
      project_ + "/models/daily_revenue.sql",
      "SELECT tenant_id, sum(amount) AS revenue, max(discount) AS d FROM curated.orders GROUP BY ALL\n");
  r = Lineage({"curated.orders.amount"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(r.err, "error: marts.daily_revenue (" + fs::canonical(project_).string() +
                       "/models/daily_revenue.sql): 1:47: unknown column 'discount'\n");
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace sluice::e2e

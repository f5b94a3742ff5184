// `sluice query` and `sluice status`: read-only views of the lake.
#include <algorithm>
#include <iostream>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/stream_status.h"

namespace sluice::cli {

namespace {

Result<std::unique_ptr<Catalog>> OpenReadOnly(const std::string& project, const std::string& memory_limit) {
  ASSIGN_OR_RETURN(ProjectSpec spec, LoadProject(project));
  if (auto limit = MemoryLimitFlag(memory_limit)) spec.memory_limit_bytes = limit;
  CatalogOptions options;
  options.read_only = true;
  return Catalog::Open(spec, options);
}

bool IsNumericType(const std::string& t) {
  static const char* kNumeric[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                   "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "FLOAT",
                                   "DOUBLE"};
  if (t.rfind("DECIMAL", 0) == 0) return true;
  return std::find(std::begin(kNumeric), std::end(kNumeric), t) != std::end(kNumeric);
}

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Display width of a UTF-8 string, in code points.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void PrintTable(const duck::Rows& rows) {
  std::vector<size_t> w(rows.names.size());
  for (size_t c = 0; c < w.size(); ++c) w[c] = Width(rows.names[c]);
  for (const auto& r : rows.rows) {
    for (size_t c = 0; c < w.size(); ++c) w[c] = std::max(w[c], Width(r[c].value_or("NULL")));
  }
  auto line = [&](auto cell) {
    for (size_t c = 0; c < w.size(); ++c) {
      std::string v = cell(c);
      std::cout << (c ? " | " : "") << v << std::string(w[c] - Width(v), ' ');
    }
    std::cout << "\n";
  };
  line([&](size_t c) { return rows.names[c]; });
  for (size_t c = 0; c < w.size(); ++c) std::cout << (c ? "-+-" : "") << std::string(w[c], '-');
  std::cout << "\n";
  for (const auto& r : rows.rows) line([&](size_t c) { return r[c].value_or("NULL"); });
  std::cout << "(" << rows.rows.size() << (rows.rows.size() == 1 ? " row)" : " rows)") << std::endl;
}

// Quality gates for `sluice status`: per test, its result in the latest run that checked it
// (the worst of that run: fail > bypassed > warn > pass), and the batches still quarantined.
Result<nlohmann::ordered_json> GateStatus(duck::Connection& conn) {
  nlohmann::ordered_json counts = {{"pass", 0}, {"warn", 0}, {"fail", 0}, {"bypassed", 0}};
  nlohmann::ordered_json out = {{"tests", {{"counts", counts}, {"results", nlohmann::ordered_json::array()}}},
                                {"quarantined", nlohmann::ordered_json::array()}};
  // A lake written before quality gates were recorded has no such tables (read-only: not created).
  ASSIGN_OR_RETURN(int64_t have, conn.QueryInt("SELECT count(*) FROM duckdb_tables() WHERE "
                                               "database_name = 'lake' AND schema_name = 'meta' AND "
                                               "table_name IN ('test_results', 'quarantine')"));
  if (have < 2) return out;
  ASSIGN_OR_RETURN(duck::Rows t, conn.Query(
      "SELECT r.layer, r.table_name, r.test, any_value(r.severity), CASE max(CASE r.status WHEN "
      "'fail' THEN 4 WHEN 'bypassed' THEN 3 WHEN 'warn' THEN 2 ELSE 1 END) WHEN 4 THEN 'fail' WHEN 3 "
      "THEN 'bypassed' WHEN 2 THEN 'warn' ELSE 'pass' END, max(r.failing_rows), "
      "string_agg(DISTINCT r.sample, '; ') FILTER (WHERE r.status <> 'pass'), "
      "string_agg(DISTINCT r.batch_ids, ', ') FILTER (WHERE r.status <> 'pass'), "
      "CAST(max(r.checked_at) AS VARCHAR) FROM meta.test_results r JOIN (SELECT layer, table_name, "
      "test, max(run_started_at) AS run FROM meta.test_results GROUP BY ALL) l ON l.layer = r.layer "
      "AND l.table_name = r.table_name AND l.test = r.test AND l.run = r.run_started_at "
      "GROUP BY r.layer, r.table_name, r.test ORDER BY r.layer, r.table_name, r.test"));
  auto opt = [](const duck::Rows& rows, size_t r, size_t c) {
    return rows.rows[r][c] ? nlohmann::ordered_json(*rows.rows[r][c]) : nlohmann::ordered_json(nullptr);
  };
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const std::string status = t.At(r, 4);
    out["tests"]["counts"][status] = out["tests"]["counts"][status].get<int64_t>() + 1;
    out["tests"]["results"].push_back({{"table", t.At(r, 0) + "." + t.At(r, 1)}, {"test", t.At(r, 2)},
                                       {"severity", t.At(r, 3)}, {"status", status},
                                       {"failing_rows", t.IntAt(r, 5)}, {"sample", opt(t, r, 6)},
                                       {"batches", opt(t, r, 7)}, {"checked_at", t.At(r, 8)}});
  }
  ASSIGN_OR_RETURN(duck::Rows q, conn.Query(
      "SELECT b.source, b.batch_id, q.table_name, q.tests, q.sample, CAST(q.quarantined_at AS VARCHAR) "
      "FROM meta.batches b JOIN (SELECT * FROM meta.quarantine QUALIFY row_number() OVER (PARTITION BY "
      "source, batch_id ORDER BY quarantined_at DESC) = 1) q ON q.source = b.source AND q.batch_id = "
      "b.batch_id WHERE b.status = 'quarantined' ORDER BY b.batch_seq"));
  for (size_t r = 0; r < q.rows.size(); ++r) {
    out["quarantined"].push_back({{"source", q.At(r, 0)}, {"batch_id", q.At(r, 1)},
                                  {"table", "curated." + q.At(r, 2)}, {"failed_tests", q.At(r, 3)},
                                  {"sample", opt(q, r, 4)}, {"quarantined_at", q.At(r, 5)}});
  }
  return out;
}

void PrintGateStatus(const nlohmann::ordered_json& tests, const nlohmann::ordered_json& quarantined) {
  const auto& c = tests["counts"];
  if (tests["results"].empty()) return;
  std::cout << "\ntests (latest run of each): " << c["pass"] << " pass, " << c["warn"] << " warn, "
            << c["fail"] << " fail" << (c["bypassed"].get<int64_t>() ? ", " + c["bypassed"].dump() + " bypassed" : "")
            << "\n";
  for (const auto& r : tests["results"]) {
    if (r["status"] == "pass") continue;
    std::cout << "  " << r["status"].get<std::string>() << "  " << r["table"].get<std::string>() << ": "
              << r["test"].get<std::string>() << ": " << r["failing_rows"] << " failing rows";
    if (!r["sample"].is_null()) std::cout << " (e.g. " << r["sample"].get<std::string>() << ")";
    if (!r["batches"].is_null()) std::cout << " [batches " << r["batches"].get<std::string>() << "]";
    std::cout << "\n";
  }
  if (quarantined.empty()) return;
  std::cout << "\nquarantined batches (`sluice batches release|drop ID`)\n";
  for (const auto& q : quarantined) {
    std::cout << "  " << q["source"].get<std::string>() << "/" << q["batch_id"].get<std::string>()
              << ": " << q["table"].get<std::string>() << ": " << q["failed_tests"].get<std::string>();
    if (!q["sample"].is_null()) std::cout << " (" << q["sample"].get<std::string>() << ")";
    std::cout << ", since " << q["quarantined_at"].get<std::string>() << "\n";
  }
}

}  // namespace

int Query(const QueryArgs& args) {
  auto catalog = OpenReadOnly(args.project, args.memory_limit);
  if (!catalog.ok()) return Fail(catalog.status().message());
  std::string sql = args.sql;
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) {
    sql.pop_back();
  }
  auto rows = (*catalog)->conn().Query(sql);
  if (!rows.ok() && rows.status().message().find("cannot render") != std::string::npos) {
    // A type without a text rendering here (LIST, STRUCT, ...): let DuckDB cast it.
    rows = (*catalog)->conn().Query("SELECT COLUMNS(*)::VARCHAR FROM (" + sql + "\n)");
  }
  if (!rows.ok()) return Fail("query failed: " + rows.status().message());
  if (args.format == "csv") {
    for (size_t c = 0; c < rows->names.size(); ++c) std::cout << (c ? "," : "") << CsvField(rows->names[c]);
    std::cout << "\n";
    for (const auto& r : rows->rows) {
      for (size_t c = 0; c < r.size(); ++c) std::cout << (c ? "," : "") << (r[c] ? CsvField(*r[c]) : "");
      std::cout << "\n";
    }
    std::cout.flush();
  } else if (args.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows->rows) {
      nlohmann::json obj = nlohmann::json::object();
      for (size_t c = 0; c < r.size(); ++c) {
        const std::string& t = rows->types[c];
        if (!r[c]) {
          obj[rows->names[c]] = nullptr;
        } else if (t == "BOOLEAN") {
          obj[rows->names[c]] = *r[c] == "true";
        } else if (IsNumericType(t) && *r[c] != "inf" && *r[c] != "-inf" && *r[c] != "nan") {
          obj[rows->names[c]] = nlohmann::json::parse(*r[c]);
        } else {
          obj[rows->names[c]] = *r[c];
        }
      }
      out.push_back(std::move(obj));
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  } else {
    PrintTable(*rows);
  }
  return 0;
}

int ShowStatus(const StatusArgs& args) {
  auto opened = OpenReadOnly(args.project, args.memory_limit);
  if (!opened.ok() && opened.status().code() == StatusCode::kUnavailable) {
    // `sluice serve` holds the lake: show what it reports.
    auto spec = LoadProject(args.project);
    std::optional<nlohmann::json> serve;
    if (spec.ok()) serve = RunningServe(*spec);
    if (serve) {
      if (args.json) {
        std::cout << nlohmann::ordered_json{{"project", spec->name}, {"lake", spec->lake},
                                            {"serve", *serve}}.dump()
                  << std::endl;
      } else {
        std::cout << "project " << spec->name << "  lake " << spec->lake
                  << "\n(the lake is held by sluice serve; tables and batches are shown once it stops)\n";
        PrintServeStatus(*serve);
      }
      return 0;
    }
  }
  if (!opened.ok()) return Fail(opened.status().message());
  Catalog& catalog = **opened;
  auto& conn = catalog.conn();
  nlohmann::ordered_json out = {{"project", catalog.spec().name}, {"lake", catalog.lake()}};
  nlohmann::ordered_json sources = nlohmann::ordered_json::object();
  for (const auto& s : catalog.spec().sources) {
    auto r = conn.Query(
        "SELECT count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_staged), 0), "
        "coalesce(sum(rows_dead), 0), CAST(max(committed_at) AS VARCHAR), "
        "(SELECT count(*) FROM dlq." + duck::Ident(s.name) + "), (SELECT count(*) FROM dlq." +
        duck::Ident(s.name) + " d WHERE d.status = 'open') FROM meta.batches WHERE source = " +
        duck::Literal(s.name));
    if (!r.ok()) return Fail(r.status().message());
    sources[s.name] = {{"batches", r->IntAt(0, 0)},     {"rows_read", r->IntAt(0, 1)},
                       {"rows_staged", r->IntAt(0, 2)}, {"rows_dead", r->IntAt(0, 3)},
                       {"last_batch_at", r->At(0, 4)},  {"dlq_rows", r->IntAt(0, 5)},
                       {"dlq_open", r->IntAt(0, 6)}};
  }
  nlohmann::ordered_json tables = nlohmann::ordered_json::object();
  auto t = conn.Query(
      "SELECT table_name, layer, rows, version, published_version, CAST(updated_at AS VARCHAR), "
      "CAST(epoch(now()::TIMESTAMP - updated_at) AS BIGINT) FROM meta.tables ORDER BY layer, table_name");
  if (!t.ok()) return Fail(t.status().message());
  for (size_t r = 0; r < t->rows.size(); ++r) {
    tables[t->At(r, 0)] = {{"layer", t->At(r, 1)},         {"rows", t->IntAt(r, 2)},
                           {"version", t->IntAt(r, 3)},    {"published_version", t->IntAt(r, 4)},
                           {"updated_at", t->At(r, 5)},    {"freshness_seconds", t->IntAt(r, 6)}};
  }
  auto run = conn.Query("SELECT CAST(started_at AS VARCHAR), CAST(finished_at AS VARCHAR), status "
                        "FROM meta.runs ORDER BY started_at DESC LIMIT 1");
  if (!run.ok()) return Fail(run.status().message());
  out["sources"] = sources;
  out["tables"] = tables;
  auto gates = GateStatus(conn);
  if (!gates.ok()) return Fail(gates.status().message());
  out["tests"] = (*gates)["tests"];
  auto streams = StreamStatus(catalog);
  if (!streams.ok()) return Fail(streams.status().message());
  if (!streams->empty()) out["streams"] = *streams;
  out["quarantined"] = (*gates)["quarantined"];
  out["last_run"] = run->rows.empty()
                        ? nlohmann::ordered_json(nullptr)
                        : nlohmann::ordered_json{{"started_at", run->At(0, 0)},
                                         {"finished_at", run->At(0, 1)}, {"status", run->At(0, 2)}};
  if (args.json) {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  std::cout << "project " << catalog.spec().name << "  lake " << catalog.lake() << "\n";
  std::cout << "last run: "
            << (run->rows.empty() ? std::string("never") : run->At(0, 1) + " (" + run->At(0, 2) + ")")
            << "\n\nsources\n";
  for (auto& [name, s] : sources.items()) {
    std::cout << "  " << name << ": " << s["batches"] << " batches, " << s["rows_read"]
              << " rows read = " << s["rows_staged"] << " staged + " << s["rows_dead"]
              << " dead-lettered; DLQ " << s["dlq_open"] << " open of " << s["dlq_rows"]
              << " rows; last batch "
              << s["last_batch_at"].get<std::string>() << "\n";
  }
  std::cout << "\ntables\n";
  for (auto& [name, s] : tables.items()) {
    std::cout << "  " << s["layer"].get<std::string>() << "." << name << ": " << s["rows"]
              << " rows, version " << s["version"] << " (published " << s["published_version"]
              << "), updated " << s["updated_at"].get<std::string>() << ", "
              << s["freshness_seconds"] << " s ago\n";
  }
  if (out.contains("streams")) PrintStreamStatus(out["streams"]);
  PrintGateStatus(out["tests"], out["quarantined"]);
  std::cout.flush();
  return 0;
}

}  // namespace sluice::cli

#include "test_project.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <utility>

namespace sluice::testing {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("SLUICE_KEEP_TMP") != nullptr) {
    std::cerr << "[test] kept " << path_ << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string WriteFile(const std::string& dir, const std::string& rel, const std::string& text) {
  fs::path p = fs::path(dir) / rel;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

std::string Dump(const duck::Rows& rows) {
  std::string out;
  for (size_t i = 0; i < rows.rows.size(); ++i) {
    for (size_t c = 0; c < rows.rows[i].size(); ++c) out += (c ? "|" : "") + rows.At(i, c, "NULL");
    out += "\n";
  }
  return out;
}

std::string Dump(duck::Connection& conn, const std::string& sql) {
  auto r = conn.Query(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() ? Dump(*r) : "<error>";
}

int64_t QueryInt(duck::Connection& conn, const std::string& sql) {
  auto r = conn.QueryInt(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

std::string OrdersSpec(const std::string& key, const std::string& tests, const std::string& more_tables) {
  return "name: shop\n"
         "lake: lake\n"
         "sources:\n"
         "  orders:\n"
         "    type: files\n"
         "    path: landing/orders/*.jsonl\n"
         "    format: jsonl\n"
         "    contract: contracts/orders.yaml\n"
         "    partition_by: {day: created_at, tenant: tenant_id}\n"
         "tables:\n"
         "  orders:\n"
         "    from: orders\n"
         "    key: " +
         key +
         "\n"
         "    version: seq\n" +
         (tests.empty() ? "" : "    tests: " + tests + "\n") + more_tables;
}

std::string AllowDeadLetters(std::string spec) {
  const std::string contract = "    contract:";
  for (size_t at = spec.find(contract); at != std::string::npos; at = spec.find(contract, at + 1)) {
    const std::string line = "    max_dead_ratio: 1\n";
    spec.insert(at, line);
    at += line.size();
  }
  return spec;
}

std::string MartTable(const std::string& name, bool partitioned) {
  return "  " + name + ":\n    sql: models/" + name + ".sql\n" +
         (partitioned ? "    partition_by: {day: day, tenant: tenant_id}\n" : "");
}

std::string Order(const std::string& id, const std::string& tenant, const std::string& status,
                  const std::string& amount, const std::string& day, int seq) {
  return "{\"order_id\":\"" + id + "\",\"tenant_id\":\"" + tenant + "\",\"status\":\"" + status +
         "\",\"amount\":" + amount + ",\"created_at\":\"" + day +
         "T10:00:00Z\",\"seq\":" + std::to_string(seq) + "}\n";
}

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  auto e = Engine::Open(dir);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

void ProjectTest::OpenEngine() {
  engine_.reset();
  auto e = Engine::Open(dir_);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  engine_ = std::move(e).value();
}

RunSummary ProjectTest::Run(bool full_refresh) {
  RunOptions options;
  options.full_refresh = full_refresh;
  auto r = engine_->Run(options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : RunSummary{};
}

}  // namespace sluice::testing

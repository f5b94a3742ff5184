#include "warehouse/pg_connection.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <regex>

namespace sluice {

std::string RedactDsn(std::string text, const std::string& dsn, const std::string& label) {
  if (!dsn.empty()) {
    for (size_t at = text.find(dsn); at != std::string::npos; at = text.find(dsn, at + label.size())) {
      text.replace(at, dsn.size(), label);
    }
  }
  static const std::regex kKeyword(R"((password\s*=\s*)('([^'\\]|\\.)*'|\S+))", std::regex::icase);
  static const std::regex kUri(R"((postgres(ql)?://[^:/@\s]*:)[^@\s]*@)", std::regex::icase);
  text = std::regex_replace(text, kKeyword, "$1***");
  return std::regex_replace(text, kUri, "$1***@");
}

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& dsn, const std::string& label,
                                                            int connect_timeout_s) {
  // The DSN is expanded last, so that its own settings win over these defaults.
  const std::string timeout = std::to_string(connect_timeout_s);
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), "sluice", dsn.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable("postgres: out of memory connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = RedactDsn(Trim(PQerrorMessage(conn)), dsn, label);
    PQfinish(conn);
    return Status::Unavailable("postgres (" + label + "): " + why);
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);  // "... does not exist, skipping"
  // Every timestamp leaves and enters as UTC.
  PGresult* r = PQexec(conn, "SET TIME ZONE 'UTC'");
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  auto out = std::unique_ptr<PgConnection>(new PgConnection(conn, dsn, label));
  if (!ok) return out->Error("SET TIME ZONE");
  return out;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgConnection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

Status PgConnection::Error(const std::string& what) const {
  std::string why = RedactDsn(Trim(PQerrorMessage(conn_)), dsn_, label_);
  if (!healthy()) return Status::Unavailable("postgres (" + label_ + "): connection lost: " + why);
  return Status::Aborted("postgres: " + what + ": " + why);
}

namespace {

struct ResultGuard {
  PGresult* r;
  ~ResultGuard() { PQclear(r); }
};

Status FromResult(PGresult* r, const std::string& what, const std::string& dsn, const std::string& label,
                  bool connected) {
  std::string why = RedactDsn(Trim(PQresultErrorMessage(r)), dsn, label);
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (!connected) return Status::Unavailable("postgres (" + label + "): connection lost: " + why);
  return Status::Aborted("postgres: " + what + ": " + why +
                         (state ? std::string(" (SQLSTATE ") + state + ")" : ""));
}

}  // namespace

Status PgConnection::Exec(const std::string& sql) {
  ResultGuard g{PQexec(conn_, sql.c_str())};
  if (g.r == nullptr) return Error("statement");
  ExecStatusType st = PQresultStatus(g.r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::OK();
  return FromResult(g.r, "statement", dsn_, label_, healthy());
}

Result<std::vector<std::vector<std::optional<std::string>>>> PgConnection::Query(const std::string& sql) {
  ResultGuard g{PQexec(conn_, sql.c_str())};
  if (g.r == nullptr) return Error("query");
  if (PQresultStatus(g.r) != PGRES_TUPLES_OK) return FromResult(g.r, "query", dsn_, label_, healthy());
  std::vector<std::vector<std::optional<std::string>>> rows(static_cast<size_t>(PQntuples(g.r)));
  const int cols = PQnfields(g.r);
  for (int i = 0; i < PQntuples(g.r); ++i) {
    for (int c = 0; c < cols; ++c) {
      if (PQgetisnull(g.r, i, c)) {
        rows[static_cast<size_t>(i)].emplace_back();
      } else {
        rows[static_cast<size_t>(i)].emplace_back(
            std::string(PQgetvalue(g.r, i, c), static_cast<size_t>(PQgetlength(g.r, i, c))));
      }
    }
  }
  return rows;
}

Result<int64_t> PgConnection::CopyIn(const std::string& copy_sql,
                                     const std::function<Result<std::string_view>()>& next) {
  {
    ResultGuard g{PQexec(conn_, copy_sql.c_str())};
    if (g.r == nullptr) return Error("COPY");
    if (PQresultStatus(g.r) != PGRES_COPY_IN) return FromResult(g.r, "COPY", dsn_, label_, healthy());
  }
  Status failed;
  while (true) {
    Result<std::string_view> chunk = next();
    if (!chunk.ok()) {
      failed = chunk.status();
      break;
    }
    if (chunk->empty()) break;
    if (PQputCopyData(conn_, chunk->data(), static_cast<int>(chunk->size())) != 1) return Error("COPY data");
  }
  const std::string reason = failed.ok() ? "" : failed.ToString();
  if (PQputCopyEnd(conn_, failed.ok() ? nullptr : reason.c_str()) != 1) return Error("COPY end");
  Status result;
  int64_t rows = 0;
  while (PGresult* r = PQgetResult(conn_)) {
    ResultGuard g{r};
    if (PQresultStatus(r) != PGRES_COMMAND_OK && result.ok()) {
      result = FromResult(r, "COPY", dsn_, label_, healthy());
    } else if (PQresultStatus(r) == PGRES_COMMAND_OK) {
      rows += std::strtoll(PQcmdTuples(r), nullptr, 10);
    }
  }
  if (!failed.ok()) return failed;
  if (!result.ok()) return result;
  return rows;
}

std::string PgConnection::Ident(std::string_view name) const {
  char* q = PQescapeIdentifier(conn_, name.data(), name.size());
  std::string out = q ? q : "";
  PQfreemem(q);
  return out;
}

std::string PgConnection::Literal(std::string_view value) const {
  char* q = PQescapeLiteral(conn_, value.data(), value.size());
  std::string out = q ? q : "";
  PQfreemem(q);
  return out;
}

}  // namespace sluice

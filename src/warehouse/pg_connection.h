// PgConnection: the only code in sluice that calls libpq. One connection to the PostgreSQL
// warehouse, with its statements, COPY FROM STDIN, and quoting by libpq itself.
//
// Errors never carry the connection string (it may hold a password): every message from libpq
// is passed through Redact() with the DSN before it leaves this class. A lost connection
// (server down, network) is Unavailable; a statement PostgreSQL refused is Aborted with its
// SQLSTATE. Not safe for concurrent use: one thread per connection.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct pg_conn;

namespace sluice {

// `text` with every occurrence of `dsn` replaced by `label` (e.g. "$SLUICE_PG_DSN"), and any
// `password=...` setting or URI password masked, for messages that may quote a DSN.
std::string RedactDsn(std::string text, const std::string& dsn, const std::string& label);

class PgConnection {
 public:
  // Connects with `dsn` (libpq keyword/value or URI form), waiting at most `connect_timeout_s`
  // unless the DSN says otherwise. Unavailable (redacted) when the server cannot be reached.
  // `label` names the DSN in messages (e.g. "$SLUICE_PG_DSN").
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& dsn, const std::string& label,
                                                       int connect_timeout_s = 5);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // False once the connection is lost.
  bool healthy() const;

  // Runs one or more statements, discarding results.
  Status Exec(const std::string& sql);
  // Runs one query; every cell as text (NULL: nullopt).
  Result<std::vector<std::vector<std::optional<std::string>>>> Query(const std::string& sql);
  // Runs `copy_sql` (a COPY ... FROM STDIN) and sends what `next` returns until it returns an
  // empty view (or an error, which cancels the COPY). Returns the rows PostgreSQL copied.
  Result<int64_t> CopyIn(const std::string& copy_sql, const std::function<Result<std::string_view>()>& next);

  // PostgreSQL quoting, by libpq: "a""b" and 'O''Hara'.
  std::string Ident(std::string_view name) const;
  std::string Literal(std::string_view value) const;

 private:
  PgConnection(pg_conn* conn, std::string dsn, std::string label)
      : conn_(conn), dsn_(std::move(dsn)), label_(std::move(label)) {}
  Status Error(const std::string& what) const;  // from the connection's last error
  pg_conn* conn_ = nullptr;
  std::string dsn_;
  std::string label_;
};

}  // namespace sluice

// A throw-away PostgreSQL server for the e2e tests (Debian's server binaries, `initdb` and
// `pg_ctl`), on 127.0.0.1 in a temp directory, and `psql` (the real client) to read it: used by
// the warehouse tests and the dashboard's. Not safe for concurrent use.
#pragma once

#include <string>
#include <vector>

#include "harness.h"

namespace sluice::e2e {

// The password of the `sluice` role of every Postgres below (tests check it never leaks).
inline constexpr char kPassword[] = "pw-never-logged-7731";

// A PostgreSQL cluster on 127.0.0.1 (as the `postgres` user when the tests run as root: the
// server refuses to run as root), started by the constructor; stopped and deleted on destruction.
class Postgres {
 public:
  Postgres();
  ~Postgres();
  Postgres(const Postgres&) = delete;
  Postgres& operator=(const Postgres&) = delete;

  // False when no PostgreSQL server binaries are installed (the constructor did nothing).
  bool available() const { return !bin_.empty(); }
  void Start();
  // As a crash would: no shutdown checkpoint, open transactions lost.
  void KillImmediate();
  std::string Dsn(const std::string& user = "sluice", const std::string& password = kPassword) const;
  // psql -c SQL as `user`; rows as fields split by '|' ("NULL" for null). A test failure when
  // psql fails, unless `may_fail`.
  std::vector<std::vector<std::string>> Rows(const std::string& sql, const std::string& user = "sluice",
                                             const std::string& password = kPassword, bool may_fail = false);
  // The first field of the first row; "" when none.
  std::string Scalar(const std::string& sql);

 private:
  std::string data() const { return dir_.path() + "/data"; }
  std::string PwFile();
  ProcessResult Server(const std::string& tool, std::vector<std::string> args);
  TempDir dir_{"sluice-pg"};
  int port_;
  std::string bin_;
  std::vector<std::string> as_server_;
};

}  // namespace sluice::e2e

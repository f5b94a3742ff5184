#include "postgres_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

namespace sluice::e2e {

namespace {

namespace fs = std::filesystem;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string PgBin() {
  std::string best;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql")) {
    if (fs::exists(e.path() / "bin/initdb") && e.path().string() > best) best = e.path().string();
  }
  return best.empty() ? "" : best + "/bin";
}

}  // namespace

Postgres::Postgres() : port_(FreePort()) {
  bin_ = PgBin();
  if (bin_.empty()) return;
  if (::getuid() == 0) {
    as_server_ = {"/usr/sbin/runuser", "-u", "postgres", "--"};
    RunProcess("/bin/chown", {"postgres:", dir_.path()}, {});
  }
  ProcessResult r = Server("initdb", {"-D", data(), "-U", "sluice", "-A", "md5", "--pwfile", PwFile(),
                                      "--locale=C", "-E", "UTF8", "--no-sync"});
  EXPECT_TRUE(r.ok()) << r.Describe();
  WriteFileOrDie(data() + "/postgresql.auto.conf",
                 "listen_addresses = '127.0.0.1'\nport = " + std::to_string(port_) +
                     "\nunix_socket_directories = ''\nfsync = off\ntimezone = 'Europe/Paris'\n");
  if (::getuid() == 0) RunProcess("/bin/chown", {"-R", "postgres:", data()}, {});
  Start();
}

Postgres::~Postgres() {
  if (!bin_.empty()) Server("pg_ctl", {"-D", data(), "-m", "immediate", "-w", "stop"});
}

void Postgres::Start() {
  ProcessResult r = Server("pg_ctl", {"-D", data(), "-l", dir_.path() + "/server.log", "-w", "start"});
  ASSERT_TRUE(r.ok()) << r.Describe() << ReadFileOrDie(dir_.path() + "/server.log");
}

void Postgres::KillImmediate() {
  ProcessResult r = Server("pg_ctl", {"-D", data(), "-m", "immediate", "-w", "stop"});
  ASSERT_TRUE(r.ok()) << r.Describe();
}

std::string Postgres::Dsn(const std::string& user, const std::string& password) const {
  return "postgresql://" + user + ":" + password + "@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::vector<std::vector<std::string>> Postgres::Rows(const std::string& sql, const std::string& user,
                                                     const std::string& password, bool may_fail) {
  ProcessResult r = RunProcess(
      "/usr/bin/psql",
      {"-XAtq", "-v", "ON_ERROR_STOP=1", "-P", "null=NULL", "-F", "|", "-d", Dsn(user, password), "-c", sql},
      {});
  if (!may_fail) {
    EXPECT_TRUE(r.ok()) << sql << ": " << r.Describe();
  }
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < r.out.size()) {
    size_t nl = r.out.find('\n', pos);
    if (nl == std::string::npos) nl = r.out.size();
    std::vector<std::string> fields;
    std::string line = r.out.substr(pos, nl - pos);
    size_t f = 0;
    while (true) {
      size_t bar = line.find('|', f);
      fields.push_back(line.substr(f, bar == std::string::npos ? std::string::npos : bar - f));
      if (bar == std::string::npos) break;
      f = bar + 1;
    }
    rows.push_back(fields);
    pos = nl + 1;
  }
  return rows;
}

std::string Postgres::Scalar(const std::string& sql) {
  auto rows = Rows(sql);
  return rows.empty() || rows[0].empty() ? "" : rows[0][0];
}

std::string Postgres::PwFile() {
  const std::string path = dir_.path() + "/pw";
  WriteFileOrDie(path, std::string(kPassword) + "\n");
  if (::getuid() == 0) RunProcess("/bin/chown", {"postgres:", path}, {});
  return path;
}

ProcessResult Postgres::Server(const std::string& tool, std::vector<std::string> args) {
  std::vector<std::string> all = as_server_;
  all.push_back(bin_ + "/" + tool);
  for (auto& a : args) all.push_back(std::move(a));
  const std::string first = all.front();
  all.erase(all.begin());
  ProcessOptions o;
  o.cwd = "/tmp";
  o.timeout_seconds = 120;
  return RunProcess(first, all, o);
}

}  // namespace sluice::e2e

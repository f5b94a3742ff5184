#include "common/fault_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice {

namespace fs = std::filesystem;

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  return (ec ? fs::path(path) : abs).lexically_normal().string();
}

Status Errno(const std::string& path, const char* what) {
  return Status::IOError(path, std::string(what) + ": " + std::strerror(errno));
}

// Regular files below `dir` (not following symlinks) by inode; DuckDB's own files left out.
void FindFiles(const std::string& dir, std::map<uint64_t, std::string>* found) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (IsDuckDbOwnFile(it->path().filename().string())) continue;
    found->emplace(static_cast<uint64_t>(st.st_ino), it->path().string());
  }
}

}  // namespace

bool IsDuckDbOwnFile(const std::string& name) {
  return EndsWith(name, ".duckdb") || EndsWith(name, ".duckdb.wal");
}

FaultInjectionEnv::FaultInjectionEnv(const std::string& root)
    : root_(Absolute(root)), keep_(Absolute(root) + ".powercut") {
  std::lock_guard<std::mutex> lock(mu_);
  struct stat st {};
  if (::lstat(root_.c_str(), &st) == 0) root_ino_ = static_cast<uint64_t>(st.st_ino);
  RecordDir(root_, /*deep=*/true);
}

void FaultInjectionEnv::FailNthMutation(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n > 0 ? mutations_ + n : 0;
}

int64_t FaultInjectionEnv::mutations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mutations_;
}

void FaultInjectionEnv::set_failure_marker(std::string path) {
  std::lock_guard<std::mutex> lock(mu_);
  failure_marker_ = std::move(path);
}

Status FaultInjectionEnv::CountMutation(const std::string& path) {
  ++mutations_;
  if (fail_at_ == 0 || mutations_ != fail_at_) return Status::OK();
  Status st = Status::IOError(path, "injected I/O error (mutating call " + std::to_string(fail_at_) + ")");
  if (!failure_marker_.empty()) (void)Env::WriteFile(failure_marker_, st.ToString() + "\n");
  return st;
}

bool FaultInjectionEnv::Below(const std::string& path) const {
  std::string abs = Absolute(path);
  return abs == root_ ||
         (abs.size() > root_.size() && abs.compare(0, root_.size(), root_) == 0 && abs[root_.size()] == '/');
}

void FaultInjectionEnv::RecordDir(const std::string& dir, bool deep) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  Entries entries;
  std::error_code ec;
  for (const auto& child : fs::directory_iterator(dir, ec)) {
    const std::string name = child.path().filename().string();
    const std::string path = child.path().string();
    if (IsDuckDbOwnFile(name)) continue;
    struct stat cst {};
    if (::lstat(path.c_str(), &cst) != 0) continue;
    Entry e{};
    e.ino = static_cast<uint64_t>(cst.st_ino);
    if (S_ISREG(cst.st_mode)) {
      e.kind = Entry::Kind::kFile;
      if (deep) sizes_[e.ino] = static_cast<uint64_t>(cst.st_size);
    } else if (S_ISDIR(cst.st_mode)) {
      e.kind = Entry::Kind::kDir;
      if (deep) RecordDir(path, true);
    } else if (S_ISLNK(cst.st_mode)) {
      e.kind = Entry::Kind::kSymlink;
      char buf[4096];
      ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
      e.target.assign(buf, n > 0 ? static_cast<size_t>(n) : 0);
    } else {
      continue;  // sockets, fifos: not part of a lake
    }
    entries.emplace(name, std::move(e));
  }
  dirs_[static_cast<uint64_t>(st.st_ino)] = std::move(entries);
}

void FaultInjectionEnv::KeepDurable(const std::string& path, bool link) {
  static int64_t counter = 0;
  std::error_code ec;
  fs::create_directories(keep_, ec);
  const std::string kept = keep_ + "/" + std::to_string(++counter);
  if (link) {
    (void)::link(path.c_str(), kept.c_str());  // the inode stays alive, content untouched
  } else {
    (void)::rename(path.c_str(), kept.c_str());  // the whole subtree, inodes and all
  }
}

Status FaultInjectionEnv::WriteFile(const std::string& path, const std::string& data) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(path));
  struct stat st {};
  // Rewriting a file in place would destroy its durable content: the old inode goes aside and
  // the write creates a new one (one of the outcomes a real cut allows).
  if (Below(path) && ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    KeepDurable(path, /*link=*/false);
  }
  return Env::WriteFile(path, data);
}

Status FaultInjectionEnv::AppendFile(const std::string& path, const std::string& data) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(path));
  return Env::AppendFile(path, data);
}

Status FaultInjectionEnv::SyncFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(path));
  RETURN_IF_ERROR(Env::SyncFile(path));
  if (!Below(path)) return Status::OK();
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Status::OK();
  if (S_ISDIR(st.st_mode)) {
    RecordDir(path, /*deep=*/false);  // fsync of a directory: its entries
  } else if (S_ISREG(st.st_mode)) {
    sizes_[static_cast<uint64_t>(st.st_ino)] = static_cast<uint64_t>(st.st_size);
  }
  return Status::OK();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  return SyncFile(dir.empty() ? std::string(".") : dir);
}

Status FaultInjectionEnv::SyncFileSystem(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(path));
  RETURN_IF_ERROR(Env::SyncFileSystem(path));
  // The whole file system is durable now: the recorded state is the tree as it is.
  dirs_.clear();
  sizes_.clear();
  RecordDir(root_, /*deep=*/true);
  return Status::OK();
}

Status FaultInjectionEnv::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(from));
  struct stat st {};
  if (Below(to) && ::lstat(to.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    KeepDurable(to, /*link=*/true);  // the file renamed over stays restorable
  }
  return Env::Rename(from, to);
}

Status FaultInjectionEnv::CreateDirs(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(dir));
  return Env::CreateDirs(dir);
}

Status FaultInjectionEnv::RemoveAll(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(path));
  struct stat st {};
  if (Below(path) && Absolute(path) != root_ && ::lstat(path.c_str(), &st) == 0) {
    KeepDurable(path, /*link=*/false);  // removed from the tree, restorable by a cut
    if (::lstat(path.c_str(), &st) != 0) return Status::OK();
  }
  return Env::RemoveAll(path);
}

Status FaultInjectionEnv::RemoveDir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(dir));
  return Env::RemoveDir(dir);
}

Status FaultInjectionEnv::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(path));
  return Env::Truncate(path, size);
}

Status FaultInjectionEnv::LinkFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(to));
  return Env::LinkFile(from, to);
}

Status FaultInjectionEnv::Symlink(const std::string& target, const std::string& link) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(CountMutation(link));
  return Env::Symlink(target, link);
}

void FaultInjectionEnv::Rebuild(uint64_t dir_ino, const std::string& to,
                                const std::map<uint64_t, std::string>& found,
                                std::vector<std::string>* lost) {
  ::mkdir(to.c_str(), 0755);
  auto it = dirs_.find(dir_ino);
  if (it == dirs_.end()) return;  // a directory whose entries were never synced: empty
  for (const auto& [name, e] : it->second) {
    const std::string path = to + "/" + name;
    switch (e.kind) {
      case Entry::Kind::kDir:
        Rebuild(e.ino, path, found, lost);
        break;
      case Entry::Kind::kSymlink:
        (void)::symlink(e.target.c_str(), path.c_str());
        break;
      case Entry::Kind::kFile: {
        auto src = found.find(e.ino);
        if (src == found.end() || ::link(src->second.c_str(), path.c_str()) != 0) {
          lost->push_back(path);
          break;
        }
        auto size = sizes_.find(e.ino);
        const uint64_t durable = size == sizes_.end() ? 0 : size->second;
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) > durable) {
          (void)::truncate(path.c_str(), static_cast<off_t>(durable));
        }
        break;
      }
    }
  }
}

Status FaultInjectionEnv::PowerCut() {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  // Where each inode's content is now: in the tree, or kept aside by a removal or replacement.
  std::map<uint64_t, std::string> found;
  FindFiles(root_, &found);
  FindFiles(keep_, &found);

  // The durable tree, built beside the real one from hard links (same file system).
  const std::string tree = keep_ + "/tree";
  fs::remove_all(tree, ec);
  fs::create_directories(keep_, ec);
  std::vector<std::string> lost;
  Rebuild(root_ino_, tree, found, &lost);

  // DuckDB's database and WAL stay as they are, at the same place.
  std::vector<fs::path> own;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (IsDuckDbOwnFile(it->path().filename().string())) own.push_back(it->path());
  }
  for (const fs::path& p : own) {
    fs::path dest = fs::path(tree) / p.lexically_relative(root_);
    fs::create_directories(dest.parent_path(), ec);
    if (::rename(p.c_str(), dest.c_str()) != 0) return Errno(p.string(), "power cut: keep");
  }

  // Swap: the tree below root becomes the durable one.
  std::vector<fs::path> children;
  for (const auto& child : fs::directory_iterator(root_, ec)) children.push_back(child.path());
  for (const fs::path& child : children) {
    fs::remove_all(child, ec);
    if (ec) return Status::IOError(child.string(), "power cut: " + ec.message());
  }
  for (const auto& child : fs::directory_iterator(tree, ec)) {
    const fs::path dest = fs::path(root_) / child.path().filename();
    if (::rename(child.path().c_str(), dest.c_str()) != 0) return Errno(dest.string(), "power cut");
  }
  fs::remove_all(keep_, ec);

  // What survived is durable by definition.
  dirs_.clear();
  sizes_.clear();
  RecordDir(root_, /*deep=*/true);
  if (!lost.empty()) {
    return Status::Corruption("power cut: no content left for durable file " + lost.front() + " (" +
                              std::to_string(lost.size()) + " in all)");
  }
  return Status::OK();
}

}  // namespace sluice

// FaultInjectionEnv: an Env that knows what a power cut would keep (cf. LevelDB's
// FaultInjectionTestEnv), and can fail the Nth mutating call.
//
// The model. The tree below `root` is tracked as a file system of inodes: a directory's durable
// entries (name -> file inode, directory inode or symlink target) and each file inode's durable
// size. Everything below `root` when the Env is built counts as durable. Then:
//   - SyncFile(file)       makes the file's current size durable (not its directory entry);
//   - SyncDir(dir)         makes dir's current entries durable (not the content of its files,
//                          nor the entries of its subdirectories);
//   - SyncFileSystem(path) makes everything below `root` durable (syncfs(2) syncs the whole
//                          file system, and `root` is all of it that is tracked).
// PowerCut() rebuilds the tree below `root` as the durable entries describe it, starting from
// `root` itself: a file created since its directory was last synced is gone, a file keeps only
// its durable size (0 if no sync ever recorded one), a rename or removal not followed by a sync
// of the directories involved is undone, directories and symlinks come back as they were.
// Files written by DuckDB itself (staging and published Parquet through COPY) are covered: the
// model reads the tree at each sync, whoever wrote it. DuckDB's own fsyncs are not seen, so the
// model is stricter than a real disk there (a file DuckDB synced but sluice did not is dropped).
//
// Limits, true of the lake by construction (files are written once and replaced by rename):
//   - content is tracked by size, so an in-place overwrite below the durable size is not undone
//     (WriteFile through this Env over an existing file puts the old inode aside and writes a
//     new one, so a cut brings the old content back; Truncate is not undone);
//   - a durable file removed or renamed over by someone else than this Env (DuckDB) cannot be
//     brought back (PowerCut reports it in its Status and restores the rest);
//   - DuckDB's database and WAL (names ending in ".duckdb" and ".duckdb.wal") are left exactly
//     as they are: their durability is DuckDB's (the WAL is fsynced at every commit).
//
// The removed and replaced files a cut may need are kept in "<root>.powercut/" (same file
// system: hard links, no copies), removed by PowerCut. Safe for concurrent use (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/env.h"

namespace sluice {

class FaultInjectionEnv : public Env {
 public:
  // `root` is an absolute directory; everything below it now counts as durable.
  explicit FaultInjectionEnv(const std::string& root);

  // The `n`th mutating call from now on (1 = the next) returns an injected IOError and does
  // nothing; 0 disables. Mutating calls: WriteFile, AppendFile, Rename, CreateDirs, RemoveAll, RemoveDir,
  // Truncate, LinkFile, Symlink and the three syncs (WriteFileAtomic counts as its parts).
  void FailNthMutation(int64_t n);
  // Mutating calls so far (failed ones included).
  int64_t mutations() const;
  // When the injected failure fires, the error is also written to `path` (past the model), so
  // that a test can tell a failure that fired from one never reached. Empty: not written.
  void set_failure_marker(std::string path);

  // Makes the tree below root what the syncs made durable (see above). The Env keeps working
  // afterwards, with the result as its new durable state. Errors: IOError when the tree cannot
  // be rebuilt, Corruption naming a durable file whose content is nowhere to be found.
  Status PowerCut();

  const std::string& root() const { return root_; }

  Status WriteFile(const std::string& path, const std::string& data) override;
  // Appended bytes are durable once SyncFile records the file's new size.
  Status AppendFile(const std::string& path, const std::string& data) override;
  Status SyncFile(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status SyncFileSystem(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status CreateDirs(const std::string& dir) override;
  Status RemoveAll(const std::string& path) override;
  Status RemoveDir(const std::string& dir) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status LinkFile(const std::string& from, const std::string& to) override;
  Status Symlink(const std::string& target, const std::string& link) override;

 private:
  struct Entry {
    enum class Kind { kFile, kDir, kSymlink } kind;
    uint64_t ino = 0;    // file or directory
    std::string target;  // symlink
  };
  using Entries = std::map<std::string, Entry>;

  // Counts one mutating call; the injected error when it is the one to fail.
  Status CountMutation(const std::string& path);
  bool Below(const std::string& path) const;
  // Records `dir` (its current entries) as durable; recursively when `deep`, with file sizes.
  void RecordDir(const std::string& dir, bool deep);
  // Keeps the current content of the durable files at or below `path` in the keep directory,
  // before a removal, a rename over them or an in-place write.
  // `link`: a hard link (the path stays); otherwise the path (a whole subtree) moves there.
  void KeepDurable(const std::string& path, bool link);
  void Rebuild(uint64_t dir_ino, const std::string& to, const std::map<uint64_t, std::string>& found,
               std::vector<std::string>* lost);

  const std::string root_;
  const std::string keep_;  // "<root>.powercut"
  mutable std::mutex mu_;
  uint64_t root_ino_ = 0;
  std::map<uint64_t, Entries> dirs_;    // durable entries of each directory inode
  std::map<uint64_t, uint64_t> sizes_;  // durable size of each file inode
  int64_t mutations_ = 0;
  int64_t fail_at_ = 0;  // mutation number to fail, 0: none
  std::string failure_marker_;
};

// True for the files whose durability belongs to DuckDB (its database and WAL).
bool IsDuckDbOwnFile(const std::string& name);

}  // namespace sluice

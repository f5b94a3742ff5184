#include "ops/lineage_log.h"

#include <algorithm>
#include <filesystem>

#include "common/failpoint.h"

namespace sluice {

std::string LineageLog::FileOf(int64_t event_us) const {
  return dir_ + "/" + FormatTimestampMicros(event_us).substr(0, 10) + ".jsonl";
}

Status LineageLog::RepairTail(const std::string& path) {
  if (!env_->Exists(path)) return Status::OK();
  ASSIGN_OR_RETURN(std::string data, env_->ReadFile(path));
  if (data.empty() || data.back() == '\n') return Status::OK();
  const size_t last = data.rfind('\n');
  const uint64_t keep = last == std::string::npos ? 0 : last + 1;
  RETURN_IF_ERROR(env_->Truncate(path, keep));
  return env_->SyncFile(path);
}

Status LineageLog::Append(int64_t event_us, const std::vector<std::string>& lines) {
  if (lines.empty()) return Status::OK();
  std::string data;
  for (const auto& line : lines) data += line + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  const std::string path = FileOf(event_us);
  if (!checked_.count(path)) {
    if (!env_->Exists(dir_)) {
      // A new directory is durable once its parent's entries are.
      RETURN_IF_ERROR(env_->CreateDirs(dir_));
      RETURN_IF_ERROR(env_->SyncDir(std::filesystem::path(dir_).parent_path().string()));
    }
    const bool existed = env_->Exists(path);
    RETURN_IF_ERROR(RepairTail(path));
    RETURN_IF_ERROR(env_->AppendFile(path, data));
    SLUICE_FAILPOINT("lineage.after_append");
    RETURN_IF_ERROR(env_->SyncFile(path));
    if (!existed) RETURN_IF_ERROR(env_->SyncDir(dir_));
    checked_.insert(path);
    return Status::OK();
  }
  RETURN_IF_ERROR(env_->AppendFile(path, data));
  SLUICE_FAILPOINT("lineage.after_append");
  return env_->SyncFile(path);
}

Result<std::vector<std::string>> ReadLineageLines(Env* env, const std::string& dir) {
  std::vector<std::string> out;
  if (!env->Exists(dir)) return out;
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (name.size() < 6 || name.compare(name.size() - 6, 6, ".jsonl") != 0) continue;
    ASSIGN_OR_RETURN(std::string data, env->ReadFile(dir + "/" + name));
    size_t start = 0;
    while (start < data.size()) {
      const size_t end = data.find('\n', start);
      if (end == std::string::npos) break;  // a torn last line
      if (end > start) out.push_back(data.substr(start, end - start));
      start = end + 1;
    }
  }
  return out;
}

}  // namespace sluice

#include "spec/spec.h"

#include <algorithm>
#include <filesystem>

#include "common/env.h"
#include "spec/project_loader.h"
#include "spec/yaml_file.h"

namespace fs = std::filesystem;

namespace sluice {

std::optional<int64_t> ParseDuration(const std::string& text) {
  if (text.size() < 2 || text.size() > 12) return std::nullopt;
  int64_t n = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    n = n * 10 + (text[i] - '0');
  }
  switch (text.back()) {
    case 's':
      return n;
    case 'm':
      return n * 60;
    case 'h':
      return n * 3600;
    case 'd':
      return n * 86400;
    default:
      return std::nullopt;
  }
}

std::optional<int64_t> ParseDurationMillis(const std::string& text) {
  if (text.size() > 2 && text.compare(text.size() - 2, 2, "ms") == 0) {
    std::string digits = text.substr(0, text.size() - 2);
    if (digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(digits);
  }
  std::optional<int64_t> s = ParseDuration(text);
  if (!s) return std::nullopt;
  return *s * 1000;
}

const char* SourceTypeName(SourceType type) {
  switch (type) {
    case SourceType::kFiles:
      return "files";
    case SourceType::kHttp:
      return "http";
    case SourceType::kNats:
      return "nats";
  }
  return "?";
}

const SourceSpec* ProjectSpec::FindSource(const std::string& name) const {
  for (const auto& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

StagingRetention ProjectSpec::StagingRetentionFor(const SourceSpec& source) const {
  return source.retention ? *source.retention : retention.staging;
}

SnapshotRetention ProjectSpec::SnapshotRetentionFor(const TableSpec& table) const {
  return table.snapshot_retention ? *table.snapshot_retention : retention.snapshots;
}

const ConsumerSpec* ProjectSpec::FindConsumer(const std::string& name) const {
  for (const auto& c : consumers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool ProjectSpec::HasConsumers(const std::string& table) const {
  for (const auto& c : consumers) {
    if (c.table == table) return true;
  }
  return false;
}

const TableSpec* ProjectSpec::FindTable(const std::string& name) const {
  for (const auto& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Contract HeldColumns(const TableSpec& table, const Contract& contract) {
  if (table.columns.empty()) return contract;
  Contract held = contract;
  held.columns.clear();
  for (const auto& c : contract.columns) {
    if (std::find(table.columns.begin(), table.columns.end(), c.name) != table.columns.end()) {
      held.columns.push_back(c);
    }
  }
  return held;
}

int64_t ProjectSpec::MemoryLimit(MemoryUse use) const {
  return memory_limit_bytes ? *memory_limit_bytes : DefaultMemoryLimit(use);
}

Result<ProjectSpec> LoadProject(const std::string& project_dir) {
  const std::string dir = project_dir.empty() ? "." : project_dir;
  std::error_code ec;
  fs::path abs = fs::absolute(fs::path(dir), ec);
  if (ec) return Status::InvalidArgument(dir + ": cannot resolve project directory: " + ec.message());
  ProjectSpec spec;
  spec.root = Absolute(abs, ".");
  spec.spec_path = Absolute(spec.root, kSpecFile);
  if (!Env::Default()->Exists(spec.spec_path)) {
    return Status::NotFound("no sluice.yaml in " + dir + " (run `sluice init DIR` to create a project)");
  }
  Result<std::string> text = ReadSpecFile(spec.spec_path, kMaxYamlBytes);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no sluice.yaml in " + dir + " (run `sluice init DIR` to create a project)");
    }
    std::string why = text.status().message();
    if (why.rfind(spec.spec_path, 0) == 0) why = kSpecFile + why.substr(spec.spec_path.size());
    return Status(text.status().code(), why);
  }
  Status st = CatchYamlErrors(kSpecFile, [&]() -> Status {
    ASSIGN_OR_RETURN(YamlFile file, YamlFile::Parse(*text, kSpecFile));
    return ProjectLoader(file, &spec).Load();
  });
  if (!st.ok()) return st;
  return spec;
}

}  // namespace sluice

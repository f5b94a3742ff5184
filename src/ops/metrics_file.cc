#include "ops/metrics_file.h"

#include <filesystem>

#include "ops/pipeline_metrics.h"
#include "serve/metrics.h"

namespace sluice {

Result<std::string> BatchRunMetricsText(Catalog* catalog, bool success, int64_t now_us) {
  std::string text;
  if (catalog != nullptr) {
    PipelineMetrics metrics;
    RETURN_IF_ERROR(metrics.Collect(*catalog, now_us).WithContext("reading the catalog for metrics"));
    text = metrics.Render(now_us);
  }
  MetricsRegistry run;
  run.GetGauge("sluice_last_run_timestamp_seconds", "When the last `sluice run` finished (Unix time).")
      .Set(static_cast<double>(now_us) / 1e6);
  run.GetGauge("sluice_last_run_success", "1 when the last `sluice run` went through, 0 when it failed.")
      .Set(success ? 1 : 0);
  return text + run.Render();
}

Status CheckMetricsFilePath(Env* env, const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (path.empty() || path.back() == '/' || !env->Exists(dir)) {
    return Status::InvalidArgument("--metrics-file " + path + ": no such directory " + dir);
  }
  return Status::OK();
}

Status WriteMetricsFile(Env* env, const std::string& path, const std::string& text) {
  Status st = env->WriteFileAtomic(path, text);
  if (!st.ok()) return st.WithContext("writing the metrics file " + path);
  return Status::OK();
}

}  // namespace sluice

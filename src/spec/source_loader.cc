// `sources:` of sluice.yaml: type, format, contract, nats, batch, event time, partitioning.
#include "spec/project_loader.h"

namespace sluice {

Status ProjectLoader::ParseSource(const YamlEntry& entry) {
  const std::string field = "sources." + entry.key;
  SourceSpec source;
  source.name = entry.key;
  source.line = entry.key_node.Mark().line + 1;
  RETURN_IF_ERROR(CheckName(entry.key_node, field, "source", source.name));
  if (!entry.value.IsMap()) {
    return file_.Error(entry.value.IsNull() ? entry.key_node : entry.value, field,
                       "expected a mapping such as {type: files, path: ..., contract: ...}");
  }
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  if (const YamlEntry* type = FindEntry(keys, "type")) {
    ASSIGN_OR_RETURN(std::string t, file_.String(type->value, field + ".type"));
    if (t == "files") {
      source.type = SourceType::kFiles;
    } else if (t == "http") {
      source.type = SourceType::kHttp;
    } else if (t == "nats") {
      source.type = SourceType::kNats;
    } else if (t == "postgres" || t == "kafka") {
      return file_.Error(type->value, field + ".type",
                         "source type '" + t + "' is not supported yet (supported: files, http, nats)");
    } else {
      return file_.Error(type->value, field + ".type",
                         "unknown source type '" + t +
                             "' (known: files, http, nats, postgres; supported: files, http, nats)");
    }
  }
  std::vector<std::string> allowed = {"type",       "format",           "contract",  "partition_by",
                                      "event_time", "allowed_lateness", "retention", "replay_window"};
  if (source.type == SourceType::kFiles) {
    allowed.insert(allowed.end(), {"path", "csv", "max_dead_ratio"});
  } else {
    allowed.push_back("batch");
    if (source.type == SourceType::kNats) allowed.push_back("nats");
  }
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, allowed));

  if (source.type == SourceType::kFiles) {
    const YamlEntry* path = FindEntry(keys, "path");
    if (path == nullptr) {
      return file_.Error(entry.key_node, field + ".path",
                         "missing; a files source needs a glob such as landing/orders/*.jsonl");
    }
    ASSIGN_OR_RETURN(std::string glob, file_.String(path->value, field + ".path"));
    if (glob.empty()) return file_.Error(path->value, field + ".path", "is empty");
    source.path = Absolute(spec_.root, glob);
  }

  if (const YamlEntry* format = FindEntry(keys, "format")) {
    ASSIGN_OR_RETURN(std::string f, file_.String(format->value, field + ".format"));
    if (f == "jsonl") {
      source.format = SourceFormat::kJsonl;
    } else if (source.streaming()) {
      return file_.Error(format->value, field + ".format",
                         "a " + std::string(SourceTypeName(source.type)) +
                             " source takes JSON events: format jsonl (found '" + f + "')");
    } else if (f == "csv") {
      source.format = SourceFormat::kCsv;
    } else if (f == "parquet") {
      source.format = SourceFormat::kParquet;
    } else {
      return file_.Error(format->value, field + ".format",
                         "unknown format '" + f + "' (known: jsonl, csv, parquet)");
    }
  }
  if (const YamlEntry* ratio = FindEntry(keys, "max_dead_ratio")) {
    ASSIGN_OR_RETURN(double r, file_.Number(ratio->value, field + ".max_dead_ratio"));
    if (!(r >= 0 && r <= 1)) {
      return file_.Error(ratio->value, field + ".max_dead_ratio",
                         "expected a share of a file's rows between 0 and 1, found " + ratio->value.Scalar());
    }
    source.max_dead_ratio = r;
  }
  if (const YamlEntry* nats = FindEntry(keys, "nats")) RETURN_IF_ERROR(ParseNats(*nats, &source));
  if (source.type == SourceType::kNats && source.nats.stream.empty()) {
    return file_.Error(entry.key_node, field + ".nats",
                       "missing; a nats source needs {url: nats://127.0.0.1:4222, stream: ORDERS,"
                       " subject: orders.>}");
  }
  if (const YamlEntry* batch = FindEntry(keys, "batch")) RETURN_IF_ERROR(ParseBatch(*batch, &source));

  if (const YamlEntry* csv = FindEntry(keys, "csv")) {
    const std::string f = field + ".csv";
    if (source.format != SourceFormat::kCsv) {
      return file_.Error(
          csv->key_node, f,
          "csv options only apply to format: csv (this source is " + FormatName(source.format) + ")");
    }
    ASSIGN_OR_RETURN(auto opts, file_.Entries(csv->value, f));
    RETURN_IF_ERROR(file_.CheckKeys(opts, f, {"delimiter"}));
    if (const YamlEntry* d = FindEntry(opts, "delimiter")) {
      ASSIGN_OR_RETURN(std::string delim, file_.String(d->value, f + ".delimiter"));
      if (delim.size() != 1 || delim[0] == '\n' || delim[0] == '\r' || delim[0] == '"') {
        return file_.Error(
            d->value, f + ".delimiter",
            "expected a single character other than a quote or line break, found '" + delim + "'");
      }
      source.csv_delimiter = delim[0];
    }
  }

  const YamlEntry* contract = FindEntry(keys, "contract");
  if (contract == nullptr) {
    return file_.Error(entry.key_node, field + ".contract",
                       "missing; a source needs a contract file such as contracts/" + entry.key + ".yaml");
  }
  ASSIGN_OR_RETURN(std::string contract_path, file_.String(contract->value, field + ".contract"));
  if (contract_path.empty()) return file_.Error(contract->value, field + ".contract", "is empty");
  source.contract_path = Absolute(spec_.root, contract_path);
  Result<std::string> text = ReadSpecFile(source.contract_path, kMaxYamlBytes);
  if (!text.ok()) {
    std::string why = text.status().message();
    if (why.rfind(source.contract_path, 0) == 0) why = why.substr(source.contract_path.size());
    if (why.rfind(": ", 0) == 0) why = why.substr(2);
    return file_.Error(contract->value, field + ".contract",
                       "cannot read contract " + contract_path + ": " + why);
  }
  // Contract errors name the contract file as written here, relative to the project.
  ASSIGN_OR_RETURN(source.contract, ParseContract(*text, contract_path));
  // The registry, `schema check --against FILE` and the messages know a contract by its name:
  // it is the name of its source, so one that says otherwise was copied from another source.
  if (source.contract.name != source.name) {
    YAML::Mark at;
    at.line = source.contract.name_line - 1;
    at.column = source.contract.name_column - 1;
    return Status::InvalidArgument(LocatedMessage(
        contract_path, at, "name",
        "'" + source.contract.name + "' is not the name of source '" + source.name + "' (sluice.yaml:" +
            std::to_string(source.line) + ") that uses this contract; a contract is named after its source"));
  }

  if (const YamlEntry* part = FindEntry(keys, "partition_by")) {
    RETURN_IF_ERROR(ParseSourcePartition(*part, &source));
  }
  RETURN_IF_ERROR(ParseEventTime(keys, &source));
  if (const YamlEntry* retention = FindEntry(keys, "retention")) {
    ASSIGN_OR_RETURN(source.retention, ParseStagingRetention(file_, *retention, field + ".retention"));
  }
  if (const YamlEntry* window = FindEntry(keys, "replay_window")) {
    ASSIGN_OR_RETURN(source.replay_window_seconds,
                     ParseRetentionDuration(file_, *window, field + ".replay_window"));
  }
  spec_.sources.push_back(std::move(source));
  return Status::OK();
}

Status ProjectLoader::ParseNats(const YamlEntry& entry, SourceSpec* source) {
  const std::string field = "sources." + source->name + ".nats";
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"url", "stream", "subject", "durable"}));
  NatsSourceSpec& n = source->nats;
  n.url = "nats://127.0.0.1:4222";
  n.durable = "sluice_" + source->name;
  for (const auto& e : keys) {
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, field + "." + e.key));
    if (v.empty()) return file_.Error(e.value, field + "." + e.key, "is empty");
    if (e.key == "url") {
      if (v.rfind("nats://", 0) != 0) {
        return file_.Error(e.value, field + ".url", "expected nats://host:port, found '" + v + "'");
      }
      n.url = v;
    } else if (e.key == "stream" || e.key == "durable") {
      // JetStream names: no spaces, dots, wildcards or path separators.
      if (v.find_first_of(" \t.*>/\\") != std::string::npos) {
        return file_.Error(e.value, field + "." + e.key,
                           "'" + v + "' is not a valid JetStream name (no spaces, '.', '*', '>', '/')");
      }
      (e.key == "stream" ? n.stream : n.durable) = v;
    } else {
      n.subject = v;
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseBatch(const YamlEntry& entry, SourceSpec* source) {
  const std::string field = "sources." + source->name + ".batch";
  ASSIGN_OR_RETURN(auto keys, file_.Entries(entry.value, field));
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"max_rows", "max_wait"}));
  for (const auto& e : keys) {
    ASSIGN_OR_RETURN(std::string v, file_.String(e.value, field + "." + e.key));
    if (e.key == "max_rows") {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 10000000) {
        return file_.Error(e.value, field + ".max_rows",
                           "expected a number of rows from 1 to 10000000, found '" + v + "'");
      }
      source->batch.max_rows = n;
    } else {
      std::optional<int64_t> ms = ParseDurationMillis(v);
      if (!ms || *ms <= 0) {
        return file_.Error(e.value, field + ".max_wait",
                           "'" + v + "' is not a duration; write e.g. 200ms, 1s or 1m");
      }
      source->batch.max_wait_ms = *ms;
    }
  }
  return Status::OK();
}

Status ProjectLoader::ParseEventTime(const std::vector<YamlEntry>& keys, SourceSpec* source) {
  const std::string field = "sources." + source->name;
  if (const YamlEntry* e = FindEntry(keys, "event_time")) {
    ASSIGN_OR_RETURN(std::string column, file_.String(e->value, field + ".event_time"));
    int idx = source->contract.Find(column);
    if (idx < 0) {
      return file_.Error(e->value, field + ".event_time",
                         "column '" + column + "' is not in contract '" + source->contract.name + "' (" +
                             source->contract.path + ")");
    }
    if (source->contract.columns[static_cast<size_t>(idx)].type.kind != TypeKind::kTimestamp) {
      return file_.Error(e->value, field + ".event_time",
                         "column '" + column + "' is " +
                             source->contract.columns[static_cast<size_t>(idx)].type.Name() +
                             "; event time needs a timestamp column");
    }
    source->event_time = column;
  }
  if (const YamlEntry* e = FindEntry(keys, "allowed_lateness")) {
    if (source->event_time.empty()) {
      return file_.Error(e->key_node, field + ".allowed_lateness",
                         "needs event_time: the timestamp column lateness is measured on");
    }
    ASSIGN_OR_RETURN(std::string v, file_.String(e->value, field + ".allowed_lateness"));
    std::optional<int64_t> ms = ParseDurationMillis(v);
    if (!ms) {
      return file_.Error(e->value, field + ".allowed_lateness",
                         "'" + v + "' is not a duration; write e.g. 30s, 5m or 1h");
    }
    source->allowed_lateness_ms = *ms;
  }
  return Status::OK();
}

Status ProjectLoader::ParseSourcePartition(const YamlEntry& part, SourceSpec* source) {
  const std::string field = "sources." + source->name + ".partition_by";
  if (part.value.IsNull()) return Status::OK();
  ASSIGN_OR_RETURN(auto keys, file_.Entries(part.value, field));
  RETURN_IF_ERROR(file_.CheckKeys(keys, field, {"day", "tenant"}));
  const Contract& c = source->contract;
  const std::string in_contract = "contract '" + c.name + "' (" + c.path + ")";
  for (const auto& e : keys) {
    const std::string f = field + "." + e.key;
    ASSIGN_OR_RETURN(std::string column, file_.String(e.value, f));
    int idx = c.Find(column);
    if (idx < 0) {
      return file_.Error(e.value, f, "column '" + column + "' is not in " + in_contract);
    }
    const ColumnSpec& col = c.columns[static_cast<size_t>(idx)];
    if (e.key == "day") {
      if (col.type.kind != TypeKind::kDate && col.type.kind != TypeKind::kTimestamp) {
        return file_.Error(e.value, f,
                           "column '" + column + "' is " + col.type.Name() +
                               "; a day partition needs a date or timestamp column");
      }
      source->partition_by.day = column;
    } else {
      if (col.type.kind != TypeKind::kString) {
        return file_.Error(
            e.value, f,
            "column '" + column + "' is " + col.type.Name() + "; a tenant partition needs a string column");
      }
      source->partition_by.tenant = column;
    }
    if (!col.required) {
      return file_.Error(e.value, f,
                         "partition column '" + column + "' must be `required: true` in contract '" + c.name +
                             "' (" + c.path + ":" + std::to_string(col.line) + ")");
    }
  }
  return Status::OK();
}

}  // namespace sluice

#include "sample/example_project.h"

#include <filesystem>

#include "common/env.h"

namespace sluice {

std::string ProjectNameFor(const std::string& dir) {
  std::filesystem::path path = std::filesystem::path(dir).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "shop/" -> "shop"
  std::string base = path.filename().string();
  if (base == "." || base == "..") {
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec).lexically_normal();
    base = ec ? "" : absolute.filename().string();
  }
  std::string name;
  for (char c : base) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    name += (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
  }
  if (name.find_first_not_of('_') == std::string::npos) return "project";
  if (name[0] >= '0' && name[0] <= '9') name = "_" + name;
  return name.substr(0, 63);
}

std::string ExampleSluiceYaml(const std::string& format, const std::string& name) {
  return "name: " + name +
         "\n"
         "lake: lake\n"
         "sources:\n"
         "  orders:\n"
         "    type: files\n"
         "    path: landing/orders/*." +
         format +
         "\n"
         "    format: " +
         format +
         "\n"
         "    contract: contracts/orders.yaml\n"
         "    partition_by: {day: created_at, tenant: tenant_id}\n"
         "tables:\n"
         "  orders:\n"
         "    from: orders\n"
         "    key: [order_id]\n"
         "    version: seq\n"
         "    tests: [{not_null: order_id}, {unique: order_id}, {accepted_values: {column: status, "
         "values: [created, paid, shipped, delivered, cancelled]}}]\n"
         "  daily_revenue:\n"
         "    sql: models/daily_revenue.sql\n"
         "    partition_by: {day: day, tenant: tenant_id}\n";
}

std::string ExampleOrdersContract() {
  return "name: orders\n"
         "compatibility: full_transitive\n"
         "columns:\n"
         "  order_id:   {type: string, required: true}\n"
         "  tenant_id:  {type: string, required: true}\n"
         "  status:     {type: string, enum: [created, paid, shipped, delivered, cancelled]}\n"
         "  amount:     {type: decimal(12,2), min: 0}\n"
         "  created_at: {type: timestamp, required: true}\n"
         "  seq:        {type: int64, required: true}\n";
}

std::string ExampleDailyRevenueSql() {
  return "SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, "
         "sum(amount) AS revenue\n"
         "FROM curated.orders WHERE status <> 'cancelled' GROUP BY ALL\n";
}

Status WriteExampleProject(const std::string& dir, const OrderGeneratorOptions& options,
                           const std::string& name) {
  if (options.format != "jsonl" && options.format != "csv") {
    return Status::InvalidArgument("format must be jsonl or csv, got '" + options.format + "'");
  }
  Env* env = Env::Default();
  const std::string yaml = dir + "/sluice.yaml";
  if (env->Exists(yaml)) {
    return Status::AlreadyExists(yaml + ": a project already exists here; not overwriting it");
  }
  RETURN_IF_ERROR(env->CreateDirs(dir + "/contracts"));
  RETURN_IF_ERROR(env->CreateDirs(dir + "/models"));
  RETURN_IF_ERROR(env->WriteFile(dir + "/contracts/orders.yaml", ExampleOrdersContract()));
  RETURN_IF_ERROR(env->WriteFile(dir + "/models/daily_revenue.sql", ExampleDailyRevenueSql()));
  const std::string landing = dir + "/landing/orders";
  RETURN_IF_ERROR(GenerateOrders(options, landing, landing + "/expected.json"));
  // Last, so that a project with a sluice.yaml is a complete one.
  return env->WriteFile(yaml, ExampleSluiceYaml(options.format, name));
}

}  // namespace sluice

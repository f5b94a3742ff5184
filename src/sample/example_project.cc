#include "sample/example_project.h"

#include "common/env.h"

namespace sluice {

std::string ExampleSluiceYaml(const std::string& format) {
  return "name: shop\n"
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

Status WriteExampleProject(const std::string& dir, const OrderGeneratorOptions& options) {
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
  return env->WriteFile(yaml, ExampleSluiceYaml(options.format));
}

}  // namespace sluice

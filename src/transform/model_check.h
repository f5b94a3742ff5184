// The check of every mart's model against the lake, before a run moves any data.
//
// A mart's output columns are known only to DuckDB, once it binds the model. CheckMartModels
// binds each model (DESCRIBE, nothing is executed) in dependency order, over the lake's curated
// tables and staging views as they are and over the models of the marts it reads (not their
// last build, which may be older than their SQL), and checks that every column sluice.yaml names
// for it (TableSpec::output_columns: `partition_by`, test columns, relationships' fields) is one
// of its output columns. Everything it creates to bind (missing curated tables, views standing
// for marts) is rolled back: the lake is left as it was.
#pragma once

#include "catalog/catalog.h"
#include "common/status.h"

namespace sluice {

// InvalidArgument "sluice.yaml:12:19: tables.m.partition_by.day: column 'x' is not an output of
// model <path> (outputs: a, b)" for a named column the model does not output; the binding
// error, with the mart and its model file, when a model does not bind. Runs in its own
// transaction (none may be open). Not thread-safe (the catalog's connection).
Status CheckMartModels(Catalog& catalog);

}  // namespace sluice

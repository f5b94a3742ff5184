#include "cli/commands.h"

namespace sluice::cli {

int Batches(const BatchesArgs&) { return Fail("not implemented yet"); }

}  // namespace sluice::cli

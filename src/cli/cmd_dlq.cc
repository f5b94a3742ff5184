#include "cli/commands.h"

namespace sluice::cli {

int Dlq(const DlqArgs&) { return Fail("not implemented yet"); }
int Vacuum(const VacuumArgs&) { return Fail("not implemented yet"); }

}  // namespace sluice::cli

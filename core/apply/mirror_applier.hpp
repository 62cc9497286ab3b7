// Mirror mode at the target: events become rows of the table of the same schema and name, in
// the batches of TargetApplier (offsets in the same transaction: exactly once).
#pragma once

#include <map>
#include <set>
#include <string>

#include "core/apply/target_applier.hpp"

namespace pgcs::apply {

class MirrorApplier : public TargetApplier {
  public:
    using TargetApplier::TargetApplier;

    // Empties schema.table in the open batch (when the target has it).
    void truncate(const SinkEvent& event) override;

  protected:
    void apply_event(const SinkEvent& event) override;

  private:
    void ensure_table(const SinkEvent& event);

    std::map<std::string, std::set<std::string>> columns_;  // known target columns by table
};

}  // namespace pgcs::apply

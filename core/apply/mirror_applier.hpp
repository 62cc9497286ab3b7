// Mirror mode at the target: events become rows of the table of the same schema and name, in
// the batches of TargetApplier (offsets in the same transaction: exactly once); consecutive
// events that one statement can apply are one statement (MirrorBatch).
#pragma once

#include <map>
#include <set>
#include <string>

#include "core/apply/mirror_batch.hpp"
#include "core/apply/target_applier.hpp"

namespace pgcs::apply {

class MirrorApplier : public TargetApplier {
  public:
    using TargetApplier::TargetApplier;

    // Empties schema.table in the open batch (when the target has it).
    void truncate(const SinkEvent& event) override;

  protected:
    void apply_event(const SinkEvent& event) override;
    void drain() override;

  private:
    void ensure_table(const SinkEvent& event);
    void emit(const MirrorRun& run);  // a closed run into the open batch

    std::map<std::string, std::string> staging_;  // a run's table and columns -> staging table

    std::map<std::string, std::set<std::string>> columns_;  // known target columns by table
    MirrorBatch batch_;  // the open run of upserts or deletes, one statement when it ends
};

}  // namespace pgcs::apply

// See encoder_factory.hpp.
#include "core/encode/encoder_factory.hpp"

#include "core/encode/changeset_encoder.hpp"

namespace pgcs::encode {

std::unique_ptr<EventEncoder> make_event_encoder(const FormatSettings& settings,
                                                 const changeset::TypeRegistry& types) {
    if (settings.format == Format::Debezium) {
        return std::make_unique<DebeziumEncoder>(types, settings.debezium);
    }
    return std::make_unique<ChangesetEncoder>(types);
}

}  // namespace pgcs::encode

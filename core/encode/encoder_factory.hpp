// kafka.format -> the EventEncoder that writes it.
#pragma once

#include <memory>

#include "core/encode/debezium_encoder.hpp"
#include "core/encode/event_encoder.hpp"

namespace pgcs::encode {

enum class Format { Native, Debezium };

struct FormatSettings {
    Format format = Format::Native;
    DebeziumSettings debezium;  // Format::Debezium only
};

std::unique_ptr<EventEncoder> make_event_encoder(const FormatSettings& settings,
                                                 const changeset::TypeRegistry& types);

}  // namespace pgcs::encode

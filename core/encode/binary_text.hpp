// Binary-format column values (pgoutput `binary 'true'`) -> the text PostgreSQL's output
// function prints under the session settings the source sets (DateStyle=ISO, TimeZone=UTC,
// IntervalStyle=iso_8601, extra_float_digits=3, bytea_output=hex). The JSON is then written
// from that text by the same code as in text mode, so both modes give byte-for-byte the same
// events. Types whose binary form is not decoded here are converted by the server instead
// (see BinaryFallback).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/changeset/type_registry.hpp"

namespace pgcs::encode {

// Converts a binary value of type `type_oid` to PostgreSQL's text form by asking the server
// (the type's receive function, then its output function). Throws on failure.
using BinaryFallback =
    std::function<std::string(changeset::Oid type_oid, std::span<const std::byte> bytes)>;

// Appends the text form of `bytes`, a value of `type` in its binary (send) form, to `out`.
// Returns false, leaving `out` as it was, when this type's binary form is not decoded here.
// Throws ValueFormatError when the bytes are malformed.
bool binary_to_text(const changeset::TypeRegistry& registry, const changeset::TypeInfo& type,
                    std::span<const std::byte> bytes, std::string& out);

}  // namespace pgcs::encode

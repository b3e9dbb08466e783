// A small JSON reader for provider payloads, built to be safe on any input: recursion is bounded (containers
// below a fixed depth, and arrays below the top level, are skipped by an iterative scan instead of being
// read), nodes live in one flat vector capped at kMaxNodes, and strings stay views into the input until a
// caller asks for one decoded. Metering needs only a few shallow fields, so nothing deeper is ever read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace usage_meter::json {

enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object, Skipped };

// Objects are read down to this depth (the root is depth 0); anything deeper is Skipped.
constexpr int kMaxDepth = 5;
// At most this many nodes are read; a payload with more is refused (about 100 MB of nodes at most).
constexpr size_t kMaxNodes = 2000000;

class Document {
public:
    using NodeId = int32_t;
    static constexpr NodeId kNone = -1;

    // Parses text; throws CoreError(InvalidParameter) naming `argument` when it is not JSON.
    Document(std::string_view text, std::string_view argument);

    NodeId root() const { return 0; }
    Kind kind(NodeId id) const { return nodes_[id].kind; }
    bool boolean(NodeId id) const { return nodes_[id].boolean; }
    // Number: its text exactly as written. String: the text between the quotes, escapes not decoded.
    std::string_view raw(NodeId id) const { return nodes_[id].raw; }
    // A String node's decoded value.
    std::string string(NodeId id) const;

    // The value of `key` in an object (the last one when a key repeats, as jsonb keeps it); kNone when the
    // node is not an object or has no such key.
    NodeId member(NodeId object, std::string_view key) const;
    // Iterates an array's elements or an object's values: first_child, then next_sibling until kNone.
    NodeId first_child(NodeId id) const { return nodes_[id].first_child; }
    NodeId next_sibling(NodeId id) const { return nodes_[id].next_sibling; }
    // An object member's key (decoded).
    std::string key(NodeId id) const;

private:
    struct Node {
        Kind kind = Kind::Null;
        bool boolean = false;
        bool escaped = false;      // raw contains backslash escapes
        bool key_escaped = false;  // key contains backslash escapes
        NodeId first_child = kNone;
        NodeId next_sibling = kNone;
        std::string_view raw;
        std::string_view key;
    };

    NodeId parse_value(int depth);
    void check_escapes(std::string_view raw) const;
    void skip_container();
    std::string_view scan_string(bool* escaped);
    std::string_view scan_number();
    void skip_whitespace();
    NodeId add(Kind kind);
    [[noreturn]] void fail(const std::string& what) const;

    std::string_view text_;
    std::string_view argument_;
    size_t pos_ = 0;
    std::vector<Node> nodes_;
};

// Decodes the inside of a JSON string (escapes included) into UTF-8; throws on a bad escape.
std::string decode_string(std::string_view raw);

}  // namespace usage_meter::json

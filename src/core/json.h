// A provider payload as the core reads it: a tree of typed JSON values in one flat array of plain nodes.
// Nobody here parses JSON by hand. The PostgreSQL adapter builds the tree by walking the jsonb PostgreSQL has
// already parsed (src/pg/payload.cpp); Document builds it from JSON text with nlohmann/json's SAX parser, for
// the text inside a server-sent-events stream, the unit tests and the fuzz target. Both builders follow the
// same rules, so the payload logic sees the same tree either way:
// - numbers keep their exact text (never a double), strings and keys are decoded UTF-8;
// - objects are read down to kMaxDepth and arrays only at the top level (a stream's events); any other
//   container becomes one SkippedArray / SkippedObject node, so reading never recurses deeply;
// - at most kMaxNodes nodes are built; a payload with more is refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace usage_meter::json {

enum class Kind : uint8_t { Null, Bool, Number, String, Array, Object, SkippedArray, SkippedObject };

// Objects are read down to this depth (the root is depth 0); anything deeper is skipped.
constexpr int kMaxDepth = 5;
// At most this many nodes are built; a payload with more is refused (about 100 MB of nodes at most).
constexpr size_t kMaxNodes = 2000000;

// Whether a container at `depth` is read into the tree (true) or kept as one skipped node.
constexpr bool read_container(bool object, int depth) { return object ? depth <= kMaxDepth : depth == 0; }

using NodeId = int32_t;
constexpr NodeId kNone = -1;

// One value. Plain data, so that the adapter can build the tree in memory PostgreSQL owns, in a frame an
// ERROR may unwind.
struct Node {
    Kind kind;
    bool boolean;
    NodeId first_child;   // Array, Object: the first element or member; kNone when empty
    NodeId next_sibling;  // the next element or member of the parent; kNone for the last
    const char* key;      // an object member's key, decoded UTF-8, not NUL-terminated
    uint32_t key_length;
    uint32_t text_length;
    const char* text;  // Number: its exact text; String: its decoded UTF-8 value; otherwise null
};
static_assert(std::is_trivially_destructible_v<Node> && std::is_trivially_copyable_v<Node>);

// A read-only view of a tree whose nodes[0] is the root. `complete` is false when the builder stopped at
// kMaxNodes: such a tree is refused by whoever reads it (check_complete).
class Tree {
public:
    Tree(const Node* nodes, size_t count, bool complete) : nodes_(nodes), count_(count), complete_(complete) {}

    size_t size() const { return count_; }

    // Throws CoreError(InvalidParameter) naming `argument` when the builder stopped at kMaxNodes.
    void check_complete(std::string_view argument) const;

    NodeId root() const { return 0; }
    Kind kind(NodeId id) const { return nodes_[id].kind; }
    bool boolean(NodeId id) const { return nodes_[id].boolean; }
    // Number: its text exactly; String: its decoded value.
    std::string_view text(NodeId id) const { return {nodes_[id].text, nodes_[id].text_length}; }
    // An object member's key.
    std::string_view key(NodeId id) const { return {nodes_[id].key, nodes_[id].key_length}; }

    // The value of `key` in an object (the last one when a key repeats, as jsonb keeps it); kNone when the
    // node is not an object or has no such key.
    NodeId member(NodeId object, std::string_view key) const;
    // Iterates an array's elements or an object's values: first_child, then next_sibling until kNone.
    NodeId first_child(NodeId id) const { return nodes_[id].first_child; }
    NodeId next_sibling(NodeId id) const { return nodes_[id].next_sibling; }

private:
    const Node* nodes_;
    size_t count_;
    bool complete_;
};

// The refusal for a payload of more than kMaxNodes values, shared by every builder.
[[noreturn]] void refuse_too_many_values(std::string_view argument);

// A tree built from JSON text, owning its nodes and strings.
class Document {
public:
    // Parses one JSON value; throws CoreError(InvalidParameter) naming `argument` when the text is not JSON
    // (saying what and at which byte) or has more than kMaxNodes values.
    Document(std::string_view text, std::string_view argument);

    // A top-level array whose elements are the given JSON texts, each parsed as one value (the data of a
    // stream's events); names[i] says which element texts[i] is in messages.
    static Document array_of(const std::vector<std::string>& texts, const std::vector<std::string>& names,
                             std::string_view argument);

    Document(const Document&) = delete;
    Document& operator=(const Document&) = delete;
    Document(Document&&) = default;

    Tree tree() const { return Tree(nodes_.data(), nodes_.size(), true); }

private:
    Document() = default;
    friend class Builder;

    // Keeps a copy of text where it never moves, and returns it.
    const char* keep(std::string_view text);

    std::vector<Node> nodes_;
    std::vector<std::unique_ptr<char[]>> chunks_;  // the keys, strings and number texts the nodes point into
    size_t chunk_used_ = 0;
    size_t chunk_size_ = 0;
};

}  // namespace usage_meter::json

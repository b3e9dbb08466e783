#include "json.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "error.h"

namespace usage_meter::json {

void refuse_too_many_values(std::string_view argument) {
    throw CoreError(ErrorKind::InvalidParameter,
                    "invalid " + std::string(argument) + ": more than " + std::to_string(kMaxNodes) +
                        " JSON values near the top of the document",
                    "pass the provider's response (or its usage part), not an aggregate of many");
}

void Tree::check_complete(std::string_view argument) const {
    if (!complete_) refuse_too_many_values(argument);
}

NodeId Tree::member(NodeId object, std::string_view key) const {
    if (object == kNone || nodes_[object].kind != Kind::Object) return kNone;
    NodeId found = kNone;
    for (NodeId c = nodes_[object].first_child; c != kNone; c = nodes_[c].next_sibling)
        if (this->key(c) == key) found = c;
    return found;
}

const char* Document::keep(std::string_view text) {
    if (text.empty()) return "";
    constexpr size_t kChunk = 64 * 1024;
    if (chunk_size_ - chunk_used_ < text.size()) {
        chunk_size_ = text.size() > kChunk ? text.size() : kChunk;
        chunks_.emplace_back(new char[chunk_size_]);
        chunk_used_ = 0;
    }
    char* at = chunks_.back().get() + chunk_used_;
    std::memcpy(at, text.data(), text.size());
    chunk_used_ += text.size();
    return at;
}

// Builds a Document from nlohmann/json's SAX events (its parser is iterative: no recursion however deep the
// text nests). Containers that are not read are counted through, not built.
class Builder {
public:
    Builder(Document& doc, std::string_view argument) : doc_(doc), argument_(argument) {}

    // Parses one JSON value of `text`: the root, or the next element of an open array (array_of).
    void parse(std::string_view text, std::string_view where) {
        text_ = text;
        base_ = stack_.size();
        done_ = false;
        // JSON text never holds a raw NUL (inside a string it must be escaped); the parser would take one for
        // the end of the text and ignore the rest.
        if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
            std::string prefix = "invalid " + std::string(argument_) + ": ";
            if (!where.empty()) prefix += std::string(where) + ": ";
            throw CoreError(ErrorKind::InvalidParameter, prefix + "a NUL byte at byte " + std::to_string(nul));
        }
        if (nlohmann::json::sax_parse(text.begin(), text.end(), this)) return;
        if (too_many_) refuse_too_many_values(argument_);
        fail(where);
    }

    // Opens the root array that array_of fills.
    void open_root_array() { open(false); }

    // ---- the SAX interface ----
    bool null() { return scalar(Kind::Null); }
    bool boolean(bool value) {
        NodeId id = kNone;
        if (!scalar(Kind::Bool, &id)) return false;
        if (id != kNone) doc_.nodes_[id].boolean = value;
        return true;
    }
    // An integer token's value prints back to its exact text; any other number arrives as its own text.
    bool number_integer(nlohmann::json::number_integer_t value) { return number(std::to_string(value)); }
    bool number_unsigned(nlohmann::json::number_unsigned_t value) { return number(std::to_string(value)); }
    bool number_float(nlohmann::json::number_float_t, const std::string& text) { return number(text); }
    bool string(std::string& value) {
        NodeId id = kNone;
        if (!scalar(Kind::String, &id)) return false;
        if (id != kNone) set_text(id, value);
        return true;
    }
    bool binary(nlohmann::json::binary_t&) { return true; }  // JSON text has none
    bool key(std::string& name) {
        if (skipping_ == 0) key_ = name;
        return true;
    }
    bool start_object(std::size_t) { return open(true); }
    bool end_object() { return close(); }
    bool start_array(std::size_t) { return open(false); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) {
        error_position_ = position;
        error_id_ = error.id;
        error_what_ = error.what();
        return false;
    }

private:
    struct Frame {
        NodeId node;
        NodeId last;
        bool object;
    };

    // Adds a node as the next child of the open container; kNone (and too_many_) past kMaxNodes.
    NodeId add(Kind kind) {
        std::vector<Node>& nodes = doc_.nodes_;
        if (nodes.size() >= kMaxNodes) {
            too_many_ = true;
            return kNone;
        }
        NodeId id = static_cast<NodeId>(nodes.size());
        nodes.push_back(Node{kind, false, kNone, kNone, "", 0, 0, nullptr});
        if (!stack_.empty()) {
            Frame& parent = stack_.back();
            if (parent.last == kNone)
                nodes[parent.node].first_child = id;
            else
                nodes[parent.last].next_sibling = id;
            parent.last = id;
            if (parent.object) {
                nodes[id].key = doc_.keep(key_);
                nodes[id].key_length = static_cast<uint32_t>(key_.size());
            }
        }
        return id;
    }

    void set_text(NodeId id, std::string_view text) {
        doc_.nodes_[id].text = doc_.keep(text);
        doc_.nodes_[id].text_length = static_cast<uint32_t>(text.size());
    }

    bool scalar(Kind kind, NodeId* id = nullptr) {
        if (skipping_ > 0) return true;
        NodeId added = add(kind);
        if (added == kNone) return false;
        if (id) *id = added;
        if (stack_.size() == base_) done_ = true;
        return true;
    }

    bool number(const std::string& text) {
        NodeId id = kNone;
        if (!scalar(Kind::Number, &id)) return false;
        if (id != kNone) set_text(id, text);
        return true;
    }

    bool open(bool object) {
        if (skipping_ > 0) {
            ++skipping_;
            return true;
        }
        int depth = static_cast<int>(stack_.size());
        if (!read_container(object, depth)) {
            if (add(object ? Kind::SkippedObject : Kind::SkippedArray) == kNone) return false;
            skipping_ = 1;
            return true;
        }
        NodeId id = add(object ? Kind::Object : Kind::Array);
        if (id == kNone) return false;
        stack_.push_back(Frame{id, kNone, object});
        return true;
    }

    bool close() {
        if (skipping_ > 0) {
            if (--skipping_ == 0 && stack_.size() == base_) done_ = true;
            return true;
        }
        stack_.pop_back();
        if (stack_.size() == base_) done_ = true;
        return true;
    }

    // The refusal for text the parser rejected: what is wrong and at which byte, in the words of the old
    // messages (unterminated, mismatched, unexpected character, escape), with the parser's own reason.
    [[noreturn]] void fail(std::string_view where) const {
        std::string prefix = "invalid " + std::string(argument_) + ": ";
        if (!where.empty()) prefix += std::string(where) + ": ";
        std::string reason = error_what_;
        size_t at = reason.find("] ");
        if (at != std::string::npos) reason.erase(0, at + 2);
        if (reason.rfind("parse error", 0) == 0 && (at = reason.find(": ")) != std::string::npos)
            reason.erase(0, at + 2);
        if ((at = reason.find("; last read")) != std::string::npos) reason.erase(at);
        std::string byte = " at byte " + std::to_string(error_position_);
        if (error_id_ == 406)  // out_of_range.406: a number beyond what a double holds
            throw CoreError(ErrorKind::OutOfRange, prefix + "a number is more than 1.8e308" + byte,
                            "token counts must be between 0 and 1000000000000");
        std::string what;
        char last = error_position_ > 0 && error_position_ <= text_.size() ? text_[error_position_ - 1] : '\0';
        if (done_) {
            what = "unexpected text after the JSON value";
        } else if (text_.find_first_not_of(" \t\r\n") == std::string_view::npos) {
            what = "no JSON value (the text is empty)";
        } else if (error_position_ >= text_.size() && reason.find("invalid string: control") == std::string::npos) {
            what = "unterminated string, object or array";
        } else if (last == '}' || last == ']') {
            what = std::string("mismatched bracket '") + last + "'";
        } else if (reason.find("invalid string") != std::string::npos) {
            bool escape = reason.find("\\u") != std::string::npos || reason.find("surrogate") != std::string::npos ||
                          reason.find("backslash") != std::string::npos;
            what = escape ? "invalid escape in a string" : "invalid string";
        } else if (reason.find("invalid number") != std::string::npos) {
            what = "invalid number";
        } else {
            what = "unexpected character";
            if (last > ' ' && last < 0x7F) what += std::string(" '") + last + "'";
        }
        throw CoreError(ErrorKind::InvalidParameter, prefix + what + byte + " (" + reason + ")");
    }

    Document& doc_;
    std::string_view argument_;
    std::string_view text_;
    std::vector<Frame> stack_;
    size_t base_ = 0;    // stack_.size() around the value being parsed
    int skipping_ = 0;   // > 0 inside a container that is not read: its nesting depth
    bool done_ = false;  // the value being parsed is complete
    bool too_many_ = false;
    std::string key_;
    size_t error_position_ = 0;
    int error_id_ = 0;
    std::string error_what_;
};

Document::Document(std::string_view text, std::string_view argument) {
    nodes_.reserve(16);
    Builder builder(*this, argument);
    builder.parse(text, "");
}

Document Document::array_of(const std::vector<std::string>& texts, const std::vector<std::string>& names,
                            std::string_view argument) {
    Document doc;
    Builder builder(doc, argument);
    builder.open_root_array();
    for (size_t i = 0; i < texts.size(); ++i) builder.parse(texts[i], i < names.size() ? names[i] : "");
    return doc;
}

}  // namespace usage_meter::json

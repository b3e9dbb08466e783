#include "json.h"

#include "error.h"

namespace usage_meter::json {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

[[noreturn]] void bad_escape() { throw CoreError(ErrorKind::InvalidParameter, "invalid JSON string escape"); }

// Four hex digits at raw[i..i+4).
uint32_t read_hex4(std::string_view raw, size_t i) {
    if (i + 4 > raw.size()) bad_escape();
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
        int h = hex_value(raw[i + k]);
        if (h < 0) bad_escape();
        v = v * 16 + static_cast<uint32_t>(h);
    }
    return v;
}

}  // namespace

std::string decode_string(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++i >= raw.size()) bad_escape();
        switch (raw[i]) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                uint32_t cp = read_hex4(raw, i + 1);
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate must be followed by a low one
                    if (i + 2 >= raw.size() || raw[i + 1] != '\\' || raw[i + 2] != 'u') bad_escape();
                    uint32_t low = read_hex4(raw, i + 3);
                    if (low < 0xDC00 || low > 0xDFFF) bad_escape();
                    i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    bad_escape();
                }
                append_utf8(out, cp);
                break;
            }
            default: bad_escape();
        }
    }
    return out;
}

Document::Document(std::string_view text, std::string_view argument) : text_(text), argument_(argument) {
    nodes_.reserve(16);
    skip_whitespace();
    parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
}

void Document::fail(const std::string& what) const {
    throw CoreError(ErrorKind::InvalidParameter,
                    "invalid " + std::string(argument_) + ": " + what + " at byte " + std::to_string(pos_));
}

Document::NodeId Document::add(Kind kind) {
    if (nodes_.size() >= kMaxNodes)
        throw CoreError(ErrorKind::InvalidParameter,
                        "invalid " + std::string(argument_) + ": more than " + std::to_string(kMaxNodes) +
                            " JSON values near the top of the document",
                        "pass the provider's response (or its usage part), not an aggregate of many");
    nodes_.emplace_back();
    nodes_.back().kind = kind;
    return static_cast<NodeId>(nodes_.size() - 1);
}

void Document::skip_whitespace() {
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        ++pos_;
    }
}

std::string_view Document::scan_string(bool* escaped) {
    // at the opening quote
    size_t start = ++pos_;
    *escaped = false;
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == '"') {
            std::string_view out = text_.substr(start, pos_ - start);
            ++pos_;
            return out;
        }
        if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
        if (c == '\\') {
            *escaped = true;
            ++pos_;
            if (pos_ >= text_.size()) break;
        }
        ++pos_;
    }
    fail("unterminated string");
}

std::string_view Document::scan_number() {
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ >= text_.size() || !is_digit(text_[pos_])) fail("invalid number");
    if (text_[pos_] == '0') {
        ++pos_;
    } else {
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
        ++pos_;
        if (pos_ >= text_.size() || !is_digit(text_[pos_])) fail("invalid number");
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        ++pos_;
        if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
        if (pos_ >= text_.size() || !is_digit(text_[pos_])) fail("invalid number");
        while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
    }
    return text_.substr(start, pos_ - start);
}

// Skips an object or array without reading it and without recursion: strings are scanned, brackets must
// match (tracked on a byte stack), and everything else must be JSON punctuation, literals or numbers.
void Document::skip_container() {
    std::string open;
    size_t start = pos_;
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == '"') {
            bool escaped;
            scan_string(&escaped);
            continue;
        }
        if (c == '{' || c == '[') {
            open += c;
        } else if (c == '}' || c == ']') {
            if (open.empty() || open.back() != (c == '}' ? '{' : '[')) fail("mismatched bracket");
            open.pop_back();
            if (open.empty()) {
                ++pos_;
                return;
            }
        } else if (!(is_digit(c) || c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
                     c == '-' || c == '+' || c == '.' || (c >= 'a' && c <= 'z') || c == 'E')) {
            fail("unexpected character");
        }
        ++pos_;
    }
    pos_ = start;
    fail("unterminated object or array");
}

Document::NodeId Document::parse_value(int depth) {
    if (pos_ >= text_.size()) fail("unexpected end of JSON");
    char c = text_[pos_];
    if (c == '{' || c == '[') {
        // Only the top level may be an array that is read (a stream of events); deeper arrays and objects
        // below kMaxDepth are never needed for metering.
        bool read = c == '{' ? depth <= kMaxDepth : depth == 0;
        if (!read) {
            NodeId id = add(Kind::Skipped);
            size_t start = pos_;
            skip_container();
            nodes_[id].raw = text_.substr(start, pos_ - start);
            return id;
        }
        bool object = c == '{';
        NodeId id = add(object ? Kind::Object : Kind::Array);
        char close = object ? '}' : ']';
        ++pos_;
        skip_whitespace();
        if (pos_ < text_.size() && text_[pos_] == close) {
            ++pos_;
            return id;
        }
        NodeId last = kNone;
        for (;;) {
            std::string_view key;
            bool key_escaped = false;
            if (object) {
                if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string key");
                key = scan_string(&key_escaped);
                if (key_escaped) check_escapes(key);
                skip_whitespace();
                if (pos_ >= text_.size() || text_[pos_] != ':') fail("expected ':'");
                ++pos_;
                skip_whitespace();
            }
            NodeId child = parse_value(depth + 1);
            nodes_[child].key = key;
            nodes_[child].key_escaped = key_escaped;
            if (last == kNone)
                nodes_[id].first_child = child;
            else
                nodes_[last].next_sibling = child;
            last = child;
            skip_whitespace();
            if (pos_ < text_.size() && text_[pos_] == ',') {
                ++pos_;
                skip_whitespace();
                continue;
            }
            if (pos_ < text_.size() && text_[pos_] == close) {
                ++pos_;
                return id;
            }
            fail(object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    if (c == '"') {
        NodeId id = add(Kind::String);
        bool escaped;
        std::string_view raw = scan_string(&escaped);
        nodes_[id].raw = raw;
        nodes_[id].escaped = escaped;
        if (escaped) check_escapes(raw);
        return id;
    }
    if (c == '-' || is_digit(c)) {
        NodeId id = add(Kind::Number);
        std::string_view raw = scan_number();
        nodes_[id].raw = raw;
        return id;
    }
    auto literal = [&](std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) fail("invalid literal");
        pos_ += word.size();
    };
    if (c == 't' || c == 'f') {
        literal(c == 't' ? "true" : "false");
        NodeId id = add(Kind::Bool);
        nodes_[id].boolean = c == 't';
        return id;
    }
    if (c == 'n') {
        literal("null");
        return add(Kind::Null);
    }
    fail("unexpected character");
}

void Document::check_escapes(std::string_view raw) const {
    try {
        (void)decode_string(raw);
    } catch (const CoreError&) {
        fail("invalid escape in a string");
    }
}

std::string Document::string(NodeId id) const {
    const Node& n = nodes_[id];
    return n.escaped ? decode_string(n.raw) : std::string(n.raw);
}

std::string Document::key(NodeId id) const {
    const Node& n = nodes_[id];
    return n.key_escaped ? decode_string(n.key) : std::string(n.key);
}

Document::NodeId Document::member(NodeId object, std::string_view key) const {
    if (object == kNone || nodes_[object].kind != Kind::Object) return kNone;
    NodeId found = kNone;
    for (NodeId c = nodes_[object].first_child; c != kNone; c = nodes_[c].next_sibling) {
        const Node& n = nodes_[c];
        if (n.key_escaped ? decode_string(n.key) == key : n.key == key) found = c;
    }
    return found;
}

}  // namespace usage_meter::json

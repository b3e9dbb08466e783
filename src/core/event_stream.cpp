#include "event_stream.h"

namespace usage_meter {

namespace {

// The next line of text from pos (without its terminator); pos moves past the terminator.
std::string_view next_line(std::string_view text, size_t& pos) {
    size_t start = pos;
    size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) {
        pos = text.size();
        return text.substr(start);
    }
    pos = end + (text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? 2 : 1);
    return text.substr(start, end - start);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

bool is_event_stream(std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
        std::string_view line = next_line(text, pos);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        return starts_with(line, ":") || starts_with(line, "data:") || starts_with(line, "event:") ||
               starts_with(line, "id:") || starts_with(line, "retry:") || line == "data" || line == "event";
    }
    return false;
}

std::vector<StreamEvent> split_event_stream(std::string_view text) {
    std::vector<StreamEvent> events;
    StreamEvent current;
    bool has_data = false;
    auto dispatch = [&] {
        if (has_data) {
            if (!current.data.empty() && current.data.back() == '\n') current.data.pop_back();
            events.push_back(std::move(current));
        }
        current = StreamEvent();
        has_data = false;
    };
    size_t pos = 0;
    while (pos < text.size()) {
        std::string_view line = next_line(text, pos);
        if (line.empty()) {
            dispatch();
            continue;
        }
        if (line[0] == ':') continue;  // a comment
        size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
        if (field == "data") {
            current.data.append(value.data(), value.size());
            current.data += '\n';
            has_data = true;
        } else if (field == "event") {
            current.type.assign(value.data(), value.size());
        }
    }
    dispatch();
    return events;
}

}  // namespace usage_meter

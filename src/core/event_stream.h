// Server-sent events, the text/event-stream format in which Anthropic's and OpenAI's APIs stream a response:
// the raw text split into its events, following the WHATWG HTML standard's "event stream interpretation"
// (lines end at CRLF, LF or CR; a blank line ends an event; "data:" lines are joined with newlines; a line
// starting with ':' is a comment; one space after the colon is dropped). Plain text handling: the JSON in
// each event's data is parsed by json::Document.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace usage_meter {

struct StreamEvent {
    std::string type;  // the "event:" field; empty when the event has none
    std::string data;  // the "data:" lines joined with '\n'
};

// Whether text reads as an event stream: its first line that is not blank is a field (event:, data:, id:,
// retry:) or a comment.
bool is_event_stream(std::string_view text);

// The events with data, in order. The last event counts even without the blank line that should end it (a
// client that saved the stream may have trimmed it).
std::vector<StreamEvent> split_event_stream(std::string_view text);

}  // namespace usage_meter

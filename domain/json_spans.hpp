// Spans of JSON text as it was written: what a parsed-and-dumped value cannot give back (a number
// keeps its digits, key order and escapes stay). POST /transactions/bulk hands each operation's
// `data` to its endpoint in the client's own bytes; wallet-stress reads each result's `body` in
// the service's own bytes. Pure and exception-free.
#pragma once

#include <string>
#include <vector>

namespace wallet::domain {

// `text` must be valid JSON (parse it first: this finds spans, it does not validate). For the
// top-level object's array member `array`, the text of `member` of each element, in order; an
// element without it (or not an object) gives "". Duplicate names: the last wins, as in nlohmann.
std::vector<std::string> member_texts(const std::string& text, const std::string& array,
                                      const std::string& member);

}  // namespace wallet::domain

#include "messaging/ledger_event.hpp"

#include <cstdio>

namespace wallet::messaging {
namespace {

// A JSON writer for one flat object: the values are ids, decimals, times and short words from the
// database, so this is all the JSON they need, without building a document first.
class FlatObject {
 public:
  explicit FlatObject(std::string& out) : out_(out) { out_.clear(); }

  FlatObject& string(const char* name, std::string_view value) {
    key(name);
    quoted(value);
    return *this;
  }
  FlatObject& string_or_null(const char* name, std::string_view value) {
    if (value.empty()) {
      key(name);
      out_ += "null";
      return *this;
    }
    return string(name, value);
  }
  // The members of a JSON object's text, spliced in as they are (a document from Postgres).
  FlatObject& members(std::string_view object) {
    if (object.size() > 2 && object.front() == '{' && object.back() == '}') {
      out_ += ',';
      out_.append(object.substr(1, object.size() - 2));
    }
    return *this;
  }
  void done() { out_ += '}'; }

 private:
  void key(const char* name) {
    out_ += out_.empty() ? '{' : ',';
    out_ += '"';
    out_ += name;
    out_ += "\":";
  }
  void quoted(std::string_view value) {
    out_ += '"';
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += c;
      } else if (u < 0x20) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", u);
        out_ += escaped;
      } else {
        out_ += c;
      }
    }
    out_ += '"';
  }

  std::string& out_;
};

}  // namespace

std::string encode_ledger_event(const LedgerOutboxRow& row) {
  std::string out;
  out.reserve(320);
  encode_ledger_event(row, out);
  return out;
}

void encode_ledger_event(const LedgerOutboxRow& row, std::string& out) {
  FlatObject event(out);
  event.string("event_id", row.event_id);
  if (row.is_hold()) {
    event.string("hold_id", row.hold_id)
        .string("user_id", row.user_id)
        .string("account_id", row.account_id)
        .string_or_null("currency", row.currency)
        .string("status", row.status)
        .string("amount", row.amount)
        .string("to_user_id", row.to_user_id)
        .string_or_null("expires_at", row.expires_at)
        .string_or_null("transfer_id", row.transfer_id)
        .string("created_at", row.created_at)
        .done();
    return;
  }
  if (row.is_transaction()) {
    event.string("kind", row.kind)
        .string("transaction_id", row.transaction_id)
        .string("user_id", row.user_id)
        .string("account_id", row.account_id)
        .members(row.body)
        .string("created_at", row.created_at)
        .done();
    return;
  }
  event.string("transaction_id", row.transaction_id)
      .string("user_id", row.user_id)
      .string("account_id", row.account_id)
      .string_or_null("currency", row.currency)
      .string("kind", row.kind)
      .string("balance_change", row.balance_change)
      .string("old_balance", row.old_balance)
      .string("new_balance", row.new_balance)
      .string_or_null("transfer_id", row.transfer_id);
  if (!row.posting_of.empty()) event.string("posting_of", row.posting_of);
  event.string("created_at", row.created_at).done();
}

}  // namespace wallet::messaging

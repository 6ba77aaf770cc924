#include "persistence/connection.hpp"

#include "persistence/session.hpp"

namespace wallet::persistence {

std::unique_ptr<pqxx::connection> connect(const std::string& url,
                                          std::chrono::milliseconds statement_timeout) {
  SessionOptions options;
  options.statement_timeout = statement_timeout;
  return std::make_unique<pqxx::connection>(session_url(url, options));
}

domain::Error database_error(const std::exception& error, std::string_view operation) {
  return classify(error).log(operation);
}

bool is_connection_failure(const std::exception& error) {
  return classify(error).kind == FailureKind::connection;
}

bool is_retryable(const std::exception& error) { return classify(error).retryable(); }

std::string bigint_array_literal(const std::vector<int64_t>& ids) {
  ArrayLiteral literal;
  for (int64_t id : ids) literal.number(id);
  return literal.text();
}

void ArrayLiteral::separate() {
  if (size_++) text_ += ',';
}

ArrayLiteral& ArrayLiteral::plain(std::string_view element) {
  separate();
  text_ += element;
  return *this;
}

ArrayLiteral& ArrayLiteral::number(int64_t element) { return plain(std::to_string(element)); }

ArrayLiteral& ArrayLiteral::quoted(std::string_view element) {
  separate();
  text_ += '"';
  for (char c : element) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
  return *this;
}

ArrayLiteral& ArrayLiteral::null() { return plain("NULL"); }

}  // namespace wallet::persistence

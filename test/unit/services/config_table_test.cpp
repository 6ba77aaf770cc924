// The configuration table of docs/configuration.md and the configuration structs
// (services/common/service_config.hpp) agree: every variable of the table is a field of the
// service(s) it names, with the same default, and every field is in the table. Negative controls
// feed the comparison tables that are wrong.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "services/common/service_config.hpp"

namespace wallet::services {
namespace {

using Defaults = std::map<std::string, std::string>;

struct Row {
  std::string name;
  std::optional<std::string> user;  // nullopt: blank cell, the service does not read it
  std::optional<std::string> transaction;
};

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The first `code` of a cell, exactly; "" written as `""` is the empty default.
std::optional<std::string> cell_default(const std::string& cell, std::vector<std::string>& problems,
                                        const std::string& where) {
  const auto text = trim(cell);
  if (text.empty()) return std::nullopt;
  const auto open = text.find('`');
  const auto close = open == std::string::npos ? open : text.find('`', open + 1);
  if (close == std::string::npos) {
    problems.push_back(where + ": no `default` in \"" + text + "\"");
    return std::string("<none>");
  }
  auto value = text.substr(open + 1, close - open - 1);
  return value == "\"\"" ? std::string() : value;
}

// The rows of the table headed `| variable | user-service | transaction-service | meaning |`.
std::vector<Row> parse_table(const std::string& markdown, std::vector<std::string>& problems) {
  std::vector<Row> rows;
  std::istringstream lines(markdown);
  std::string line;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (line.rfind("| variable | user-service | transaction-service |", 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.rfind("|---", 0) == 0) continue;
    if (line.rfind("|", 0) != 0) break;  // the table ends at the first line that is not a row
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream split(line.substr(1));
    while (std::getline(split, cell, '|')) cells.push_back(cell);
    if (cells.size() < 4) {
      problems.push_back("row with fewer than 4 cells: " + line);
      continue;
    }
    Row row;
    const auto name = trim(cells[0]);
    if (name.size() < 3 || name.front() != '`' || name.back() != '`' ||
        name.find('`', 1) != name.size() - 1) {
      problems.push_back("first cell is not one `VARIABLE`: " + line);
      continue;
    }
    row.name = name.substr(1, name.size() - 2);
    row.user = cell_default(cells[1], problems, row.name + " (user-service)");
    row.transaction = cell_default(cells[2], problems, row.name + " (transaction-service)");
    rows.push_back(row);
  }
  if (!inside) problems.push_back("no configuration table in the text");
  return rows;
}

std::string text_of(const std::string& value) { return value; }
std::string text_of(int64_t value) { return std::to_string(value); }

template <class Config>
Defaults defaults_of() {
  Config config;
  Defaults defaults;
  visit(config, [&defaults](const char* name, const auto& field) {
    defaults.emplace(name, text_of(field));
  });
  return defaults;
}

void compare_column(const std::vector<Row>& rows, const Defaults& fields, bool user,
                    const std::string& service, std::vector<std::string>& problems) {
  std::map<std::string, bool> seen;
  for (const auto& row : rows) {
    const auto& cell = user ? row.user : row.transaction;
    const auto field = fields.find(row.name);
    if (seen[row.name]) problems.push_back(row.name + ": listed twice");
    seen[row.name] = true;
    if (!cell && field != fields.end()) {
      problems.push_back(row.name + ": " + service + " reads it (default \"" + field->second +
                         "\") but its cell in the table is blank");
    } else if (cell && field == fields.end()) {
      problems.push_back(row.name + ": the table gives " + service + " a default (\"" + *cell +
                         "\") but its config struct has no such field");
    } else if (cell && *cell != field->second) {
      problems.push_back(row.name + ": " + service + " default is \"" + field->second +
                         "\" in the struct, \"" + *cell + "\" in the table");
    }
  }
  for (const auto& [name, value] : fields) {
    if (!seen.count(name)) {
      problems.push_back(name + ": a " + service + " field (default \"" + value +
                         "\") missing from the table");
    }
  }
}

std::vector<std::string> check(const std::string& markdown) {
  std::vector<std::string> problems;
  const auto rows = parse_table(markdown, problems);
  compare_column(rows, defaults_of<UserServiceConfig>(), true, "user-service", problems);
  compare_column(rows, defaults_of<TransactionServiceConfig>(), false, "transaction-service",
                 problems);
  return problems;
}

std::string configuration_doc() {
  std::ifstream file(WALLET_SOURCE_DIR "/docs/configuration.md");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string joined(const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& p : problems) text += p + "\n";
  return text;
}

bool mentions(const std::vector<std::string>& problems, const std::string& what) {
  for (const auto& p : problems) {
    if (p.find(what) != std::string::npos) return true;
  }
  return false;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "docs/configuration.md no longer contains: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(ConfigTableTest, DocumentedTableAndConfigStructsAgree) {
  const auto text = configuration_doc();
  ASSERT_FALSE(text.empty()) << "cannot read " << WALLET_SOURCE_DIR "/docs/configuration.md";
  std::vector<std::string> parse_problems;
  EXPECT_GE(parse_table(text, parse_problems).size(), 30u);
  const auto problems = check(text);
  EXPECT_TRUE(problems.empty()) << joined(problems);
}

// Negative controls: each broken table must be reported, naming the variable.
TEST(ConfigTableTest, WrongDefaultIsReported) {
  const auto problems = check(
      replaced(configuration_doc(), "| `OUTBOX_BATCH` | `500` |", "| `OUTBOX_BATCH` | `501` |"));
  EXPECT_TRUE(
      mentions(problems, "OUTBOX_BATCH: user-service default is \"500\" in the struct, \"501\""))
      << joined(problems);
  EXPECT_EQ(problems.size(), 1u) << joined(problems);
}

TEST(ConfigTableTest, MissingRowUnknownVariableAndWrongServiceAreReported) {
  auto text = replaced(configuration_doc(), "| `LEDGER_MAX_BATCH` | | `512` |",
                       "| `LEDGER_MAX_BATCHES` | | `512` |");
  text = replaced(text, "| `OUTBOX_BATCH` | `500` |", "| `OUTBOX_BATCH` | |");
  text = replaced(text, "| `ADMIN_TOKEN` | |", "| `ADMIN_TOKEN` | `secret` |");
  const auto problems = check(text);
  EXPECT_TRUE(mentions(problems, "LEDGER_MAX_BATCH: a transaction-service field"))
      << joined(problems);
  EXPECT_TRUE(mentions(problems, "LEDGER_MAX_BATCHES: the table gives transaction-service"))
      << joined(problems);
  EXPECT_TRUE(mentions(problems, "OUTBOX_BATCH: user-service reads it")) << joined(problems);
  EXPECT_TRUE(mentions(problems, "ADMIN_TOKEN: the table gives user-service")) << joined(problems);
}

TEST(ConfigTableTest, TextWithoutTheTableIsReported) {
  EXPECT_TRUE(mentions(check("# nothing here\n"), "no configuration table"));
}

TEST(ConfigLoadTest, EnvironmentOverridesDefaultsAndBadNumbersKeepThem) {
  ::setenv("OUTBOX_BATCH", "7", 1);
  ::setenv("HTTP_PORT", "80x", 1);
  ::setenv("KAFKA_TOPIC", "", 1);  // empty counts as unset
  std::vector<std::string> problems;
  const auto config = load_config<UserServiceConfig>(problems);
  ::unsetenv("OUTBOX_BATCH");
  ::unsetenv("HTTP_PORT");
  ::unsetenv("KAFKA_TOPIC");
  EXPECT_EQ(config.outbox_batch, 7);
  EXPECT_EQ(config.http_port, 8080);
  EXPECT_EQ(config.kafka_topic, "user-created");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("HTTP_PORT"), std::string::npos);
}

TEST(ConfigLoadTest, DeadLetterTopicFollowsTheTopicUnlessSet) {
  TransactionServiceConfig config;
  config.kafka_topic = "t";
  EXPECT_EQ(config.dlq_topic(), "t.dlq");
  config.kafka_dlq_topic = "elsewhere";
  EXPECT_EQ(config.dlq_topic(), "elsewhere");
}

}  // namespace
}  // namespace wallet::services

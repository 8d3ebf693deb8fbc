// Shared by the store commands (verify, search, alerts, report, store): where the store is.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "store/store.hpp"
#include "util/result.hpp"

namespace privwatch::cli {

struct StoreLocation {
  std::string db;           // --db
  std::string config_path;  // -c/--config: read store.path / store.key_path from it
  void add_options(CLI::App* cmd);
  // store.path (or --db) and store.key_path of the configuration in effect.
  [[nodiscard]] Result<std::string> db_path() const;
  [[nodiscard]] Result<std::string> key_path() const;
  // The store at db_path(), opened for reading.
  [[nodiscard]] Result<std::unique_ptr<store::Store>> open_reader() const;
};

// Prints the error to stderr; returns the exit code (2 for bad input, 1 otherwise).
int report_error(const Error& e);

// "2026-11-22T04:05:06Z" (seconds precision) for tables.
std::string short_time(uint64_t wall_ns);

}  // namespace privwatch::cli

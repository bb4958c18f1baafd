// PgTestServer: a throw-away PostgreSQL 15 for unit tests, run by the
// tests/pg/pg_test_server script (initdb in a temporary directory, a Unix
// socket there, no TCP port; as root it runs as the "postgres" user).
//
// One server per test binary: shared() starts it on first use and stops it
// and removes its directory at exit. Each test takes a fresh database from
// create_database(), so tests never see each other's rows.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "common/status.h"

#ifndef CONFLUX_PG_TEST_SERVER
#error "CONFLUX_PG_TEST_SERVER must name tests/pg/pg_test_server"
#endif

namespace conflux::test {

class PgTestServer {
 public:
  // The binary's server; an error (with the script's output) when it cannot start.
  static Result<PgTestServer*> shared() {
    static Result<std::unique_ptr<PgTestServer>> server = start_new();
    if (!server) return server.error();
    return server->get();
  }

  ~PgTestServer() {
    (void)run("stop");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PgTestServer(const PgTestServer&) = delete;
  PgTestServer& operator=(const PgTestServer&) = delete;

  // The URI of database `name` (superuser, Unix socket).
  std::string uri(const std::string& name) const {
    return "postgresql:///" + name + "?host=" + dir_.string() + "&user=conflux_test";
  }

  // A new empty database; returns its URI.
  Result<std::string> create_database() {
    static std::atomic<int> counter{0};
    const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    try {
      pqxx::connection admin(uri("postgres"));
      pqxx::nontransaction(admin).exec("CREATE DATABASE " + name);
    } catch (const std::exception& e) {
      return Status::unavailable(std::string("create database: ") + e.what());
    }
    return uri(name);
  }

  // Fast shutdown (connections are cut) and start again on the same socket,
  // for "the database went away" tests.
  Status stop() { return run("stop").status(); }
  Status start() { return run("start").status(); }

 private:
  explicit PgTestServer(std::filesystem::path dir) : dir_(std::move(dir)) {}

  static Result<std::unique_ptr<PgTestServer>> start_new() {
    // Its own directory right under /tmp: as root the server runs as
    // "postgres", which cannot enter a test's private (0700) directory.
    std::string pattern = (std::filesystem::temp_directory_path() / "conflux-pg-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return Status::internal("mkdtemp failed");
    std::unique_ptr<PgTestServer> server(new PgTestServer(pattern));
    CFX_RETURN_IF_ERROR(server->run("init").status());
    CFX_RETURN_IF_ERROR(server->run("start").status());
    return server;
  }

  // Runs the script; its stdout, or kUnavailable with what it printed.
  Result<std::string> run(const std::string& command) const {
    const std::string line = std::string(CONFLUX_PG_TEST_SERVER) + " " + command + " '" + dir_.string() + "' 2>&1";
    FILE* pipe = ::popen(line.c_str(), "r");
    if (pipe == nullptr) return Status::internal("cannot run " + line);
    std::string out;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
    const int rc = ::pclose(pipe);
    if (rc != 0) return Status::unavailable("pg_test_server " + command + " failed: " + out);
    return out;
  }

  const std::filesystem::path dir_;
};

}  // namespace conflux::test

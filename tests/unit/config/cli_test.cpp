#include "app/cli.h"

#include <gtest/gtest.h>

namespace authd::app {
namespace {

TEST(CommandLineTest, CommonFlagsBecomeOverrides) {
  auto cl = parse_command_line({"--dev", "--listen", "127.0.0.1:9000",
                                "--admin-listen=127.0.0.1:9001", "--data", "/tmp/x", "--config",
                                "/etc/authd.yaml", "--set", "log.level=debug"});
  ASSERT_TRUE(cl) << cl.error();
  EXPECT_EQ(cl->command, "serve");
  auto& o = cl->sources.overrides;
  EXPECT_EQ(o["general.dev"], "true");
  EXPECT_EQ(o["server.listen"], "127.0.0.1:9000");
  EXPECT_EQ(o["server.admin_listen"], "127.0.0.1:9001");
  EXPECT_EQ(o["general.data_dir"], "/tmp/x");
  EXPECT_EQ(o["log.level"], "debug");
  EXPECT_EQ(cl->sources.file, "/etc/authd.yaml");
}

TEST(CommandLineTest, Subcommands) {
  EXPECT_EQ(parse_command_line({"migrate", "--config", "a"})->command, "migrate");
  EXPECT_EQ(parse_command_line({"--version"})->command, "version");
  EXPECT_FALSE(parse_command_line({"frobnicate"}));
}

TEST(CommandLineTest, UsageErrors) {
  EXPECT_FALSE(parse_command_line({"--listen"}));
  EXPECT_FALSE(parse_command_line({"--bogus"}));
  EXPECT_FALSE(parse_command_line({"--set", "novalue"}));
}

}  // namespace
}  // namespace authd::app

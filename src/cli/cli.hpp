// `privwatch` subcommands. main() only calls run().
#pragma once

namespace privwatch::cli {

[[nodiscard]] int run(int argc, char** argv);

}  // namespace privwatch::cli

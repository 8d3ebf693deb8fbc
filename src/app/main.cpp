// Wiring only: every behaviour lives in a library a test can reach.
#include "cli/cli.hpp"

int main(int argc, char** argv) { return privwatch::cli::run(argc, argv); }

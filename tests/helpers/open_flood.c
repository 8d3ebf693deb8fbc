// open_flood: open(2)+close(2) one file COUNT times as fast as possible, to overrun the
// agent's ring buffer on purpose.
//
//   open_flood PATH COUNT
//
// Prints "opens N": the number of opens that succeeded (each one is an event the kernel
// side must either deliver or count as lost). Exit status 0 when every open succeeded.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s PATH COUNT\n", argv[0]);
    return 2;
  }
  const long count = strtol(argv[2], NULL, 10);
  long opens = 0;
  for (long i = 0; i < count; ++i) {
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ++opens;
      close(fd);
    }
  }
  printf("opens %ld\n", opens);
  return opens == count ? 0 : 1;
}

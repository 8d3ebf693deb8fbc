// fexec_helper: execute a program from a file descriptor whose file has no name on disk.
//
//   fexec_helper memfd   SOURCE NAME ARG0 [ARG...]   copy SOURCE into memfd_create(NAME) and
//                                                    fexecve it
//   fexec_helper deleted SOURCE COPY ARG0 [ARG...]   copy SOURCE to COPY, open it, unlink it,
//                                                    then execveat(fd, "", ..., AT_EMPTY_PATH)
//
// On success the helper's image is replaced (argv = ARG0 ARG...). Exit status 127 when the
// exec fails (errno name on stderr), 1 on a setup error, 2 on usage.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char** environ;

static int copy_fd(int in, int out) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return 0;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      done += w;
    }
  }
}

static int fail(const char* what) {
  fprintf(stderr, "fexec_helper: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s memfd|deleted SOURCE NAME|COPY ARG0 [ARG...]\n", argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  int src = open(argv[2], O_RDONLY | O_CLOEXEC);
  if (src < 0) return fail("open source");
  int fd = -1;
  if (strcmp(mode, "memfd") == 0) {
    fd = memfd_create(argv[3], MFD_CLOEXEC);
    if (fd < 0) return fail("memfd_create");
    if (copy_fd(src, fd) != 0) return fail("copy");
  } else if (strcmp(mode, "deleted") == 0) {
    int out = open(argv[3], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (out < 0) return fail("create copy");
    if (copy_fd(src, out) != 0) return fail("copy");
    close(out);  // a file open for writing cannot be executed (ETXTBSY)
    fd = open(argv[3], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail("reopen copy");
    if (unlink(argv[3]) != 0) return fail("unlink copy");
  } else {
    fprintf(stderr, "fexec_helper: unknown mode %s\n", mode);
    return 2;
  }
  close(src);
  syscall(SYS_execveat, fd, "", &argv[4], environ, AT_EMPTY_PATH);
  fprintf(stderr, "fexec_helper: execveat: %s\n", strerrorname_np(errno));
  return 127;
}

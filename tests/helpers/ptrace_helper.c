// ptrace_helper: attach to a child with PTRACE_ATTACH, then detach and end it.
//
//   ptrace_helper [TOKEN]
//
// TOKEN is not used: it only makes the helper's exec event unique for the test. Forks a child
// that waits in pause(), attaches to it, waits for the attach stop and detaches. Prints
// "target PID" and "attach RESULT" (0 or the errno name) on stdout. Exit status 0 when the
// attach succeeded, 1 otherwise.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  pid_t child = fork();
  if (child < 0) {
    perror("ptrace_helper: fork");
    return 1;
  }
  if (child == 0) {
    for (;;) pause();
  }
  printf("target %d\n", (int)child);
  long rc = ptrace(PTRACE_ATTACH, child, NULL, NULL);
  int err = errno;
  if (rc == 0) {
    printf("attach 0\n");
    int status = 0;
    waitpid(child, &status, 0);  // the attach stop
    ptrace(PTRACE_DETACH, child, NULL, NULL);
  } else {
    const char* name = strerrorname_np(err);
    printf("attach %s\n", name ? name : "?");
  }
  fflush(stdout);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return rc == 0 ? 0 : 1;
}

// setuid_helper: drop root to another user the way a daemon does, then exit or exec.
//
//   setuid_helper UID GID exit [STATUS]
//   setuid_helper UID GID exec PATH [ARG...]
//
// Calls, in order: setgroups(1, {GID}), setresgid(GID, GID, GID), setresuid(UID, UID, UID),
// then setuid(0) — an attempt to regain root that must fail once UID is not 0.
// Prints one line per call to stdout ("setgroups 0", "setresgid 0", "setresuid 0",
// "setuid EPERM"; the errno name on failure) so the test can compare each call's result with
// the event's. Exit status: STATUS (default 0) after `exit`, 127 when exec fails, 100 + step
// when one of the first three calls fails, 104 when setuid(0) succeeds.
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void report(const char* call, int rc) {
  if (rc == 0) {
    printf("%s 0\n", call);
  } else {
    const char* name = strerrorname_np(errno);
    printf("%s %s\n", call, name ? name : "?");
  }
  fflush(stdout);
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s UID GID exit [STATUS] | exec PATH [ARG...]\n", argv[0]);
    return 2;
  }
  const uid_t uid = (uid_t)strtoul(argv[1], NULL, 10);
  const gid_t gid = (gid_t)strtoul(argv[2], NULL, 10);

  int rc = setgroups(1, &gid);
  report("setgroups", rc);
  if (rc != 0) return 101;
  rc = setresgid(gid, gid, gid);
  report("setresgid", rc);
  if (rc != 0) return 102;
  rc = setresuid(uid, uid, uid);
  report("setresuid", rc);
  if (rc != 0) return 103;
  rc = setuid(0);
  report("setuid", rc);
  if (rc == 0 && uid != 0) return 104;

  if (strcmp(argv[3], "exit") == 0) return argc > 4 ? atoi(argv[4]) : 0;
  if (strcmp(argv[3], "exec") == 0 && argc > 4) {
    execv(argv[4], &argv[4]);
    perror("setuid_helper: execv");
    return 127;
  }
  fprintf(stderr, "setuid_helper: unknown action %s\n", argv[3]);
  return 2;
}

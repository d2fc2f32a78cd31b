#define _GNU_SOURCE
#include "CSystemShims.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t received_signal = 0;

static void record_signal(int number) { received_signal = number; }

void tp_interruption_install(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
}

int tp_interruption_signal(void) { return received_signal; }

int tp_rename_exchange(const char *first, const char *second) {
  return renameat2(AT_FDCWD, first, AT_FDCWD, second, RENAME_EXCHANGE);
}

int tp_rename_noreplace(const char *from, const char *to) {
  return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

long tp_copy_file_range(int input, int output, unsigned long count) {
  return (long)copy_file_range(input, NULL, output, NULL, count, 0);
}

void tp_return_large_allocations(int bytes) { mallopt(M_MMAP_THRESHOLD, bytes); }

/* isoalloc as the malloc of a static musl program (make test-musl).
 *
 * Linked with isoalloc's objects, malloc & co. are isoalloc's (override.cc):
 * checked by allocating through malloc and asking iso_malloc_usable_size,
 * which refuses pointers isoalloc does not own. Then threads allocate,
 * reallocate and free blocks of 1 B to 64 KiB, fill each with a pattern of
 * its own and check it before freeing, and hand a share of their blocks to
 * the other thread to free (the cross-thread path). Exits 0 or names the
 * first thing that went wrong. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolate/alloc.h"

enum { kThreads = 4, kRounds = 200000, kSlots = 512, kHandOff = 64 };

struct Block {
  unsigned char* data;
  size_t size;
  unsigned char tag;
};

/* One mailbox per thread: blocks another thread allocated, for this one to free. */
static struct Block mailbox[kThreads][kHandOff];
static int mailbox_count[kThreads];
static pthread_mutex_t mailbox_lock[kThreads];

static uint64_t next_random(uint64_t* state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

static void fill(struct Block* b) { memset(b->data, b->tag, b->size); }

static void check(const struct Block* b, const char* where) {
  for (size_t i = 0; i < b->size; ++i) {
    if (b->data[i] != b->tag) {
      fprintf(stderr, "musl_stress: %s: byte %zu of a %zu-byte block is %u, not %u\n", where, i, b->size,
              b->data[i], b->tag);
      exit(1);
    }
  }
}

static size_t random_size(uint64_t* state) {
  const uint64_t r = next_random(state);
  return (r & 7) == 0 ? 1 + (size_t)(r >> 8) % 65536 : 1 + (size_t)(r >> 8) % 1024;
}

static void* worker(void* arg) {
  const int self = (int)(intptr_t)arg;
  uint64_t state = 0x9E3779B97F4A7C15ull * (uint64_t)(self + 1);
  struct Block slots[kSlots] = {{0}};
  for (int round = 0; round < kRounds; ++round) {
    struct Block* b = &slots[next_random(&state) % kSlots];
    if (b->data != NULL) check(b, "before free or realloc");
    const uint64_t action = next_random(&state) % 8;
    if (b->data != NULL && action == 0) {
      /* realloc keeps the prefix. */
      const size_t size = random_size(&state);
      unsigned char* grown = realloc(b->data, size);
      if (grown == NULL) exit((fprintf(stderr, "musl_stress: realloc(%zu) failed\n", size), 1));
      const size_t kept = size < b->size ? size : b->size;
      b->data = grown;
      b->size = kept;
      check(b, "after realloc");
      b->size = size;
      fill(b);
      continue;
    }
    if (b->data != NULL && action == 1) {
      /* Hand it to the next thread to free. */
      const int to = (self + 1) % kThreads;
      pthread_mutex_lock(&mailbox_lock[to]);
      if (mailbox_count[to] < kHandOff) {
        mailbox[to][mailbox_count[to]++] = *b;
        b->data = NULL;
      }
      pthread_mutex_unlock(&mailbox_lock[to]);
    }
    if (b->data != NULL) free(b->data);
    b->size = random_size(&state);
    b->tag = (unsigned char)(next_random(&state) | 1);
    b->data = (action == 2) ? calloc(1, b->size) : malloc(b->size);
    if (b->data == NULL) exit((fprintf(stderr, "musl_stress: malloc(%zu) failed\n", b->size), 1));
    if (action == 2) {
      const unsigned char tag = b->tag;
      b->tag = 0;
      check(b, "calloc");
      b->tag = tag;
    }
    fill(b);
    if ((round & 255) == 0) {
      pthread_mutex_lock(&mailbox_lock[self]);
      for (int i = 0; i < mailbox_count[self]; ++i) {
        check(&mailbox[self][i], "a block from another thread");
        free(mailbox[self][i].data);
      }
      mailbox_count[self] = 0;
      pthread_mutex_unlock(&mailbox_lock[self]);
    }
  }
  for (int i = 0; i < kSlots; ++i) {
    if (slots[i].data != NULL) {
      check(&slots[i], "at the end");
      free(slots[i].data);
    }
  }
  return NULL;
}

int main(void) {
  char* probe = malloc(100);
  if (probe == NULL) return (fprintf(stderr, "musl_stress: malloc(100) failed\n"), 1);
  memset(probe, 1, 100);
  const size_t usable = iso_malloc_usable_size(probe);
  if (usable < 100) {
    fprintf(stderr, "musl_stress: malloc is not isoalloc's (its usable size for a malloc'd block: %zu)\n", usable);
    return 1;
  }
  free(probe);
  pthread_t threads[kThreads];
  for (int t = 0; t < kThreads; ++t) pthread_mutex_init(&mailbox_lock[t], NULL);
  for (int t = 0; t < kThreads; ++t) pthread_create(&threads[t], NULL, worker, (void*)(intptr_t)t);
  for (int t = 0; t < kThreads; ++t) pthread_join(threads[t], NULL);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < mailbox_count[t]; ++i) {
      check(&mailbox[t][i], "left in a mailbox");
      free(mailbox[t][i].data);
    }
  }
  printf("musl_stress: %d threads x %d rounds, blocks of 1 B to 64 KiB, cross-thread frees: ok\n", kThreads,
         kRounds);
  return 0;
}

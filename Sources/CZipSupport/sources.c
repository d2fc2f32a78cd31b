#define _GNU_SOURCE
#include "CZipSupport.h"
#include "CSystemShims.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- output ----------------------------------------------------------------------------
   libzip fills one buffer while a writer thread writes the other, so the CRC and copying of the
   next megabytes overlap the write system calls of the previous ones. Buffers are written in the
   order they were filled, so a local header rewritten after its data lands last. */

typedef struct {
  int fd;
  size_t capacity;
  unsigned char *buffers[2];
  int current;                /* the buffer being filled */
  zip_uint64_t buffer_offset; /* file offset of buffers[current][0] */
  size_t buffer_length;
  zip_uint64_t position;      /* where the next write goes */
  zip_uint64_t length;        /* bytes in the file, written or buffered */
  zip_error_t error;

  pthread_t writer;
  int writer_running;
  pthread_mutex_t mutex;
  pthread_cond_t changed;
  int job_pending;            /* the writer owns buffers[job_buffer] */
  int job_buffer;
  zip_uint64_t job_offset;
  size_t job_length;
  int stopping;
  int write_errno;            /* the writer's first failure */
} output_state;

static int pwrite_fully(int fd, const unsigned char *data, size_t length, zip_uint64_t offset) {
  while (length > 0) {
    ssize_t written = pwrite(fd, data, length, (off_t)offset);
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += written;
    length -= (size_t)written;
    offset += (zip_uint64_t)written;
  }
  return 0;
}

static void *writer_main(void *userdata) {
  output_state *state = userdata;
  pthread_mutex_lock(&state->mutex);
  for (;;) {
    while (!state->job_pending && !state->stopping) pthread_cond_wait(&state->changed, &state->mutex);
    if (!state->job_pending) break;
    const unsigned char *data = state->buffers[state->job_buffer];
    size_t length = state->job_length;
    zip_uint64_t offset = state->job_offset;
    int failed = state->write_errno != 0;
    pthread_mutex_unlock(&state->mutex);
    int result = failed ? 0 : pwrite_fully(state->fd, data, length, offset);
    pthread_mutex_lock(&state->mutex);
    if (result != 0 && state->write_errno == 0) state->write_errno = result;
    state->job_pending = 0;
    pthread_cond_broadcast(&state->changed);
  }
  pthread_mutex_unlock(&state->mutex);
  return NULL;
}

/* Waits until the writer holds no buffer; fails with its error, if it had one. */
static int wait_for_writer(output_state *state) {
  pthread_mutex_lock(&state->mutex);
  while (state->job_pending) pthread_cond_wait(&state->changed, &state->mutex);
  int failure = state->write_errno;
  pthread_mutex_unlock(&state->mutex);
  if (failure != 0) {
    zip_error_set(&state->error, ZIP_ER_WRITE, failure);
    return -1;
  }
  return 0;
}

static void stop_writer(output_state *state) {
  if (!state->writer_running) return;
  pthread_mutex_lock(&state->mutex);
  state->stopping = 1;
  pthread_cond_broadcast(&state->changed);
  pthread_mutex_unlock(&state->mutex);
  pthread_join(state->writer, NULL);
  state->writer_running = 0;
}

/* Hands the filled buffer to the writer and continues in the other one. */
static int flush_output(output_state *state) {
  if (state->buffer_length == 0) return 0;
  if (wait_for_writer(state) < 0) return -1;
  pthread_mutex_lock(&state->mutex);
  state->job_buffer = state->current;
  state->job_offset = state->buffer_offset;
  state->job_length = state->buffer_length;
  state->job_pending = 1;
  pthread_cond_broadcast(&state->changed);
  pthread_mutex_unlock(&state->mutex);
  state->current ^= 1;
  state->buffer_offset += state->buffer_length;
  state->buffer_length = 0;
  return 0;
}

/* Writes at the current position: into the buffer when the bytes continue or overwrite it,
   else after handing it off (directly when they would not fit anyway). */
static zip_int64_t write_output(output_state *state, const unsigned char *data, zip_uint64_t length) {
  zip_uint64_t start = state->position;
  int inside = start >= state->buffer_offset && start <= state->buffer_offset + state->buffer_length &&
               start + length <= state->buffer_offset + state->capacity;
  if (!inside) {
    if (flush_output(state) < 0) return -1;
    if (length >= state->capacity) {
      if (wait_for_writer(state) < 0) return -1;
      int failure = pwrite_fully(state->fd, data, (size_t)length, start);
      if (failure != 0) {
        zip_error_set(&state->error, ZIP_ER_WRITE, failure);
        return -1;
      }
      state->buffer_offset = start + length;
    } else {
      state->buffer_offset = start;
    }
  }
  if (inside || length < state->capacity) {
    size_t at = (size_t)(start - state->buffer_offset);
    memcpy(state->buffers[state->current] + at, data, (size_t)length);
    if (at + length > state->buffer_length) state->buffer_length = at + (size_t)length;
  }
  state->position = start + length;
  if (state->position > state->length) state->length = state->position;
  return (zip_int64_t)length;
}

static zip_int64_t output_callback(void *userdata, void *data, zip_uint64_t length, zip_source_cmd_t command) {
  output_state *state = userdata;
  switch (command) {
  case ZIP_SOURCE_SUPPORTS:
    return zip_source_make_command_bitmap(
        ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
        ZIP_SOURCE_SEEK, ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS, ZIP_SOURCE_BEGIN_WRITE, ZIP_SOURCE_WRITE,
        ZIP_SOURCE_COMMIT_WRITE, ZIP_SOURCE_ROLLBACK_WRITE, ZIP_SOURCE_SEEK_WRITE, ZIP_SOURCE_TELL_WRITE,
        ZIP_SOURCE_REMOVE, -1);
  case ZIP_SOURCE_STAT:
    /* The archive does not exist yet: libzip then starts a new one. */
    zip_error_set(&state->error, ZIP_ER_READ, ENOENT);
    return -1;
  case ZIP_SOURCE_OPEN:
  case ZIP_SOURCE_CLOSE:
  case ZIP_SOURCE_READ:
  case ZIP_SOURCE_SEEK:
  case ZIP_SOURCE_TELL:
    return 0; /* never asked of a new archive */
  case ZIP_SOURCE_BEGIN_WRITE:
    state->buffer_offset = state->position = state->length = 0;
    state->buffer_length = 0;
    state->stopping = 0;
    state->write_errno = 0;
    if (!state->writer_running) {
      int failure = pthread_create(&state->writer, NULL, writer_main, state);
      if (failure != 0) {
        zip_error_set(&state->error, ZIP_ER_INTERNAL, failure);
        return -1;
      }
      state->writer_running = 1;
    }
    return 0;
  case ZIP_SOURCE_WRITE:
    return write_output(state, data, length);
  case ZIP_SOURCE_SEEK_WRITE: {
    zip_int64_t offset = zip_source_seek_compute_offset(state->position, state->length, data, length, &state->error);
    if (offset < 0) return -1;
    state->position = (zip_uint64_t)offset;
    return 0;
  }
  case ZIP_SOURCE_TELL_WRITE:
    return (zip_int64_t)state->position;
  case ZIP_SOURCE_COMMIT_WRITE: {
    int result = flush_output(state) < 0 || wait_for_writer(state) < 0 ? -1 : 0;
    stop_writer(state);
    return result;
  }
  case ZIP_SOURCE_ROLLBACK_WRITE:
    stop_writer(state);
    state->buffer_length = 0;
    return 0;
  case ZIP_SOURCE_REMOVE:
    return 0; /* the caller owns the file */
  case ZIP_SOURCE_ERROR:
    return zip_error_to_data(&state->error, data, length);
  case ZIP_SOURCE_FREE:
    stop_writer(state);
    pthread_mutex_destroy(&state->mutex);
    pthread_cond_destroy(&state->changed);
    zip_error_fini(&state->error);
    free(state->buffers[0]);
    free(state->buffers[1]);
    free(state);
    return 0;
  default:
    zip_error_set(&state->error, ZIP_ER_OPNOTSUPP, 0);
    return -1;
  }
}

zip_source_t *tp_zip_output_source(int fd, size_t buffer_size, zip_error_t *error) {
  output_state *state = calloc(1, sizeof *state);
  if (state == NULL || (state->buffers[0] = malloc(buffer_size)) == NULL ||
      (state->buffers[1] = malloc(buffer_size)) == NULL) {
    if (state != NULL) free(state->buffers[0]);
    free(state);
    zip_error_set(error, ZIP_ER_MEMORY, 0);
    return NULL;
  }
  state->fd = fd;
  state->capacity = buffer_size;
  pthread_mutex_init(&state->mutex, NULL);
  pthread_cond_init(&state->changed, NULL);
  zip_error_init(&state->error);
  zip_source_t *source = zip_source_function_create(output_callback, state, error);
  if (source == NULL) {
    pthread_mutex_destroy(&state->mutex);
    pthread_cond_destroy(&state->changed);
    free(state->buffers[0]);
    free(state->buffers[1]);
    free(state);
  }
  return source;
}

/* ---- input ----------------------------------------------------------------------------- */

typedef struct {
  char *path;
  zip_uint64_t size;
  size_t capacity;
  int fd;
  unsigned char *buffer;
  size_t buffered;
  size_t consumed;
  zip_uint64_t delivered;
  zip_error_t error;
  tp_zip_failure *failure;
} input_state;

static zip_int64_t fail_input(input_state *state, int zip_error, int system_error, int changed) {
  zip_error_set(&state->error, zip_error, system_error);
  if (state->failure != NULL && state->failure->path[0] == 0) {
    strncpy(state->failure->path, state->path, sizeof state->failure->path - 1);
    state->failure->changed = changed;
  }
  return -1;
}

static int refill(input_state *state) {
  if (tp_interruption_signal() != 0) return (int)fail_input(state, ZIP_ER_READ, EINTR, 0);
  for (;;) {
    ssize_t count = read(state->fd, state->buffer, state->capacity);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) return (int)fail_input(state, ZIP_ER_READ, errno, 0);
    state->buffered = (size_t)count;
    state->consumed = 0;
    return 0;
  }
}

static zip_int64_t input_callback(void *userdata, void *data, zip_uint64_t length, zip_source_cmd_t command) {
  input_state *state = userdata;
  switch (command) {
  case ZIP_SOURCE_SUPPORTS:
    return zip_source_make_command_bitmap(
        ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
        ZIP_SOURCE_SUPPORTS, -1);
  case ZIP_SOURCE_OPEN:
    state->fd = open(state->path, O_RDONLY | O_CLOEXEC);
    if (state->fd < 0) return fail_input(state, ZIP_ER_OPEN, errno, 0);
    posix_fadvise(state->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if ((state->buffer = malloc(state->capacity)) == NULL) {
      close(state->fd);
      state->fd = -1;
      zip_error_set(&state->error, ZIP_ER_MEMORY, 0);
      return -1;
    }
    state->buffered = state->consumed = 0;
    state->delivered = 0;
    return 0;
  case ZIP_SOURCE_READ: {
    zip_uint64_t copied = 0;
    unsigned char *out = data;
    while (copied < length) {
      if (state->consumed == state->buffered) {
        if (refill(state) < 0) return -1;
        if (state->buffered == 0) break;
      }
      size_t chunk = state->buffered - state->consumed;
      if (chunk > length - copied) chunk = (size_t)(length - copied);
      memcpy(out + copied, state->buffer + state->consumed, chunk);
      state->consumed += chunk;
      copied += chunk;
    }
    state->delivered += copied;
    if (state->delivered > state->size || (copied == 0 && state->delivered != state->size))
      return fail_input(state, ZIP_ER_READ, EIO, 1);
    return (zip_int64_t)copied;
  }
  case ZIP_SOURCE_CLOSE:
    if (state->fd >= 0) close(state->fd);
    state->fd = -1;
    free(state->buffer);
    state->buffer = NULL;
    return 0;
  case ZIP_SOURCE_STAT: {
    zip_stat_t *stat = data;
    zip_stat_init(stat);
    stat->size = state->size;
    stat->comp_size = state->size;
    stat->comp_method = ZIP_CM_STORE;
    stat->valid = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    return (zip_int64_t)sizeof(*stat);
  }
  case ZIP_SOURCE_ERROR:
    return zip_error_to_data(&state->error, data, length);
  case ZIP_SOURCE_FREE:
    if (state->fd >= 0) close(state->fd);
    free(state->buffer);
    free(state->path);
    zip_error_fini(&state->error);
    free(state);
    return 0;
  default:
    zip_error_set(&state->error, ZIP_ER_OPNOTSUPP, 0);
    return -1;
  }
}

zip_source_t *tp_zip_file_source(zip_t *archive, const char *path, zip_uint64_t size, size_t buffer_size,
                                 tp_zip_failure *failure) {
  input_state *state = calloc(1, sizeof *state);
  if (state == NULL || (state->path = strdup(path)) == NULL) {
    free(state);
    zip_error_set(zip_get_error(archive), ZIP_ER_MEMORY, 0);
    return NULL;
  }
  state->size = size;
  state->capacity = buffer_size;
  state->fd = -1;
  state->failure = failure;
  zip_error_init(&state->error);
  zip_source_t *source = zip_source_function(archive, input_callback, state);
  if (source == NULL) {
    free(state->path);
    free(state);
  }
  return source;
}

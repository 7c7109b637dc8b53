#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "line_reader.h"

int line_reader_open(line_reader *reader, FILE *file, size_t max_line)
{
    memset(reader, 0, sizeof(*reader));
    reader->file = file;
    reader->max_line = max_line;
    reader->buffer = malloc(max_line + 1);
    return reader->buffer ? 0 : -1;
}

void line_reader_close(line_reader *reader)
{
    free(reader->buffer);
    reader->buffer = NULL;
}

/* Moves unread bytes to the front and reads more; 0 on progress, -1 on EOF
 * or error (reader->eof / reader->read_error tell which). */
static int refill(line_reader *reader)
{
    if (reader->eof) return -1;
    if (reader->start > 0) {
        memmove(reader->buffer, reader->buffer + reader->start, reader->end - reader->start);
        reader->end -= reader->start;
        reader->start = 0;
    }
    size_t room = reader->max_line + 1 - reader->end;
    /* read(2), not fread: fread waits until it has the whole megabyte, so
     * orders piped in one at a time (`tail -f orders | orderflow-producer -`)
     * would wait for the next megabyte or the end of the input. */
    int fd = fileno(reader->file);
    ssize_t got;
    if (fd >= 0) {
        do
            got = read(fd, reader->buffer + reader->end, room);
        while (got < 0 && errno == EINTR);
    } else {
        errno = 0;
        got = (ssize_t)fread(reader->buffer + reader->end, 1, room, reader->file);
        if (got == 0 && ferror(reader->file)) got = -1;
    }
    if (got <= 0) {
        reader->eof = 1;
        if (got < 0) reader->read_error = errno ? errno : EIO;
        return -1;
    }
    reader->end += (size_t)got;
    return 0;
}

line_status line_reader_next(line_reader *reader, const char **line, size_t *len)
{
    size_t scanned = 0;
    for (;;) {
        char *begin = reader->buffer + reader->start;
        size_t avail = reader->end - reader->start;
        char *newline = memchr(begin + scanned, '\n', avail - scanned);
        if (newline) {
            reader->line_number++;
            *line = begin;
            *len = (size_t)(newline - begin);
            reader->start += *len + 1;
            return *len > reader->max_line ? LINE_TOO_LONG : LINE_OK;
        }
        scanned = avail;
        if (avail > reader->max_line) {
            /* Discard through the end of this overlong line. */
            reader->line_number++;
            reader->start = reader->end = 0;
            for (;;) {
                if (refill(reader) != 0) return reader->read_error ? LINE_ERROR : LINE_TOO_LONG;
                char *nl = memchr(reader->buffer, '\n', reader->end);
                if (nl) {
                    reader->start = (size_t)(nl - reader->buffer) + 1;
                    return LINE_TOO_LONG;
                }
                reader->start = reader->end = 0;
            }
        }
        if (refill(reader) != 0) {
            if (reader->read_error) return LINE_ERROR;
            if (reader->end == reader->start) return LINE_EOF;
            /* A last line without a newline still counts. */
            reader->line_number++;
            *line = reader->buffer + reader->start;
            *len = reader->end - reader->start;
            reader->start = reader->end;
            return LINE_OK;
        }
        /* refill moved the data to the front: the scanned prefix is still scanned. */
    }
}

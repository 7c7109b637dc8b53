/* Bounded line reading: a line longer than the limit is reported and skipped,
 * never buffered whole, so hostile input cannot grow memory. */
#ifndef OF_PRODUCER_LINE_READER_H
#define OF_PRODUCER_LINE_READER_H

#include <stddef.h>
#include <stdio.h>

typedef struct line_reader {
    FILE *file;   /* read through its descriptor: what a pipe has is read at once */
    char *buffer; /* max_line + 1 bytes */
    size_t max_line;
    size_t start, end; /* unread bytes are buffer[start, end) */
    int eof;
    int read_error;                 /* after LINE_ERROR: the errno value of the failed read */
    unsigned long long line_number; /* of the line last returned */
} line_reader;

typedef enum line_status {
    LINE_OK,       /* *line and *len: the line without its newline */
    LINE_TOO_LONG, /* the line exceeded max_line bytes and was skipped */
    LINE_EOF,
    LINE_ERROR, /* read error: reader->read_error says which */
} line_status;

int line_reader_open(line_reader *reader, FILE *file, size_t max_line);
void line_reader_close(line_reader *reader);
line_status line_reader_next(line_reader *reader, const char **line, size_t *len);

#endif

/* try-handler: runs a handler plugin on order_created envelopes without
 * Kafka, through the same public calls the processor makes
 * (<orderflow/handler.h>, "the host's side"), and prints one line per
 * call: the verdict, then the data (emit, reject) or the reason (dead_letter,
 * retry, or a fault of the output, which the processor would dead-letter).
 *
 *   try-handler ./tax.so EUR=19 < envelopes.jsonl
 *   emit	{"order_id":"A-1",...,"tax_cents":760,"total_with_tax_cents":4758}
 *
 * A retry is answered by calling again with the next attempt number, up
 * to three attempts. Exit: 0, 64 usage, 66 unreadable input, 78 the plugin
 * does not load or open. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <orderflow/envelope.h>
#include <orderflow/handler.h>

#define MAX_ATTEMPTS 3

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: try-handler PLUGIN.so [KEY=VALUE...] < ENVELOPES\n");
        return EX_USAGE;
    }
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "try-handler: %s: cannot load: %s\n", argv[1], dlerror());
        return EX_CONFIG;
    }
    void *symbol = dlsym(library, OF_HANDLER_ENTRY_SYMBOL);
    if (!symbol) {
        fprintf(stderr, "try-handler: %s: no entry symbol %s\n", argv[1], OF_HANDLER_ENTRY_SYMBOL);
        return EX_CONFIG;
    }
    of_handler_entry_fn *entry;
    memcpy(&entry, &symbol, sizeof(entry));
    const of_handler *h = entry();
    if (!h || h->abi_version != OF_HANDLER_ABI_VERSION) {
        fprintf(stderr, "try-handler: %s: not built for handler ABI version %u\n", argv[1],
                OF_HANDLER_ABI_VERSION);
        return EX_CONFIG;
    }

    /* KEY=VALUE arguments as the handler's settings. */
    size_t count = (size_t)argc - 2;
    const char **keys = calloc(count + 1, sizeof(*keys));
    const char **values = calloc(count + 1, sizeof(*values));
    if (!keys || !values) return EX_OSERR;
    for (size_t i = 0; i < count; i++) {
        char *arg = argv[i + 2], *eq = strchr(arg, '=');
        if (!eq) {
            fprintf(stderr, "try-handler: %s: expected KEY=VALUE\n", arg);
            return EX_USAGE;
        }
        *eq = '\0';
        keys[i] = arg;
        values[i] = eq + 1;
    }
    of_handler_config config = {keys, values, count};
    void *state = NULL;
    char err[512] = "";
    if (h->open && h->open(&config, &state, err, sizeof(err)) != 0) {
        fprintf(stderr, "try-handler: %s (%s %s): open failed: %s\n", argv[1], h->name, h->version,
                err);
        return EX_CONFIG;
    }

    of_limits limits;
    of_limits_init(&limits);
    of_decoder *decoder = of_decoder_new(&limits);
    of_handler_output *out = of_handler_output_new(0, &limits);
    if (!decoder || !out) return EX_OSERR;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t offset = 0;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        of_event ev;
        if (of_decode_event(decoder, line, (size_t)len, &ev, err, sizeof(err)) != OF_OK) {
            printf("undecodable\t%s\n", err);
            offset++;
            continue;
        }
        for (unsigned attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            of_handler_event input = {&ev, {line, (size_t)len}, attempt, 0, offset};
            of_handler_output_reset(out, &ev);
            of_handler_verdict verdict = h->handle(state, &input, out);
            const char *data;
            size_t data_len;
            const of_processed *processed;
            if (of_handler_output_finish(out, verdict, &data, &data_len, &processed, err,
                                         sizeof(err)) != 0) {
                printf("fault\thandler %s: %s\n", h->name, err);
                break;
            }
            if (verdict == OF_HANDLER_EMIT || verdict == OF_HANDLER_REJECT) {
                printf("%s\t%.*s\n", of_handler_verdict_name(verdict), (int)data_len, data);
                break;
            }
            of_str reason = of_handler_output_reason(out);
            printf("%s\t%.*s", of_handler_verdict_name(verdict), (int)reason.len, reason.ptr);
            if (verdict == OF_HANDLER_RETRY)
                printf(" (attempt %u, delay %u ms)", attempt, of_handler_output_retry_delay(out));
            printf("\n");
            if (verdict != OF_HANDLER_RETRY) break;
        }
        offset++;
    }
    free(line);
    of_handler_output_free(out);
    of_decoder_free(decoder);
    if (h->close) h->close(state);
    free(keys);
    free(values);
    dlclose(library);
    return ferror(stdin) ? EX_NOINPUT : EX_OK;
}

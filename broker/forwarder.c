#include "forwarder.h"

#include "cli/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Kafka requests and responses can be larger than a buffer: the relay just
 * streams them through, so the size only bounds memory per connection
 * (2 buffers each) and the bytes moved per system call. */
#define FWD_BUF_BYTES (64 * 1024)
/* Each connection costs two descriptors and 128 KiB; clients normally keep
 * only their bootstrap connection here, so this is generous. */
#define FWD_MAX_CONNS 1024
/* When accept() fails for lack of descriptors or memory, the listener stays
 * readable; polling it again at once would spin, so accepting pauses. */
#define FWD_ACCEPT_PAUSE_MS 100
#define FWD_LISTEN_BACKLOG 128

enum { SIDE_CLIENT = 0, SIDE_UPSTREAM = 1 };

static const char *const side_name[2] = {"client", "broker"};

typedef struct fwd_buf {
    size_t start, end; /* bytes not yet written on are data[start..end) */
    int eof;           /* the source sent FIN: nothing more will be added */
    char data[FWD_BUF_BYTES];
} fwd_buf;

typedef struct fwd_conn {
    int fd[2];
    int connecting; /* the upstream non-blocking connect() has not completed */
    int shut[2];    /* fd[i]'s write side is shut: the direction towards i is done */
    int dead;
    int report;   /* log the close even without -v: the relay itself is broken */
    char why[96]; /* why it is closed */
    unsigned long id;
    unsigned long long bytes[2]; /* bytes read from each side */
    char peer[INET_ADDRSTRLEN + 8];
    fwd_buf buf[2]; /* buf[i]: read from fd[i], to be written to fd[!i] */
} fwd_conn;

struct broker_forwarder {
    int listen_fd;
    uint16_t port;
    struct sockaddr_in upstream;
    int have_upstream;
    int verbose;

    volatile sig_atomic_t *stop;
    const sigset_t *wait_mask;
    pthread_t thread;
    int started;
    int error; /* errno that ended the relay thread; read after the join */

    fwd_conn **conns;
    size_t nconns;
    unsigned long next_id;
    struct pollfd *pfds; /* [0] listener, then two per connection */
    int accept_paused;
    int accept_failing;            /* said so once; quiet until accept works again */
    struct timespec accept_resume; /* CLOCK_MONOTONIC */
};

int broker_forwarder_listen(broker_forwarder **out, uint16_t port, int verbose)
{
    *out = NULL;

    broker_forwarder *fwd = calloc(1, sizeof(*fwd));
    if (!fwd) return ENOMEM;
    fwd->listen_fd = -1;
    fwd->verbose = verbose;
    fwd->conns = calloc(FWD_MAX_CONNS, sizeof(*fwd->conns));
    fwd->pfds = calloc(1 + 2 * (size_t)FWD_MAX_CONNS, sizeof(*fwd->pfds));
    if (!fwd->conns || !fwd->pfds) {
        broker_forwarder_finish(fwd);
        return ENOMEM;
    }

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        broker_forwarder_finish(fwd);
        return err;
    }
    fwd->listen_fd = fd;

    /* A restarted broker must get its port back even while connections of
     * the previous run linger in TIME_WAIT. On Linux this does not allow two
     * live listeners on one port, so "already in use" is still detected. */
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) {
        int err = errno;
        broker_forwarder_finish(fwd);
        return err;
    }

    /* Loopback only: this broker has no authentication and keeps anything
     * anyone sends it, so it must not be reachable from other hosts. */
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(port),
                               .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)}};
    socklen_t addrlen = sizeof(addr);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(fd, FWD_LISTEN_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &addrlen) != 0) {
        int err = errno;
        broker_forwarder_finish(fwd);
        return err;
    }
    fwd->port = ntohs(addr.sin_port);

    *out = fwd;
    return 0;
}

uint16_t broker_forwarder_port(const broker_forwarder *fwd)
{
    return fwd->port;
}

int broker_forwarder_set_upstream(broker_forwarder *fwd, const char *host_port, char *err,
                                  size_t errlen)
{
    /* rd_kafka_mock_cluster_bootstraps() gives "127.0.0.1:PORT[,...]"; with
     * one broker there is one entry, but take the first to be safe. */
    size_t len = strcspn(host_port, ",");
    const char *colon = NULL;
    for (size_t i = 0; i < len; i++)
        if (host_port[i] == ':') colon = host_port + i;
    if (!colon || colon == host_port || (size_t)(colon - host_port) >= INET_ADDRSTRLEN) {
        snprintf(err, errlen, "mock broker address '%.*s' is not IPv4:PORT", (int)len, host_port);
        return -1;
    }

    char host[INET_ADDRSTRLEN];
    memcpy(host, host_port, (size_t)(colon - host_port));
    host[colon - host_port] = '\0';

    char *end = NULL;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    struct in_addr in;
    if (inet_pton(AF_INET, host, &in) != 1 || errno != 0 || end == colon + 1 ||
        end != host_port + len || port < 1 || port > 65535) {
        snprintf(err, errlen, "mock broker address '%.*s' is not IPv4:PORT", (int)len, host_port);
        return -1;
    }

    memset(&fwd->upstream, 0, sizeof(fwd->upstream));
    fwd->upstream.sin_family = AF_INET;
    fwd->upstream.sin_port = htons((uint16_t)port);
    fwd->upstream.sin_addr = in;
    fwd->have_upstream = 1;
    return 0;
}

static void conn_fail(fwd_conn *c, const char *what, int err)
{
    if (c->dead) return;
    c->dead = 1;
    if (err)
        snprintf(c->why, sizeof(c->why), "%s: %s", what, strerror(err));
    else
        snprintf(c->why, sizeof(c->why), "%s", what);
}

static void set_nodelay(int fd)
{
    /* Kafka clients pipeline small requests and wait for the responses;
     * Nagle's algorithm would hold back each small segment for up to one
     * round trip. Failure only costs latency, so it is not fatal. */
    int on = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

/* Takes ownership of client_fd. Returns 0 or an errno value. */
static int conn_open(broker_forwarder *fwd, int client_fd, const struct sockaddr_in *peer)
{
    fwd_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(client_fd);
        return ENOMEM;
    }
    c->fd[SIDE_CLIENT] = client_fd;
    c->fd[SIDE_UPSTREAM] = -1;
    c->id = ++fwd->next_id;
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &peer->sin_addr, ip, sizeof(ip));
    snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, (unsigned)ntohs(peer->sin_port));
    set_nodelay(client_fd);

    int ufd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ufd < 0) {
        int err = errno;
        close(client_fd);
        free(c);
        return err;
    }
    c->fd[SIDE_UPSTREAM] = ufd;
    set_nodelay(ufd);

    /* Non-blocking, so that a slow connect can never stall the other
     * connections; the mock is on loopback, so it normally completes at once
     * or within the next poll. */
    if (connect(ufd, (const struct sockaddr *)&fwd->upstream, sizeof(fwd->upstream)) == 0) {
        c->connecting = 0;
    } else if (errno == EINPROGRESS) {
        c->connecting = 1;
    } else {
        int err = errno;
        close(ufd);
        close(client_fd);
        free(c);
        return err;
    }

    fwd->conns[fwd->nconns++] = c;
    if (fwd->verbose) ofc_warn("relay: connection #%lu from %s accepted", c->id, c->peer);
    return 0;
}

static void conn_close(broker_forwarder *fwd, fwd_conn *c)
{
    if (fwd->verbose || c->report)
        ofc_warn("relay: connection #%lu from %s closed (%s; %llu bytes from client, "
                 "%llu bytes from broker)",
                 c->id, c->peer, c->why[0] ? c->why : "relay stopped", c->bytes[SIDE_CLIENT],
                 c->bytes[SIDE_UPSTREAM]);
    for (int side = 0; side < 2; side++)
        if (c->fd[side] >= 0) close(c->fd[side]);
    free(c);
}

static short want_events(const fwd_conn *c, int side)
{
    if (side == SIDE_UPSTREAM && c->connecting) return POLLOUT;

    short ev = 0;
    const fwd_buf *from = &c->buf[side];
    const fwd_buf *to = &c->buf[!side];
    if (!from->eof && from->end - from->start < sizeof(from->data)) ev |= POLLIN;
    if (to->end > to->start && !(side == SIDE_CLIENT && c->connecting)) ev |= POLLOUT;
    return ev;
}

static void relay_read(fwd_conn *c, int side)
{
    fwd_buf *b = &c->buf[side];
    if (b->start == b->end) {
        b->start = b->end = 0;
    } else if (b->end == sizeof(b->data)) {
        memmove(b->data, b->data + b->start, b->end - b->start);
        b->end -= b->start;
        b->start = 0;
    }

    ssize_t n = recv(c->fd[side], b->data + b->end, sizeof(b->data) - b->end, 0);
    if (n > 0) {
        b->end += (size_t)n;
        c->bytes[side] += (unsigned long long)n;
    } else if (n == 0) {
        b->eof = 1;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        char what[32];
        snprintf(what, sizeof(what), "read from %s", side_name[side]);
        conn_fail(c, what, errno);
    }
}

/* Writes what is buffered for side `to`. Trying without waiting for POLLOUT
 * saves a poll round per request; EAGAIN just means "wait for POLLOUT". */
static void relay_write(fwd_conn *c, int to)
{
    fwd_buf *b = &c->buf[!to];
    while (b->start < b->end) {
        ssize_t n = send(c->fd[to], b->data + b->start, b->end - b->start, MSG_NOSIGNAL);
        if (n > 0) {
            b->start += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                char what[32];
                snprintf(what, sizeof(what), "write to %s", side_name[to]);
                conn_fail(c, what, errno);
            }
            return;
        }
    }
}

static void conn_service(fwd_conn *c, const short revents[2])
{
    for (int side = 0; side < 2; side++) {
        if (revents[side] & POLLNVAL) {
            conn_fail(c, "descriptor became invalid", 0);
            return;
        }
    }

    if (c->connecting) {
        if (!(revents[SIDE_UPSTREAM] & (POLLOUT | POLLERR | POLLHUP))) {
            /* Still connecting; the client's first request waits in its buffer. */
            if (revents[SIDE_CLIENT] & (POLLIN | POLLHUP | POLLERR)) relay_read(c, SIDE_CLIENT);
            return;
        }
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(c->fd[SIDE_UPSTREAM], SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
            soerr = errno;
        if (soerr) {
            conn_fail(c, "cannot connect to the mock broker", soerr);
            c->report = 1;
            return;
        }
        c->connecting = 0;
    }

    for (int side = 0; side < 2 && !c->dead; side++) {
        /* POLLHUP/POLLERR count as readable: recv() then reports EOF or the
         * error, which is how the connection learns it is over. */
        if ((revents[side] & (POLLIN | POLLHUP | POLLERR)) && (want_events(c, side) & POLLIN))
            relay_read(c, side);
    }
    for (int to = 0; to < 2 && !c->dead; to++)
        relay_write(c, to);
    if (c->dead) return;

    /* Pass a half-close on once everything before it has been delivered: a
     * peer that shut its write side still gets the replies. */
    for (int from = 0; from < 2; from++) {
        fwd_buf *b = &c->buf[from];
        if (b->eof && b->start == b->end && !c->shut[!from]) {
            if (shutdown(c->fd[!from], SHUT_WR) != 0 && errno != ENOTCONN) {
                char what[40];
                snprintf(what, sizeof(what), "shut down writing to %s", side_name[!from]);
                conn_fail(c, what, errno);
                return;
            }
            c->shut[!from] = 1;
        }
    }
    if (c->shut[SIDE_CLIENT] && c->shut[SIDE_UPSTREAM]) conn_fail(c, "both sides closed", 0);
}

static void pause_accepting(broker_forwarder *fwd, int err)
{
    /* Once per episode: retrying every 100 ms must not flood the log. */
    if (!fwd->accept_failing)
        ofc_warn("relay: cannot accept connections: %s (retrying every %d ms; clients "
                 "wait in the backlog)",
                 strerror(err), FWD_ACCEPT_PAUSE_MS);
    fwd->accept_failing = 1;
    fwd->accept_paused = 1;
    clock_gettime(CLOCK_MONOTONIC, &fwd->accept_resume);
    fwd->accept_resume.tv_nsec += FWD_ACCEPT_PAUSE_MS * 1000000L;
    if (fwd->accept_resume.tv_nsec >= 1000000000L) {
        fwd->accept_resume.tv_sec += 1;
        fwd->accept_resume.tv_nsec -= 1000000000L;
    }
}

static void accept_new(broker_forwarder *fwd)
{
    while (fwd->nconns < FWD_MAX_CONNS) {
        struct sockaddr_in peer;
        socklen_t peerlen = sizeof(peer);
        memset(&peer, 0, sizeof(peer));
        int fd = accept4(fwd->listen_fd, (struct sockaddr *)&peer, &peerlen,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EAGAIN:
#if EWOULDBLOCK != EAGAIN
            case EWOULDBLOCK:
#endif
                return;
            /* The pending connection went away, or (Linux) a network error
             * on it: that one is lost, the next may be fine. */
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
            case ENETDOWN:
            case ENOPROTOOPT:
            case EHOSTDOWN:
            case ENONET:
            case EHOSTUNREACH:
            case ENETUNREACH:
            case EPERM:
                continue;
            default:
                /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the listener stays
                 * readable, so back off instead of spinning. */
                pause_accepting(fwd, errno);
                return;
            }
        }
        int err = conn_open(fwd, fd, &peer);
        if (fwd->accept_failing && err == 0) {
            ofc_warn("relay: accepting connections again");
            fwd->accept_failing = 0;
        }
        if (err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS) {
            pause_accepting(fwd, err);
            return;
        }
        if (err) {
            /* The mock broker refused: every later connection would fail
             * the same way, but the client gets a clean close and retries. */
            ofc_warn("relay: cannot connect to the mock broker: %s", strerror(err));
        }
    }
}

/* Milliseconds until accepting resumes, 0 if it may resume now. */
static long accept_pause_left_ms(const broker_forwarder *fwd)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (long)(fwd->accept_resume.tv_sec - now.tv_sec) * 1000 +
              (fwd->accept_resume.tv_nsec - now.tv_nsec) / 1000000L;
    return ms > 0 ? ms : 0;
}

static void *relay_main(void *arg)
{
    broker_forwarder *fwd = arg;

    while (!*fwd->stop) {
        struct timespec timeout, *tsp = NULL;
        if (fwd->accept_paused) {
            long ms = accept_pause_left_ms(fwd);
            if (ms == 0) {
                fwd->accept_paused = 0;
            } else {
                timeout.tv_sec = ms / 1000;
                timeout.tv_nsec = (ms % 1000) * 1000000L;
                tsp = &timeout;
            }
        }

        /* A negative fd makes poll() skip the entry entirely, so a side we
         * want nothing from cannot wake us with POLLHUP over and over. */
        int accepting = !fwd->accept_paused && fwd->nconns < FWD_MAX_CONNS;
        fwd->pfds[0].fd = accepting ? fwd->listen_fd : -1;
        fwd->pfds[0].events = POLLIN;
        fwd->pfds[0].revents = 0;
        size_t polled = fwd->nconns;
        for (size_t i = 0; i < polled; i++) {
            for (int side = 0; side < 2; side++) {
                struct pollfd *p = &fwd->pfds[1 + 2 * i + (size_t)side];
                p->events = want_events(fwd->conns[i], side);
                p->fd = p->events ? fwd->conns[i]->fd[side] : -1;
                p->revents = 0;
            }
        }

        if (ppoll(fwd->pfds, 1 + 2 * polled, tsp, fwd->wait_mask) < 0) {
            if (errno == EINTR) continue; /* a signal: the loop test sees *stop */
            fwd->error = errno;
            ofc_warn("relay: poll failed: %s", strerror(errno));
            break;
        }

        for (size_t i = 0; i < polled; i++) {
            const short revents[2] = {fwd->pfds[1 + 2 * i].revents, fwd->pfds[2 + 2 * i].revents};
            if (revents[0] || revents[1]) conn_service(fwd->conns[i], revents);
        }

        /* Reap closed connections; order does not matter, so fill the gap
         * with the last entry. */
        for (size_t i = 0; i < fwd->nconns;) {
            if (fwd->conns[i]->dead) {
                conn_close(fwd, fwd->conns[i]);
                fwd->conns[i] = fwd->conns[--fwd->nconns];
            } else {
                i++;
            }
        }

        if (fwd->pfds[0].revents & (POLLERR | POLLNVAL)) {
            int soerr = 0;
            socklen_t len = sizeof(soerr);
            if (getsockopt(fwd->listen_fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || !soerr)
                soerr = EIO;
            fwd->error = soerr;
            ofc_warn("relay: listening socket failed: %s", strerror(soerr));
            break;
        }
        if (fwd->pfds[0].revents & POLLIN) accept_new(fwd);
    }

    while (fwd->nconns > 0)
        conn_close(fwd, fwd->conns[--fwd->nconns]);
    return NULL;
}

int broker_forwarder_start(broker_forwarder *fwd, volatile sig_atomic_t *stop,
                           const sigset_t *wait_mask)
{
    if (!fwd->have_upstream) return EINVAL;
    fwd->stop = stop;
    fwd->wait_mask = wait_mask;
    int err = pthread_create(&fwd->thread, NULL, relay_main, fwd);
    if (err) return err;
    fwd->started = 1;
    return 0;
}

int broker_forwarder_finish(broker_forwarder *fwd)
{
    if (!fwd) return 0;
    int err = 0;
    if (fwd->started) {
        pthread_join(fwd->thread, NULL);
        err = fwd->error;
    }
    /* The thread closed the connections on its way out; the listener
     * stays open until here so that nobody else can take the port early. */
    if (fwd->listen_fd >= 0) close(fwd->listen_fd);
    free(fwd->conns);
    free(fwd->pfds);
    free(fwd);
    return err;
}

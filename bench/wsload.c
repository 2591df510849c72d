/* wsload.c - the benchmark's JSON-RPC 2.0 over WebSocket load generator.
 *
 * Written in C so that the client is never the bottleneck: one thread, epoll,
 * no allocation per call.  `python -m bench` compiles it at run time
 * (cc -O2) and reads the one JSON line it prints.
 *
 * Closed loop:  C connections, each keeping N requests in flight; a reply
 *               sends the next request.  Latency is recorded per call after a
 *               warm-up; the run stops after --secs.
 * Burst:        --burst K sends K requests at once on one connection and
 *               waits for every reply (zome-hammer); bounded by --timeout.
 *
 * The request is --body with every "@ID@" replaced by the call's id.  A reply
 * counts as bad when it carries a JSON-RPC "error" member, or lacks the
 * --expect text.  The id of a reply is the last "id": member of its frame
 * (servers put it last; results may hold other "id" keys).
 *
 * With --server-pid the server's CPU time over exactly the measured window is
 * read from /proc, and so is the CPU everything else used (other_cpu_pct),
 * to spot a noisy machine.  Host is always 127.0.0.1.
 *
 *   wsload --port P --conns 8 --inflight 8 --secs 2 --warm 0.5 --body '{"jsonrpc":"2.0","id":@ID@,...}'
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RING (1u << 22) /* send times, indexed by id modulo RING */
#define MAX_BODY 60000

typedef struct {
  int fd, want_out;
  char *in; size_t in_len, in_cap;
  char *out; size_t out_off, out_len, out_cap;
} conn_t;

static double *sent_at, *lat;
static size_t n_lat, lat_cap;
static long next_id = 1, good = 0, bad = 0, replies = 0;
static int recording = 0, stopping = 0, epfd;
static const char *body_tpl = "{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"method\":\"info/instances\",\"params\":{}}";
static const char *expect = NULL;

static void die(const char *what) { fprintf(stderr, "wsload: %s: %s\n", what, strerror(errno)); exit(2); }
static void fail(const char *what) { fprintf(stderr, "wsload: %s\n", what); exit(2); }

static double now_s(void) {
  struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void reserve(char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return;
  size_t n = *cap ? *cap : 65536;
  while (n < need) n *= 2;
  if (!(*buf = realloc(*buf, n))) fail("out of memory");
  *cap = n;
}

/* ---- requests ---------------------------------------------------------- */

static size_t render(char *dst, long id) {
  char num[24]; int nl = snprintf(num, sizeof num, "%ld", id);
  size_t n = 0;
  for (const char *p = body_tpl; *p;) {
    if (!strncmp(p, "@ID@", 4)) { memcpy(dst + n, num, nl); n += nl; p += 4; }
    else dst[n++] = *p++;
    if (n > MAX_BODY) fail("request body too long");
  }
  return n;
}

static void queue_request(conn_t *c) {
  static char payload[MAX_BODY + 32];
  long id = next_id++;
  size_t n = render(payload, id);
  reserve(&c->out, &c->out_cap, c->out_len + n + 8);
  unsigned char *h = (unsigned char *)c->out + c->out_len;
  size_t hl;
  h[0] = 0x81; /* FIN, text */
  if (n < 126) { h[1] = 0x80 | n; hl = 2; }
  else { h[1] = 0x80 | 126; h[2] = n >> 8; h[3] = n & 255; hl = 4; }
  memset(h + hl, 0, 4); /* mask key 0: valid framing, no XOR work */
  hl += 4;
  memcpy(h + hl, payload, n);
  c->out_len += hl + n;
  sent_at[id & (RING - 1)] = now_s();
}

static void flush_out(conn_t *c) {
  while (c->out_off < c->out_len) {
    ssize_t k = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (k < 0) { if (errno == EAGAIN) break; die("write"); }
    c->out_off += k;
  }
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  int want = c->out_len > 0;
  if (want != c->want_out) {
    struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c };
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev)) die("epoll_ctl");
    c->want_out = want;
  }
}

/* ---- replies ----------------------------------------------------------- */

static long reply_id(const char *p, size_t len) {
  for (size_t i = len; i >= 5; i--) {
    const char *q = p + i - 5;
    if (!memcmp(q, "\"id\":", 5)) {
      const char *s = q + 5, *end = p + len;
      while (s < end && *s == ' ') s++;
      if (s < end && *s >= '0' && *s <= '9') return strtol(s, NULL, 10);
      return -1;
    }
  }
  return -1;
}

static void on_reply(conn_t *c, const char *p, size_t len, double t) {
  /* frames the server pushes on its own (signals, InstanceStats) are not replies */
  if (!memmem(p, len, "\"jsonrpc\"", 9)) return;
  long id = reply_id(p, len);
  int ok = id > 0 && !memmem(p, len, "\"error\":", 8) && (!expect || memmem(p, len, expect, strlen(expect)));
  replies++;
  if (recording) {
    if (ok) good++; else bad++;
    if (id > 0) {
      if (n_lat == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 1 << 20;
        if (!(lat = realloc(lat, lat_cap * sizeof *lat))) fail("out of memory");
      }
      lat[n_lat++] = t - sent_at[id & (RING - 1)];
    }
  }
  if (!stopping) queue_request(c);
}

static void on_readable(conn_t *c) {
  for (;;) {
    reserve(&c->in, &c->in_cap, c->in_len + 65536);
    ssize_t k = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (k == 0) fail("server closed the connection");
    if (k < 0) { if (errno == EAGAIN) break; die("read"); }
    c->in_len += k;
  }
  size_t off = 0; double t = now_s();
  while (c->in_len - off >= 2) {
    unsigned char *b = (unsigned char *)c->in + off;
    size_t len = b[1] & 0x7f, hl = 2;
    if (len == 126) { if (c->in_len - off < 4) break; len = (b[2] << 8) | b[3]; hl = 4; }
    else if (len == 127) {
      if (c->in_len - off < 10) break;
      len = 0; for (int i = 2; i < 10; i++) len = (len << 8) | b[i];
      hl = 10;
    }
    if (b[1] & 0x80) hl += 4; /* servers do not mask, but be lenient */
    if (c->in_len - off < hl + len) break;
    int op = b[0] & 0x0f;
    if (op == 1 || op == 2) on_reply(c, (char *)b + hl, len, t);
    else if (op == 8) fail("server sent a close frame");
    off += hl + len;
  }
  memmove(c->in, c->in + off, c->in_len - off);
  c->in_len -= off;
  flush_out(c);
}

/* ---- CPU accounting ---------------------------------------------------- */

static double self_cpu(void) {
  struct rusage u; getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static double one_proc_cpu(int pid);

static double proc_cpu(int pid) { /* utime + stime of a process and of its children (the SQLite writer), seconds */
  if (pid <= 0) return 0;
  double total = one_proc_cpu(pid);
  if (total < 0) return total;
  char dir[64]; snprintf(dir, sizeof dir, "/proc/%d/task", pid);
  DIR *d = opendir(dir); if (!d) return total;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[128]; snprintf(path, sizeof path, "/proc/%d/task/%s/children", pid, e->d_name);
    FILE *f = fopen(path, "r"); if (!f) continue;
    int child;
    while (fscanf(f, "%d", &child) == 1) { double c = one_proc_cpu(child); if (c > 0) total += c; }
    fclose(f);
  }
  closedir(d);
  return total;
}

static double one_proc_cpu(int pid) {
  char path[64], buf[2048]; snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r"); if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f); fclose(f); buf[n] = 0;
  char *p = strrchr(buf, ')'); if (!p) return -1;
  unsigned long ut = 0, st = 0;
  /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
  return (ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void machine_cpu(double *busy, double *steal) { /* all CPUs, seconds */
  unsigned long long v[10] = {0};
  FILE *f = fopen("/proc/stat", "r"); if (!f) { *busy = *steal = 0; return; }
  if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8) v[0] = 0;
  fclose(f);
  double hz = sysconf(_SC_CLK_TCK);
  *busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / hz; /* user nice system irq softirq */
  *steal = v[7] / hz;
}

/* ---- main -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(double q) {
  if (!n_lat) return -1;
  size_t i = (size_t)(q * n_lat);
  return lat[i < n_lat ? i : n_lat - 1] * 1e3;
}

static void connect_ws(conn_t *c, int port) {
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  int one = 1;
  if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) die("socket");
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa)) die("connect");
  char req[256];
  int n = snprintf(req, sizeof req,
                   "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", port);
  if (write(c->fd, req, n) != n) die("handshake");
  char h[8192]; size_t hl = 0; char *end = NULL;
  while (!end) {
    ssize_t k = read(c->fd, h + hl, sizeof h - hl - 1);
    if (k <= 0) fail("handshake: no answer");
    hl += k; h[hl] = 0;
    end = strstr(h, "\r\n\r\n");
    if (!end && hl >= sizeof h - 1) fail("handshake: answer too long");
  }
  if (strncmp(h, "HTTP/1.1 101", 12)) { fprintf(stderr, "wsload: handshake refused: %.200s\n", h); exit(2); }
  size_t extra = hl - (end + 4 - h);
  reserve(&c->in, &c->in_cap, 65536 + extra);
  memcpy(c->in, end + 4, extra); c->in_len = extra;
  fcntl(c->fd, F_SETFL, O_NONBLOCK);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev)) die("epoll_ctl");
}

int main(int argc, char **argv) {
  int port = 0, conns = 1, inflight = 1, server_pid = 0; long burst = 0;
  double secs = 2, warm = 0.5, timeout = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--conns")) conns = atoi(v);
    else if (!strcmp(k, "--inflight")) inflight = atoi(v);
    else if (!strcmp(k, "--secs")) secs = atof(v);
    else if (!strcmp(k, "--warm")) warm = atof(v);
    else if (!strcmp(k, "--body")) body_tpl = v;
    else if (!strcmp(k, "--expect")) expect = v;
    else if (!strcmp(k, "--server-pid")) server_pid = atoi(v);
    else if (!strcmp(k, "--burst")) burst = atol(v);
    else if (!strcmp(k, "--timeout")) timeout = atof(v);
    else { fprintf(stderr, "wsload: unknown option %s\n", k); return 2; }
  }
  if (port <= 0 || conns < 1 || inflight < 1 || secs <= 0 || burst < 0 || burst >= RING / 2) fail("bad arguments");
  if (burst) { conns = 1; inflight = (int)burst; warm = 0; }
  if (timeout <= 0) timeout = warm + secs + 30;
  if (!(sent_at = calloc(RING, sizeof *sent_at))) fail("out of memory");

  epfd = epoll_create1(0);
  conn_t *cs = calloc(conns, sizeof *cs);
  for (int i = 0; i < conns; i++) connect_ws(&cs[i], port);

  double start = now_s(), t0 = start, t_end = 0, cpu0 = 0, srv0 = 0, busy0 = 0, steal0 = 0;
  if (burst) { /* record everything from the first request */
    recording = 1; stopping = 1;
    cpu0 = self_cpu(); srv0 = proc_cpu(server_pid); machine_cpu(&busy0, &steal0);
    t0 = now_s();
  }
  for (int i = 0; i < conns; i++) { for (int j = 0; j < inflight; j++) queue_request(&cs[i]); flush_out(&cs[i]); }

  struct epoll_event evs[64];
  int timed_out = 0;
  for (;;) {
    int n = epoll_wait(epfd, evs, 64, 10);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c); else flush_out(c);
    }
    double t = now_s();
    if (burst) {
      if (replies >= burst) break;
      if (t - start >= timeout) { timed_out = 1; break; }
      continue;
    }
    if (!recording && t - start >= warm) {
      recording = 1; t0 = t;
      cpu0 = self_cpu(); srv0 = proc_cpu(server_pid); machine_cpu(&busy0, &steal0);
    }
    if (recording && t - t0 >= secs) break;
    if (t - start >= timeout) { timed_out = 1; break; }
  }
  t_end = now_s();
  double el = t_end - t0, cli = self_cpu() - cpu0, srv = server_pid ? proc_cpu(server_pid) - srv0 : 0, busy1, steal1;
  machine_cpu(&busy1, &steal1);
  double other = (busy1 - busy0) - cli - srv;
  long calls = good + bad;
  qsort(lat, n_lat, sizeof *lat, cmp_double);
  printf("{\"mode\":\"%s\",\"conns\":%d,\"inflight\":%d,\"calls\":%ld,\"ok\":%ld,\"bad\":%ld,\"timed_out\":%s,"
         "\"secs\":%.4f,\"cps\":%.1f,\"p50_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,\"p999_ms\":%.4f,\"max_ms\":%.4f,"
         "\"client_cpu_pct\":%.1f,\"server_cpu_pct\":%.1f,\"server_us_per_call\":%.2f,\"other_cpu_pct\":%.1f,\"steal_pct\":%.1f}\n",
         burst ? "burst" : "closed", conns, inflight, calls, good, bad, timed_out ? "true" : "false",
         el, calls / el, quantile(0.5), quantile(0.9), quantile(0.99), quantile(0.999),
         n_lat ? lat[n_lat - 1] * 1e3 : -1,
         100 * cli / el, server_pid ? 100 * srv / el : -1, server_pid && calls ? 1e6 * srv / calls : -1,
         other > 0 ? 100 * other / el : 0, 100 * (steal1 - steal0) / el);
  return timed_out ? 3 : 0;
}

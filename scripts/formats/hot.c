/* Small C programs with one known bottleneck each, recorded by record-fixtures with perf record -g.
 * Usage: hot strlen|write [seconds]
 *   strlen: upcase_slowly() calls strlen() in its loop condition on a string it writes to: O(n^2).
 *   write:  write_unbuffered() makes one write(2) per 16-byte record to /dev/null: time goes to the kernel.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static size_t upcase_slowly(char *s) {
    size_t i;
    for (i = 0; i < strlen(s); i++) s[i] = (char)toupper((unsigned char)s[i]);
    return i;
}

__attribute__((noinline)) static size_t write_unbuffered(int fd, int records) {
    char record[16] = "0123456789abcde\n";
    size_t n = 0;
    for (int i = 0; i < records; i++) n += (size_t)write(fd, record, sizeof record);
    return n;
}

__attribute__((noinline)) static size_t run(const char *kind) {
    if (strcmp(kind, "strlen") == 0) {
        size_t len = 20000;
        char *s = malloc(len + 1);
        for (size_t i = 0; i < len; i++) s[i] = "abcdefgh "[i % 9];
        s[len] = 0;
        size_t n = upcase_slowly(s);
        free(s);
        return n;
    }
    if (strcmp(kind, "write") == 0) {
        int fd = open("/dev/null", O_WRONLY);
        size_t n = write_unbuffered(fd, 20000);
        close(fd);
        return n;
    }
    fprintf(stderr, "unknown program %s: strlen or write\n", kind);
    exit(2);
}

int main(int argc, char **argv) {
    const char *kind = argc > 1 ? argv[1] : "strlen";
    double seconds = argc > 2 ? atof(argv[2]) : 1.0;
    double deadline = now() + seconds;
    size_t total = 0;
    int rounds = 0;
    while (now() < deadline) {
        total += run(kind);
        rounds++;
    }
    fprintf(stderr, "%s: %d rounds (%zu)\n", kind, rounds, total);
    return 0;
}

/*
 * Tributary testkit: a launcher for librdkafka's mock cluster.
 *
 * librdkafka ships a multi-broker Kafka-protocol server for its own tests
 * (rdkafka_mock.h). This program starts one on loopback and exposes its fault
 * injection API as a line protocol on stdin/stdout, so the TypeScript side of
 * the testkit can drive it without a native addon.
 *
 * Protocol (one command per line, one reply line per command, in order):
 *   startup:  "ready <librdkafka-version> <broker-count> <bootstrap-servers>"
 *   command:  "<verb> <arg> ..."  (arguments separated by single spaces)
 *   reply:    "ok[ <data>]"  or  "error <message>"
 *
 * The process exits when stdin reaches end-of-file (the parent went away or
 * called stop()), and asks the kernel to signal it when its parent dies, so a
 * crashed test run never leaves a cluster behind.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "rdkafka.h"
#include "rdkafka_mock.h"

#define MAX_LINE (64 * 1024)
#define MAX_ARGS 1024

static rd_kafka_mock_cluster_t *mcluster;

static void reply_err(rd_kafka_resp_err_t err) {
        if (err)
                printf("error %s (%d)\n", rd_kafka_err2name(err), (int)err);
        else
                printf("ok\n");
}

/* Parses a base-10 integer argument; returns 0 and sets *ok=0 on failure. */
static long long num(const char *s, int *ok) {
        char *end;
        long long v;
        if (!s) {
                *ok = 0;
                return 0;
        }
        errno = 0;
        v     = strtoll(s, &end, 10);
        if (errno || *end || end == s)
                *ok = 0;
        return v;
}

static void handle(int argc, char **argv) {
        const char *verb = argv[0];
        int ok           = 1;

#define NEED(n)                                                                \
        do {                                                                   \
                if (argc != (n) + 1) {                                         \
                        printf("error %s takes %d argument(s), got %d\n",      \
                               verb, (n), argc - 1);                           \
                        return;                                                \
                }                                                              \
        } while (0)
#define BADNUM()                                                               \
        do {                                                                   \
                if (!ok) {                                                     \
                        printf("error %s: arguments must be integers\n",       \
                               verb);                                          \
                        return;                                                \
                }                                                              \
        } while (0)

        if (!strcmp(verb, "ping")) {
                NEED(0);
                printf("ok pong\n");

        } else if (!strcmp(verb, "bootstraps")) {
                NEED(0);
                printf("ok %s\n", rd_kafka_mock_cluster_bootstraps(mcluster));

        } else if (!strcmp(verb, "create-topic")) {
                long long parts, rf;
                NEED(3);
                parts = num(argv[2], &ok);
                rf    = num(argv[3], &ok);
                BADNUM();
                reply_err(rd_kafka_mock_topic_create(mcluster, argv[1],
                                                     (int)parts, (int)rf));

        } else if (!strcmp(verb, "broker-down") || !strcmp(verb, "broker-up")) {
                long long id;
                NEED(1);
                id = num(argv[1], &ok);
                BADNUM();
                reply_err(verb[7] == 'd'
                              ? rd_kafka_mock_broker_set_down(mcluster,
                                                              (int32_t)id)
                              : rd_kafka_mock_broker_set_up(mcluster,
                                                            (int32_t)id));

        } else if (!strcmp(verb, "broker-rtt")) {
                long long id, ms;
                NEED(2);
                id = num(argv[1], &ok);
                ms = num(argv[2], &ok);
                BADNUM();
                reply_err(rd_kafka_mock_broker_set_rtt(mcluster, (int32_t)id,
                                                       (int)ms));

        } else if (!strcmp(verb, "push-errors")) {
                /* push-errors <apiKey> <err> [<err> ...] */
                rd_kafka_resp_err_t errs[MAX_ARGS];
                long long key;
                int i;
                if (argc < 3) {
                        printf("error push-errors takes an api key and at "
                               "least one error code\n");
                        return;
                }
                key = num(argv[1], &ok);
                for (i = 2; i < argc; i++)
                        errs[i - 2] = (rd_kafka_resp_err_t)num(argv[i], &ok);
                BADNUM();
                rd_kafka_mock_push_request_errors_array(
                    mcluster, (int16_t)key, (size_t)(argc - 2), errs);
                printf("ok\n");

        } else if (!strcmp(verb, "broker-push-errors")) {
                /* broker-push-errors <brokerId> <apiKey> <err> <rttMs> ... */
                long long id, key;
                int i;
                if (argc < 5 || (argc - 3) % 2) {
                        printf("error broker-push-errors takes a broker id, "
                               "an api key and error/rtt pairs\n");
                        return;
                }
                id  = num(argv[1], &ok);
                key = num(argv[2], &ok);
                for (i = 3; i < argc; i++)
                        (void)num(argv[i], &ok);
                BADNUM();
                /* The C API is variadic; one pair per call appends in order. */
                for (i = 3; i < argc; i += 2) {
                        rd_kafka_resp_err_t err =
                            rd_kafka_mock_broker_push_request_error_rtts(
                                mcluster, (int32_t)id, (int16_t)key, 1,
                                (rd_kafka_resp_err_t)num(argv[i], &ok),
                                (int)num(argv[i + 1], &ok));
                        if (err) {
                                reply_err(err);
                                return;
                        }
                }
                printf("ok\n");

        } else if (!strcmp(verb, "clear-errors")) {
                long long key;
                NEED(1);
                key = num(argv[1], &ok);
                BADNUM();
                rd_kafka_mock_clear_request_errors(mcluster, (int16_t)key);
                printf("ok\n");

        } else if (!strcmp(verb, "topic-error")) {
                long long err;
                NEED(2);
                err = num(argv[2], &ok);
                BADNUM();
                rd_kafka_mock_topic_set_error(mcluster, argv[1],
                                              (rd_kafka_resp_err_t)err);
                printf("ok\n");

        } else if (!strcmp(verb, "partition-leader")) {
                long long part, id;
                NEED(3);
                part = num(argv[2], &ok);
                id   = num(argv[3], &ok);
                BADNUM();
                reply_err(rd_kafka_mock_partition_set_leader(
                    mcluster, argv[1], (int32_t)part, (int32_t)id));

        } else if (!strcmp(verb, "api-version")) {
                long long key, min, max;
                NEED(3);
                key = num(argv[1], &ok);
                min = num(argv[2], &ok);
                max = num(argv[3], &ok);
                BADNUM();
                reply_err(rd_kafka_mock_set_apiversion(
                    mcluster, (int16_t)key, (int16_t)min, (int16_t)max));

        } else if (!strcmp(verb, "coordinator")) {
                long long id;
                NEED(3);
                id = num(argv[3], &ok);
                BADNUM();
                reply_err(rd_kafka_mock_coordinator_set(mcluster, argv[1],
                                                        argv[2], (int32_t)id));

        } else {
                printf("error unknown command '%s'\n", verb);
        }
#undef NEED
#undef BADNUM
}

int main(int argc, char **argv) {
        static char line[MAX_LINE];
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        long brokers = 3;

        /* Die with the parent even if it is killed without closing stdin;
         * if it died before the request took effect, leave at once. */
        pid_t parent = getppid();
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
                return 1;

        if (argc > 1) {
                brokers = strtol(argv[1], NULL, 10);
                if (brokers < 1 || brokers > 64) {
                        fprintf(stderr, "broker count must be 1..64\n");
                        return 2;
                }
        }

        conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "log_level", "3", errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s\n", errstr);
                return 2;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new failed: %s\n", errstr);
                return 2;
        }

        mcluster = rd_kafka_mock_cluster_new(rk, (int)brokers);
        if (!mcluster) {
                fprintf(stderr, "rd_kafka_mock_cluster_new failed\n");
                return 2;
        }

        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("ready %s %ld %s\n", rd_kafka_version_str(), brokers,
               rd_kafka_mock_cluster_bootstraps(mcluster));

        while (fgets(line, sizeof(line), stdin)) {
                char *args[MAX_ARGS];
                int n     = 0;
                char *tok = strtok(line, " \r\n");
                while (tok && n < MAX_ARGS) {
                        args[n++] = tok;
                        tok       = strtok(NULL, " \r\n");
                }
                if (n == 0) {
                        printf("error empty command\n");
                        continue;
                }
                if (tok) {
                        printf("error too many arguments\n");
                        continue;
                }
                if (!strcmp(args[0], "quit")) {
                        printf("ok bye\n");
                        break;
                }
                handle(n, args);
        }

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}

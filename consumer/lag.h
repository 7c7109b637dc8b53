/* orderflow-consumer lag: a consumer group's committed offsets, the log end
 * offsets and the lag per partition and in total (docs/operations.md,
 * "Consumer lag"). */
#ifndef OF_CONSUMER_LAG_H
#define OF_CONSUMER_LAG_H

/* argv[0] is "lag". Returns a sysexits status; 1 when --max-lag is exceeded. */
int lag_main(int argc, char **argv);

#endif

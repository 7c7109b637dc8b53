/* orderflow-consumer tail: follow a topic, once per idempotency key. */
#ifndef OF_CONSUMER_TAIL_H
#define OF_CONSUMER_TAIL_H

int tail_main(int argc, char **argv);

#endif

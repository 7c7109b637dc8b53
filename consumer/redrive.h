/* orderflow-consumer redrive: re-publishes dead letters to the topic they
 * came from once their cause is fixed (docs/operations.md, "Redriving dead
 * letters"). */
#ifndef OF_CONSUMER_REDRIVE_H
#define OF_CONSUMER_REDRIVE_H

/* argv[0] is "redrive". Returns a sysexits status; 1 when a record could not
 * be sent or was refused by the loop guard. */
int redrive_main(int argc, char **argv);

#endif

/* orderflow-consumer doctor: what a command needs from the cluster, checked
 * (docs/operations.md, "Security"). */
#ifndef OF_CONSUMER_DOCTOR_H
#define OF_CONSUMER_DOCTOR_H

/* argv[0] is "doctor". Returns the exit status: 0 every check passed, 1 some
 * failed, 64 usage, 78 configuration. */
int doctor_main(int argc, char **argv);

#endif

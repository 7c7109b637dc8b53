/* orderflow-consumer process: options and wiring of the processing stage. */
#ifndef OF_CONSUMER_PROCESS_H
#define OF_CONSUMER_PROCESS_H

int process_main(int argc, char **argv);

#endif

#ifndef ORDERFLOW_CLI_H
#define ORDERFLOW_CLI_H
#endif

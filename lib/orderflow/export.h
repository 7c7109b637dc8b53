/* What every public header shares: OF_EXPORT marks the functions
 * liborderflow exports (it is built with -fvisibility=hidden, so anything
 * without it stays inside the library), and OF_BEGIN_DECLS/OF_END_DECLS give
 * the declarations C linkage when a C++ program includes them. */
#ifndef ORDERFLOW_EXPORT_H
#define ORDERFLOW_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define OF_EXPORT __attribute__((visibility("default")))
#else
#define OF_EXPORT
#endif

#ifdef __cplusplus
#define OF_BEGIN_DECLS extern "C" {
#define OF_END_DECLS }
#else
#define OF_BEGIN_DECLS
#define OF_END_DECLS
#endif

#endif

/* Runs Check suites for the test programs: one place for the runner
 * boilerplate. Header-only, as each test program is one executable. */
#ifndef OF_TESTS_CHECK_RUN_H
#define OF_TESTS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Runs every test of suite (and frees it); returns the program's exit
 * status: EXIT_FAILURE if any test failed. */
static inline int check_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* OF_TEST=<test name> runs only that test (to repeat one while debugging):
 * 1 when OF_TEST is unset or empty or names test. */
static inline int check_selected(const TTest *test)
{
    const char *only = getenv("OF_TEST");
    return !only || !*only || strcmp(only, test->name) == 0;
}

/* tcase_add_test and tcase_add_loop_test that honour OF_TEST: suites built
 * by hand use these instead. */
static inline void check_tcase_add_test(TCase *tc, const TTest *test)
{
    if (check_selected(test)) tcase_add_test(tc, test);
}

static inline void check_tcase_add_loop_test(TCase *tc, const TTest *test, int start, int end)
{
    if (check_selected(test)) tcase_add_loop_test(tc, test, start, end);
}

/* One suite named name of the NULL-terminated tests, each with timeout_s. */
static inline int check_run_tests(const char *name, const TTest *const tests[], int timeout_s)
{
    Suite *suite = suite_create(name);
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout_s);
    for (size_t i = 0; tests[i]; i++)
        check_tcase_add_test(tc, tests[i]);
    suite_add_tcase(suite, tc);
    return check_run_suite(suite);
}

#endif

#include "../../check_run.h"
#include "helpers.h"

int main(void)
{
    return check_run_suite(of_test_suite());
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host tests' check harness: CHECK() counts every check and prints
 * the first 50 failures; main() reports checks and failures at the end.
 */
#ifndef _PUMA_HOST_CHECK_H
#define _PUMA_HOST_CHECK_H

#include <stdio.h>

static unsigned long checks, failures;

#define CHECK(cond, fmt, ...)						\
	do {								\
		checks++;						\
		if (!(cond)) {						\
			failures++;					\
			if (failures <= 50)				\
				fprintf(stderr, "FAIL %s:%d: " fmt "\n",\
					__func__, __LINE__, ##__VA_ARGS__); \
		}							\
	} while (0)

#endif /* _PUMA_HOST_CHECK_H */

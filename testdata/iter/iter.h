/* Declarations of Linux's open-coded number iterator (kernel/bpf/bpf_iter.c,
 * Linux 6.4 and later) and loop macros over it, for bpfhost's tests. The
 * installed libbpf headers predate bpf_for; these are written for bpfhost
 * and mean what libbpf's bpf_for and bpf_repeat mean: the iterator is
 * destroyed when the loop's scope ends (the cleanup attribute), and each
 * value is checked against the range again so that the verifier knows it. */
#ifndef BPFHOST_ITER_H
#define BPFHOST_ITER_H

#include <linux/types.h>

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif
#ifndef __weak
#define __weak __attribute__((weak))
#endif

struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* for_range(i, lo, hi): i takes the values lo..hi-1. Naming
 * bpf_iter_num_destroy in the initialiser makes clang emit its BTF, which
 * it omits for a function named only by a cleanup attribute. */
#define for_range(i, lo, hi)                                                     \
	for (struct bpf_iter_num __it                                            \
		     __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *__once __attribute__((unused)) =                                   \
		     ((void)bpf_iter_num_destroy,                                \
		      bpf_iter_num_new(&__it, (lo), (hi)), (void *)0);           \
	     ({                                                                  \
		     int *__v = bpf_iter_num_next(&__it);                        \
		     __v && ((i) = *__v, (i) >= (lo) && (i) < (hi));             \
	     });)

/* repeat_n(n): the body runs n times. */
#define repeat_n(n)                                                              \
	for (struct bpf_iter_num __it                                            \
		     __attribute__((aligned(8), cleanup(bpf_iter_num_destroy))), \
	     *__once __attribute__((unused)) =                                   \
		     ((void)bpf_iter_num_destroy,                                \
		      bpf_iter_num_new(&__it, 0, (n)), (void *)0);               \
	     bpf_iter_num_next(&__it);)

#endif

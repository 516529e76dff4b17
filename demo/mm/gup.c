// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Pinning user pages: the simulator's "gup" op lands here.
 */
#include <linux/mm.h>

long get_user_pages(unsigned long start, unsigned long nr_pages, unsigned int gup_flags,
		    struct page **pages)
{
	int locked = 1;

	/* fault the pages in if needed and take a reference on each */
	return __get_user_pages_locked(current->mm, start, nr_pages, pages, &locked,
				       gup_flags | FOLL_TOUCH);
}

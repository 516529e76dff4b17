// SPDX-License-Identifier: GPL-2.0-only
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Writing a page to swap (the simulator's "swap_out" op ends here after the unmap).
 */
#include <linux/swap.h>

int swap_writepage(struct page *page, struct writeback_control *wbc)
{
	struct folio *folio = page_folio(page);

	/* the page has no mappings left at this point; write it and let reclaim free it */
	__swap_writepage(folio, wbc);
	return 0;
}

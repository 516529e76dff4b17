// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * Writing a page to swap (the simulator's "swap_out" op ends here after the unmap).
 * 6.19 spelling: swap_writeout (swap_writepage before 6.16; the engine reaches it through the rename table).
 */
#include <linux/swap.h>

int swap_writeout(struct folio *folio, struct swap_iocb **plug)
{
	/* the page has no mappings left at this point; write it and let reclaim free it */
	__swap_writepage(folio, plug);
	return 0;
}

// KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE).
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 * MGLRU aging: while scanning a young PTE, peek at its neighbours and ask secondary MMUs too.
 */
#include <linux/mm.h>
#include <linux/mmu_notifier.h>

bool lru_gen_look_around(struct page_vma_mapped_walk *pvmw)
{
	unsigned long start = pvmw->address & PMD_MASK;
	unsigned long end = start + PMD_SIZE;
	bool young = false;

	/* fast-only: secondary MMUs answer only if they can do it without heavy locking */
	if (mmu_notifier_clear_young_fast_only(pvmw->vma->vm_mm, start, end))
		young = true;
	young |= walk_pte_range_young(pvmw, start, end);
	return young;
}

/* KVM MMU Lab demo workspace: a skeleton written for the extension (MIT, see LICENSE). */
/*
 * Synthetic skeleton for the KVM MMU Lab demo (not kernel source).
 */
#ifndef __LINUX_GFP_H
#define __LINUX_GFP_H

void free_pages(unsigned long addr, unsigned int order);

/* Free one page given its kernel virtual address. */
#define free_page(addr) free_pages((addr), 0)

#endif /* __LINUX_GFP_H */

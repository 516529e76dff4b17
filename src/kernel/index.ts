/** Kernel symbol index: public surface (pure; never imports vscode). */
export * from './types';
export { eraForVersion, parseMakefileVersion, ERA_TABLE, ERA_IDS, isEraId } from './version';
export { aliasesOf, ALIAS_GROUPS } from './aliases';
export { createParser, indexSource, loadCLanguage, locateWasm, Slicer, DEFAULT_MAX_BYTES } from './parser';
export type { ParseOptions } from './parser';
export { KernelIndex, INDEXED_FILES, findKernelTree, indexKernelTree, indexTreeFile, isKernelTree, readTreeVersion } from './kernel-index';
export type { IndexJson, IndexTreeOptions } from './kernel-index';

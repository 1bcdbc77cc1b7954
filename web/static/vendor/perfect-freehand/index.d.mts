// Types of index.mjs (perfect-freehand 1.2.3, from its dist/types), for
// tsc --checkJs. Written by scripts/vendor-perfect-freehand.
export * from './types/index';
export { default } from './types/index';

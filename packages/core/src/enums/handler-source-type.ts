/** Where handler descriptors come from. The runtime never branches on this. */
export const HANDLER_SOURCE_TYPES = ['bootstrap', 'contract', 'hybrid'] as const;
export type HandlerSourceType = (typeof HANDLER_SOURCE_TYPES)[number];

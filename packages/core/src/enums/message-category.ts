/** What a message is: something that happened, something to do, or a wish a reducer emits. */
export const MESSAGE_CATEGORIES = ['event', 'command', 'intent'] as const;
export type MessageCategory = (typeof MESSAGE_CATEGORIES)[number];

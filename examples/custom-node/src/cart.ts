/**
 * REDUCER node `cart`: folds cart events into the carts' state. nodes/cart.yaml routes the
 * three event types here by the payload's `payload_type` (item_added, item_removed,
 * checked_out). A checkout emits an `order.place` intent: the reducer only says what should
 * happen; an EFFECT node (or another service) does it.
 *
 * `reduce` is pure and synchronous and never changes the state it is given: it returns the
 * next one. The host keeps that state in its process memory, one per node.
 */
import { createIntent, defineReducer, InvalidOperationError, type Intent } from '@onex/core';
import { z } from 'zod';

const CartId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "-" or "_"');
const Sku = z.string().min(1).max(64);

export const CartEvent = z.discriminatedUnion('payload_type', [
  z.object({
    payload_type: z.literal('item_added'),
    cart_id: CartId,
    sku: Sku,
    price: z.number().nonnegative().multipleOf(0.01),
    quantity: z.number().int().positive().max(999).default(1),
  }),
  z.object({
    payload_type: z.literal('item_removed'),
    cart_id: CartId,
    sku: Sku,
    /** Leave out to remove the whole line. */
    quantity: z.number().int().positive().optional(),
  }),
  z.object({
    payload_type: z.literal('checked_out'),
    cart_id: CartId,
    customer_id: z.string().min(1),
  }),
]);
export type CartEvent = z.infer<typeof CartEvent>;

const CartLine = z.object({ sku: z.string(), price: z.number(), quantity: z.number().int().positive() });
const Cart = z.object({
  status: z.enum(['open', 'checked_out']),
  lines: z.array(CartLine),
  item_count: z.number().int().nonnegative(),
  subtotal: z.number().nonnegative(),
});
export const CartsState = z.object({ carts: z.record(z.string(), Cart) });
export type Cart = z.infer<typeof Cart>;
export type CartsState = z.infer<typeof CartsState>;

const EMPTY_CART: Cart = { status: 'open', lines: [], item_count: 0, subtotal: 0 };

/** A cart with its totals recomputed from its lines (in cents, see pricing.ts). */
function withLines(cart: Cart, lines: Cart['lines']): Cart {
  const cents = lines.reduce((sum, l) => sum + Math.round(l.price * 100) * l.quantity, 0);
  return { ...cart, lines, item_count: lines.reduce((n, l) => n + l.quantity, 0), subtotal: cents / 100 };
}

function apply(cart: Cart, event: CartEvent): { cart: Cart; intents: Intent[] } {
  if (cart.status === 'checked_out') {
    // A typed refusal: the caller gets INVALID_OPERATION with this message and hint (any
    // other thrown error is answered INTERNAL_ERROR). The state is left as it was.
    throw new InvalidOperationError(`Cart ${event.cart_id} is checked out`, { hint: 'Start a new cart (another cart_id).' });
  }
  switch (event.payload_type) {
    case 'item_added': {
      const existing = cart.lines.find((l) => l.sku === event.sku);
      const lines = existing
        ? cart.lines.map((l) => (l.sku === event.sku ? { ...l, price: event.price, quantity: l.quantity + event.quantity } : l))
        : [...cart.lines, { sku: event.sku, price: event.price, quantity: event.quantity }];
      return { cart: withLines(cart, lines), intents: [] };
    }
    case 'item_removed': {
      // Removing what is not there is not an error: the cart already looks as asked.
      const lines = cart.lines
        .map((l) => (l.sku === event.sku ? { ...l, quantity: event.quantity === undefined ? 0 : l.quantity - event.quantity } : l))
        .filter((l) => l.quantity > 0);
      return { cart: withLines(cart, lines), intents: [] };
    }
    case 'checked_out': {
      if (cart.lines.length === 0) throw new InvalidOperationError(`Cart ${event.cart_id} is empty`, { hint: 'Add an item before checking out.' });
      const intent = createIntent({
        target: `orders://cart/${event.cart_id}`,
        payload: {
          intent_type: 'order.place',
          cart_id: event.cart_id,
          customer_id: event.customer_id,
          lines: cart.lines,
          subtotal: cart.subtotal,
        },
      });
      return { cart: { ...cart, status: 'checked_out' }, intents: [intent] };
    }
  }
}

export const cartReducer = defineReducer<CartsState, CartEvent>({
  description: 'Shopping carts: items added and removed, checkout emits order.place',
  input: CartEvent,
  state: CartsState,
  initialState: { carts: {} },
  reduce(state, event) {
    const current = state.carts[event.payload.cart_id] ?? EMPTY_CART;
    const { cart, intents } = apply(current, event.payload);
    return { state: { carts: { ...state.carts, [event.payload.cart_id]: cart } }, intents };
  },
});
